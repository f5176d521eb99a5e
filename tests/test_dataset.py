"""The seed's KPI sheet as validated tidy data, its provenance, and clear errors for bad input.

Reference values are read by eye from the source document,
data/raw/23205-community/000_b0c93ac26c5b58c3.txt (Handa City FY2023 効果検証シート).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import SEED_DIR, SEED_ID, read_rows, write_rows
from kpianalysis import errors
from kpianalysis.cli import main as cli_main
from kpianalysis.data.dataset import (
    TABLE_DTYPES,
    check_provenance,
    empty_table,
    load_dataset,
    write_processed,
)
from kpianalysis.data.rawio import read_table

# (indicator, fiscal year) -> (target, actual), as printed in the sheet: 実績値（目標値）.
SEED_OBSERVATIONS = {
    (1, 2021): (6, 4),  # 累計 4団体 (累計 6団体)
    (1, 2022): (8, 7),  # 累計 7団体 (累計 8団体)
    (1, 2023): (13, 9),  # 累計 9団体 (累計 13団体) — at the very end of the file
    (2, 2021): (500, -468),  # ▲468人 (500人)
    (2, 2022): (1500, -127),  # ▲127人 (1,500人)
    (2, 2023): (3000, 83),  # 83人 (3,000人)
    (3, 2021): (40, 47),  # 47回 (40回)
    (3, 2022): (45, 56),  # 56回 (45回)
    (3, 2023): (50, 50),  # 50回 (50回)
    (4, 2021): (300, 312),  # 312人 (300人)
    (4, 2022): (400, 1019),  # 1,019人 (400人)
    (4, 2023): (500, 1341),  # 1,341人 (500人)
}


def test_seed_observations_equal_the_source_document(seed):
    obs = seed.observations.set_index(["indicator_id", "fiscal_year"])
    assert len(obs) == 12
    for (ind, fy), (target, actual) in SEED_OBSERVATIONS.items():
        assert obs.loc[(ind, fy), "target"] == target
        assert obs.loc[(ind, fy), "actual"] == actual
    assert set(seed.observations["programme_id"]) == {SEED_ID}
    assert obs.loc[(2, 2021), "actual_text"] == "▲468人"
    assert obs.loc[(4, 2022), "actual_text"] == "1,019人"


def test_seed_indicators_and_baselines(seed):
    ind = seed.indicators.set_index("indicator_id")
    assert list(ind.index) == [1, 2, 3, 4]
    assert ind.loc[1, "baseline"] == 4 and ind.loc[1, "baseline_text"] == "累計 4団体"
    assert math.isnan(ind.loc[2, "baseline"]) and ind.loc[2, "baseline_text"] == "-"
    assert math.isnan(ind.loc[3, "baseline"])
    assert ind.loc[4, "baseline"] == 225
    assert list(ind["unit"]) == ["団体", "人", "回", "人"]
    assert list(ind["kind"]) == ["cumulative", "flow", "average", "stock"]
    assert (ind["baseline_year"] == 2020).all()
    assert ind.loc[3, "sub_label_ja"] == "（1校あたりの平均回数／年）"


def test_seed_programme_finance_and_verdicts(seed):
    prog = seed.programmes.iloc[0]
    assert prog["name_ja"] == "生きがいと社会貢献を育む新地域コミュニティの構築事業"
    assert prog["municipality_code"] == "23205"
    assert (prog["plan_start"], prog["plan_end"]) == (2021, 2023)
    fin = seed.finance.iloc[0]
    assert (fin["fiscal_year"], fin["cost_yen"], fin["grant_yen"]) == (2023, 19_272_695, 9_636_346)
    assert fin["grant_rate"] == 0.5
    panel = seed.verdicts[seed.verdicts["evaluator"] == "panel"].set_index("option_no")
    assert (panel.loc[1, "votes"], panel.loc[1, "total"]) == (7, 7)
    assert (panel.loc[2, "votes"], panel.loc[2, "total"]) == (0, 7)
    assert bool(panel.loc[1, "selected"]) and not bool(panel.loc[2, "selected"])
    external = seed.verdicts[seed.verdicts["evaluator"] == "external"].iloc[0]
    assert external["option_no"] == 1
    assert external["option_ja"] == "地方版総合戦略のKPI達成に有効であった"


def test_seed_subprojects_record_layout_ambiguity(seed):
    sub = seed.subprojects
    assert len(sub) == 8
    assert set(sub["department_ja"]) == {"市民協働課", "都市計画課", "生涯学習課"}
    assert sub.loc[sub["name_ja"] == "多文化共生推進事業", "strategy_code_ja"].item() == (
        "基本目標４-施策Ⅴ-①、②"
    )
    # Two headings share slot (2) of component 2: recorded as ambiguous, not guessed away.
    slot2 = sub[(sub["component_no"] == 2) & (sub["slot"] == 2)]
    assert set(slot2["name_ja"]) == {"地域環境整備事業", "コミュニティ環境整備助成事業"}
    assert (slot2["ambiguity"] != "").all()


def test_source_document_is_byte_identical_to_the_seed():
    import hashlib

    data = (SEED_DIR / "000_b0c93ac26c5b58c3.txt").read_bytes()
    assert hashlib.sha256(data).hexdigest() == (
        "746f124d9983a31a054fbc7aae010af128dcec74350c70c1c91216f46ac6b73d"
    )


def test_every_transcribed_cell_occurs_in_the_source():
    from kpianalysis.data.dataset import SPECS

    tables = {
        key: read_table(SEED_DIR / spec.filename, spec.required, spec.optional)
        for key, spec in SPECS.items()
        if (SEED_DIR / spec.filename).exists()  # marks.csv: the seed has no marked cell
    }
    text = (SEED_DIR / "000_b0c93ac26c5b58c3.txt").read_text(encoding="utf-8")
    checked = check_provenance(tables, text, "source")
    assert checked >= 90  # every name, value, year, vote and description above
    # The check can fail: a value that is not in the document is caught.
    bad = text.replace("1,341人", "1,314人")
    with pytest.raises(errors.ProvenanceError) as exc:
        check_provenance(tables, bad, "source")
    assert "1,341人" in str(exc.value) and "row 13" in str(exc.value)


def test_as_of_keeps_the_plan_targets_and_hides_later_actuals(seed):
    fy2022 = seed.as_of(2022)
    assert fy2022.as_of_year == 2022
    obs = fy2022.observations.set_index(["indicator_id", "fiscal_year"])
    # Every target of the plan stays (fixed when the plan was approved): ① FY2023 累計 13団体.
    assert len(obs) == len(seed.observations) == 12
    assert obs.loc[(1, 2023), "target"] == 13 and obs.loc[(2, 2023), "target"] == 3000
    # No actual of a later year: FY2023's 9団体, 83人, 1,341人 are blanked, text included.
    later = obs.xs(2023, level="fiscal_year")
    assert later["actual"].isna().all() and set(later["actual_text"]) == {""}
    assert obs.loc[(1, 2022), "actual"] == 7 and obs.loc[(4, 2022), "actual_text"] == "1,019人"
    assert fy2022.finance.empty and fy2022.verdicts.empty  # recorded on the FY2023 sheet
    assert fy2022.fiscal_years == [2021, 2022]
    assert seed.as_of("令和4年度").observations.equals(fy2022.observations)
    assert seed.fiscal_years == [2021, 2022, 2023]
    # The cut of the last year changes nothing but the mark of the cut.
    assert seed.as_of(2023).observations.equals(seed.observations)


def test_as_of_shares_no_state_with_the_dataset(seed):
    # as_of copies no column it does not blank (copy-on-write): editing a cut, or cutting,
    # must still leave the dataset as loaded. ① FY2023 actual 累計 9団体, FY2023 cost
    # 19,272,695円.
    obs = seed.observations
    first_2023 = obs.index[(obs["indicator_id"] == 1) & (obs["fiscal_year"] == 2023)][0]
    seed.as_of(2022)
    assert obs.loc[first_2023, "actual"] == 9 and obs.loc[first_2023, "actual_text"] == "累計 9団体"
    last = seed.as_of(2023)
    last.observations.loc[first_2023, "actual"] = -1.0
    last.finance.loc[0, "cost_yen"] = -1.0
    assert obs.loc[first_2023, "actual"] == 9
    assert seed.finance.loc[0, "cost_yen"] == 19_272_695


def test_table_schema_is_public_and_is_what_the_loader_makes(seed):
    # TABLE_DTYPES is the schema of every loaded table; empty_table builds one with no rows.
    assert list(TABLE_DTYPES) == list(seed.tables())
    for name, df in seed.tables().items():
        assert {c: str(t) for c, t in df.dtypes.items()} == dict(TABLE_DTYPES[name])
        empty = empty_table(name)
        assert len(empty) == 0 and empty.dtypes.equals(df.dtypes)
    assert TABLE_DTYPES["observations"]["actual"] == "float64"
    assert TABLE_DTYPES["indicators"]["baseline_year"] == "Int64"
    with pytest.raises(errors.ParameterError, match="observation"):
        empty_table("observation")
    with pytest.raises(TypeError):
        TABLE_DTYPES["finance"]["cost_yen"] = "int64"  # type: ignore[index]


def test_write_processed_csv_has_bom_and_parquet_round_trips(seed, tmp_path):
    written = write_processed(seed, tmp_path)
    assert len(written) == 16  # 8 tidy tables (cell_notes the eighth), CSV and Parquet
    raw = (tmp_path / "observations.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    csv_df = pd.read_csv(tmp_path / "observations.csv", encoding="utf-8-sig")
    assert {"programme_id", "indicator_id", "fiscal_year", "target", "actual"} <= set(csv_df)
    row = csv_df[(csv_df.indicator_id == 2) & (csv_df.fiscal_year == 2021)].iloc[0]
    assert (row.target, row.actual, row.actual_text) == (500, -468, "▲468人")
    ind = pd.read_csv(tmp_path / "indicators.csv", encoding="utf-8-sig")
    assert {"programme_id", "indicator_id", "baseline"} <= set(ind)
    assert math.isnan(ind.loc[ind.indicator_id == 2, "baseline"].item())
    pq = pd.read_parquet(tmp_path / "observations.parquet")
    pd.testing.assert_frame_equal(pq, seed.observations, check_dtype=False)
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_raw_tables_are_read_in_every_accepted_encoding(raw_copy, encoding, seed):
    for name in ("observations.csv", "indicators.csv", "programme.csv"):
        path = raw_copy / SEED_ID / name
        write_rows(path, read_rows(path), encoding=encoding)
    ds = load_dataset(raw_copy)
    pd.testing.assert_frame_equal(ds.observations, seed.observations)


# ----------------------------------------------------------------------------------------------
# Bad input: one clear error naming file, row, column and text.

BAD_CELLS = [
    # table, row, column, text, error class, words the reason must contain
    # Any unit text is a label, but one indicator has one unit (② is counted in 人).
    ("observations.csv", 5, "actual", "12a", errors.UnitMismatchError, "unit 'a' differs"),
    ("observations.csv", 5, "actual", "▲468人/月", errors.UnitMismatchError, "'人/月' differs"),
    # Latin O or l typed for digits: said so, with the digits meant.
    ("observations.csv", 12, "actual", "1,O19人", errors.ValueParseError, "mistyped number"),
    ("observations.csv", 11, "target", "(3OO人)", errors.ValueParseError, "did you mean '300'"),
    ("observations.csv", 11, "actual", "3l2人", errors.ValueParseError, "Latin letter 'l'"),
    ("observations.csv", 4, "fiscal_year", "R6.5", errors.PeriodError, "plan period"),
    ("observations.csv", 3, "indicator_no", "⑤", errors.UnknownIndicatorError, "no such indicator"),
    ("observations.csv", 3, "fiscal_year", "2021年度", errors.DuplicateRowError, "row 2"),
    # A blank target is an interim year now (16.1); a ceiling on a KPI where more is better is
    # refused, naming the direction.
    ("observations.csv", 6, "target", "(1,500人以下)", errors.InvalidValueError, "ceiling"),
    ("observations.csv", 6, "target", "(1,500人未満)", errors.InvalidValueError, "strict ceiling"),
    ("observations.csv", 6, "target", "(1,500人程度)", errors.ValueParseError, "names no side"),
    # 平成31年度 = FY2019, but the row is FY2022: a deadline must be the row's year.
    ("observations.csv", 6, "target", "平成31年度まで1,500人", errors.PeriodError, "deadline"),
    ("observations.csv", 4, "fiscal_year", "2025年度", errors.PeriodError, "plan period"),
    ("observations.csv", 5, "actual", "47団体", errors.UnitMismatchError, "unit"),
    ("observations.csv", 5, "actual", "=1+1", errors.FormulaError, "formula"),
    ("observations.csv", 5, "actual", "468人 500人", errors.ValueParseError, "two"),
    ("observations.csv", 4, "fiscal_year", "令和0年度", errors.ValueParseError, ""),
    ("observations.csv", 4, "fiscal_year", "2023.5", errors.ValueParseError, ""),
    ("observations.csv", 2, "actual", "▲5団体", errors.InvalidValueError, "negative"),
    ("observations.csv", 11, "actual", "99,999,999,999人", errors.InvalidValueError, "exceeds"),
    ("observations.csv", 8, "target", "(0回)", errors.InvalidValueError, "target of 0"),
    ("observations.csv", 5, "actual", "人▲468", errors.ValueParseError, ""),
    ("observations.csv", 5, "programme_id", "99999-x", errors.UnknownProgrammeError, "unknown"),
    ("observations.csv", 8, "actual", "57回", errors.ProvenanceError, "does not occur"),
    ("observations.csv", 11, "actual", "313人", errors.ProvenanceError, "does not occur"),
    ("indicators.csv", 2, "baseline_year", "2022年度", errors.PeriodError, "baseline"),
    ("indicators.csv", 3, "kind", "flows", errors.ValueParseError, "expected one of"),
    ("indicators.csv", 5, "unit", "10人", errors.ValueParseError, "not a unit label"),
    ("finance.csv", 2, "grant", "（9,636,345円）", errors.ProvenanceError, "does not occur"),
    ("finance.csv", 2, "grant", "（30,000,000円）", errors.InvalidValueError, "exceeds the cost"),
    ("verdicts.csv", 2, "votes", "（評価委員：８名/７名中）", errors.ValueParseError, ""),
    (
        "programme.csv",
        2,
        "name_ja",
        "生きがいと社会貢献を育む新地域コミュニティ構築事業",
        errors.ProvenanceError,
        "does not occur",
    ),
    ("programme.csv", 2, "plan_end", "2020年度", errors.PeriodError, "before it starts"),
]


@pytest.mark.parametrize(
    ("table", "row", "column", "text", "cls", "words"),
    BAD_CELLS,
    ids=[f"{t}:{r}:{c}={x!r}" for t, r, c, x, *_ in BAD_CELLS],
)
def test_bad_cell_gives_one_located_error(
    raw_copy, edit_cell, table, row, column, text, cls, words, capsys
):
    path = edit_cell(table, row, column, text)
    with pytest.raises(cls) as exc:
        load_dataset(raw_copy)
    err = exc.value
    message = str(err)
    assert err.file == str(path) and str(path) in message
    assert words in message
    if cls is errors.PeriodError and column == "baseline_year":
        # The baseline is wrong relative to an observation: the error points at the baseline.
        assert (err.row, err.column) == (row, column)
    elif cls is errors.UnknownIndicatorError or cls is errors.DuplicateRowError:
        assert err.row == row and err.column in (column, "indicator_no", "fiscal_year")
    else:
        assert (err.row, err.column, err.text) == (row, column, text)
        assert f"row {row}" in message and repr(column) in message
    # The command line says the same in one line on stderr and exits non-zero.
    assert cli_main(["validate", str(raw_copy)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0]


def test_indicator_unit_is_any_label_but_one_per_indicator(raw_copy, edit_cell):
    # ④ in 匹: a label like any other, but the baseline 225人 is then in another unit.
    edit_cell("indicators.csv", 5, "unit", "匹")
    with pytest.raises(errors.UnitMismatchError) as exc:
        load_dataset(raw_copy)
    assert (exc.value.row, exc.value.column, exc.value.text) == (5, "baseline", "225人")
    assert "unit '人' differs from the indicator's unit '匹'" in exc.value.reason


def test_a_percentage_is_not_a_stock_count(raw_copy, edit_cell):
    path = edit_cell("indicators.csv", 5, "unit", "%")  # ④ is a stock
    with pytest.raises(errors.InvalidValueError) as exc:
        load_dataset(raw_copy)
    assert (exc.value.file, exc.value.row, exc.value.column) == (str(path), 5, "kind")
    assert "a percentage is not a stock count: use kind 'average'" in exc.value.reason


def test_scaled_indicator_unit_reads_unitless_values_in_it(raw_copy, edit_cell, capsys):
    # ④ declared in 千人: 0.312 (unit-less) is 312 人, 1,019人 stays 1,019 人, 1.341千人 is
    # 1,341 人; the text is kept as written. Without a source document (source_file blank)
    # nothing is checked against the sheet: validate passes and warns, naming the programme.
    edit_cell("programme.csv", 2, "source_file", "")
    edit_cell("indicators.csv", 5, "unit", "千人")
    edit_cell("observations.csv", 11, "actual", "0.312")
    edit_cell("observations.csv", 13, "actual", "1.341千人")
    ds = load_dataset(raw_copy)
    obs = ds.observations.set_index(["indicator_id", "fiscal_year"])
    assert obs.loc[(4, 2021), "actual"] == 312.0 and obs.loc[(4, 2021), "actual_text"] == "0.312"
    assert obs.loc[(4, 2022), "actual"] == 1019.0
    assert obs.loc[(4, 2023), "actual"] == 1341.0
    assert obs.loc[(4, 2023), "actual_text"] == "1.341千人"
    ind = ds.indicators.set_index("indicator_id")
    assert ind.loc[4, "unit"] == "人" and ind.loc[4, "unit_text"] == "千人"
    assert ds.unchecked_programmes == [SEED_ID]
    capsys.readouterr()
    assert cli_main(["validate", str(raw_copy)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "warning" in err[0] and repr(SEED_ID) in err[0]
    assert "not checked against a source" in err[0]


def test_seed_is_checked_against_its_source(seed, seed_raw, capsys):
    assert seed.unchecked_programmes == []
    assert cli_main(["validate", str(seed_raw)]) == 0
    assert capsys.readouterr().err == ""


def test_unknown_indicator_without_programme_rows_is_reported(raw_copy):
    path = raw_copy / SEED_ID / "observations.csv"
    rows = [r for r in read_rows(path) if r[1] != "③"]
    write_rows(path, rows)
    with pytest.raises(errors.UnknownIndicatorError, match="indicator ③ has no observations"):
        load_dataset(raw_copy)


def test_missing_column(raw_copy):
    path = raw_copy / SEED_ID / "observations.csv"
    rows = [r[:-1] for r in read_rows(path)]  # drop 'actual'
    write_rows(path, rows)
    with pytest.raises(errors.MissingColumnError) as exc:
        load_dataset(raw_copy)
    assert exc.value.column == "actual" and exc.value.row == 1
    assert "required column 'actual' is missing" in str(exc.value)


def test_misspelt_column_is_refused(raw_copy):
    path = raw_copy / SEED_ID / "observations.csv"
    rows = read_rows(path)
    rows[0][3] = "targt"
    write_rows(path, rows)
    with pytest.raises(errors.MissingColumnError, match="unknown column 'targt'"):
        load_dataset(raw_copy)


def test_wrong_encoding_names_the_row(raw_copy):
    path = raw_copy / SEED_ID / "observations.csv"
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.encode("utf-16"))
    with pytest.raises(errors.EncodingError) as exc:
        load_dataset(raw_copy)
    assert str(path) in str(exc.value)

    # Bytes that are neither UTF-8 nor CP932 (0xFF never starts a CP932 character), in row 5.
    lines = text.encode("utf-8").split(b"\n")
    lines[4] = lines[4].replace(b"468", b"\xff\xff")
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(errors.EncodingError) as exc:
        load_dataset(raw_copy)
    assert exc.value.row == 5 and "undecodable bytes ff ff" in str(exc.value)


def test_empty_file_and_header_only(raw_copy):
    path = raw_copy / SEED_ID / "observations.csv"
    path.write_bytes(b"")
    with pytest.raises(errors.EmptyFileError, match="empty"):
        load_dataset(raw_copy)
    path.write_text("programme_id,indicator_no,fiscal_year,target,actual\n", encoding="utf-8")
    with pytest.raises(errors.EmptyFileError, match="no rows"):
        load_dataset(raw_copy)


def test_unquoted_thousands_comma_splits_the_row(raw_copy):
    path = raw_copy / SEED_ID / "observations.csv"
    text = path.read_text(encoding="utf-8").replace('"1,019人"', "1,019人")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(errors.DataError, match="6 cells but the header has 5") as exc:
        load_dataset(raw_copy)
    assert exc.value.row == 12


def test_missing_required_table(raw_copy):
    (raw_copy / SEED_ID / "indicators.csv").unlink()
    with pytest.raises(errors.DataError, match=r"indicators\.csv is missing"):
        load_dataset(raw_copy)


def test_no_programme_folder(tmp_path):
    with pytest.raises(errors.DataError, match="no programme folders"):
        load_dataset(tmp_path)


def test_duplicate_programme_id_across_folders(raw_copy):
    shutil.copytree(raw_copy / SEED_ID, raw_copy / "copy")
    with pytest.raises(errors.DuplicateRowError, match="used by two folders"):
        load_dataset(raw_copy)


def test_validate_command_ok(seed_raw, capsys):
    assert cli_main(["validate", str(seed_raw)]) == 0
    out = capsys.readouterr().out
    assert "1 programme, 4 indicators, 12 observations" in out


def test_process_command_writes_processed(seed_raw, tmp_path: Path):
    assert cli_main(["process", "--raw", str(seed_raw), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "observations.csv").exists() and (tmp_path / "indicators.parquet").exists()


def test_csv_for_people_cannot_run_formulas(tmp_path):
    from kpianalysis.data.dataset import write_csv

    df = pd.DataFrame({"name": ["+SUM(A1)", "@x", "▲468人", "-"], "v": [1.0, 2.0, -3.0, 4.0]})
    path = write_csv(df, tmp_path / "t.csv")
    lines = path.read_bytes().decode("utf-8-sig").splitlines()
    assert lines[1:] == ["'+SUM(A1),1.0", "'@x,2.0", "▲468人,-3.0", "-,4.0"]


def test_list_command_names_programmes_and_indicators(seed_raw, capsys):
    assert cli_main(["list", "--raw", str(seed_raw)]) == 0
    out = capsys.readouterr().out.splitlines()
    name = "生きがいと社会貢献を育む新地域コミュニティの構築事業"
    assert out[0] == f"{SEED_ID}\t{name}\tFY2021–FY2023"
    assert out[2] == "  2\t若い世代（39歳以下）の転入者数ー転出者数\t[人]"


def _two_programmes(seed):
    """The seed and a copy of it under another id (``-b``), tables interleaved row by row."""
    import dataclasses

    tables = {}
    for name, df in seed.tables().items():
        other = df.copy()
        other["programme_id"] = other["programme_id"] + "-b"
        both = pd.concat([df, other], ignore_index=True)
        order = [i for k in range(len(df)) for i in (k, k + len(df))]
        tables[name] = both.iloc[order].reset_index(drop=True)
    return dataclasses.replace(seed, **tables)


def _slow_digests(ds, years):
    return {
        (pid, fy): part.digest()
        for fy in years
        for pid, part in ds.as_of(fy).by_programme().items()
    }


def test_programme_digests_equal_each_cut_digested(seed) -> None:
    # The one-pass digests equal those of each programme's cut, digested one by one, on the
    # shipped data and with cells the CSV must quote (comma, quote, newline, CR), empty text,
    # a missing Int64 and a plan year (2020) before every actual.
    ds = _two_programmes(seed)
    years = [2020, *ds.fiscal_years]
    assert ds.programme_digests(years) == _slow_digests(ds, years)
    obs = ds.observations.copy()
    obs["actual_text"] = obs["actual_text"].astype(object)
    obs.loc[0, "actual_text"] = 'a, "quoted"\nline'
    obs.loc[1, "target_text"] = "cr\rhere"
    obs.loc[2, "missing_reason_ja"] = ""
    progs = ds.programmes.copy()
    progs.loc[0, "sheet_fiscal_year"] = pd.NA
    awkward = ds.__class__(**{**ds.__dict__, "observations": obs, "programmes": progs})
    fast = awkward.programme_digests(years)
    assert fast == _slow_digests(awkward, years)
    assert fast != ds.programme_digests(years)


def test_programme_digests_decline_what_they_cannot_split(seed) -> None:
    # A cell holding the line mark would be quoted unlike in digest(): None, the caller digests
    # each cut itself.
    obs = seed.observations.copy()
    obs.loc[0, "missing_reason_ja"] = "mark\x1e"
    ds = seed.__class__(**{**seed.__dict__, "observations": obs})
    assert ds.programme_digests([2023]) is None
    assert seed.programme_digests([]) == {}


# --- One schema per table (issue 16.6) --------------------------------------------------------


def test_schema_documents_every_raw_column_and_its_reader():
    from kpianalysis.data import schema

    readme = (Path(__file__).resolve().parents[1] / "data" / "raw" / "README.md").read_text(
        encoding="utf-8"
    )
    for name, spec in schema.RAW_TABLES.items():
        assert f"`{spec.filename}`" in readme, name
        for column in spec.columns:
            assert column.reader in schema.READERS, (name, column.name)
            assert f"`{column.name}`" in readme, (name, column.name)
    # The loader reads exactly these: the seed's observations hold the required five plus none.
    assert schema.RAW_TABLES["observations"].required == (
        "programme_id", "indicator_no", "fiscal_year", "target", "actual"
    )  # fmt: skip
    assert "target" in schema.RAW_TABLES["observations"].transcribed
    assert "note" not in schema.RAW_TABLES["programme"].transcribed


def test_result_tables_export_the_schema_columns(seed):
    from kpianalysis.analysis.projection import trend_table
    from kpianalysis.analysis.tables import attainment_table
    from kpianalysis.data.schema import ATTAINMENT_COLUMNS, TREND_COLUMNS

    cut = seed.as_of(2022)
    assert tuple(attainment_table(cut, 2022).columns) == ATTAINMENT_COLUMNS
    assert tuple(trend_table(cut, 2022).columns) == TREND_COLUMNS
