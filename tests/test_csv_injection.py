"""CSV written for people cannot run anything (issue 19, point 5)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kpianalysis.data.dataset import write_csv


def test_csv_neutralises_every_owasp_first_character_except_plain_numbers(tmp_path: Path) -> None:
    cells = [
        "-2+3+cmd|' /C calc'!A0",  # the case: a leading '-' was written as is
        "=1+1",
        "+SUM(A1)",
        "@SUM(A1)",
        "\tx",
        "\rx",
        "-93.6",  # plain numbers keep their sign: a spreadsheet reads them as numbers
        "+1,200",
        "-",  # a sheet's "none" (the seed's baseline notes)
        "▲468人",
    ]
    path = write_csv(pd.DataFrame({"c": cells}), tmp_path / "t.csv")
    back = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, dtype=str)["c"]
    assert back.tolist() == [
        "'-2+3+cmd|' /C calc'!A0",
        "'=1+1",
        "'+SUM(A1)",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "-93.6",
        "+1,200",
        "-",
        "▲468人",
    ]
