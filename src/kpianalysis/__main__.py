from kpianalysis.cli import main

__all__: list[str] = []

raise SystemExit(main())
