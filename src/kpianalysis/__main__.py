from kpianalysis.cli import main

raise SystemExit(main())
