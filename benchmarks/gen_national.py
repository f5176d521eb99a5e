"""Write a synthetic raw tree the size of the country, in the notation of ``data/raw``.

1,741 municipalities × 5 programmes × 4 KPIs × 10 fiscal years (FY2015–FY2024; 348,200
observations), one folder per programme with ``programme.csv``, ``indicators.csv``,
``observations.csv``, ``finance.csv`` and a source text holding every transcribed cell (so the
provenance check runs, as it does on real sheets). The text is written as partners write it:

- fiscal years as ``2019年度``, ``平成27年度``, ``H28``, ``令和元年度``, ``R3``, ``令和４年度``;
- targets in parentheses, ``累計`` on running totals, ``▲`` for negative flows, thousands
  separators, 全角 digits and commas in some sheets, ``千円``/``万円`` beside ``円`` within one
  yen indicator (mixed units), ``%`` and ``回`` with decimals;
- some indicators written as year-over-year increments (``target_form`` and ``actual_form``
  ``increment``);
- blanks: actuals not yet known (the last year of some programmes), lone ``-`` and empty cells.

Seeded: the same arguments write byte-identical files. Usage::

    python benchmarks/gen_national.py [--out benchmarks/out/national/raw] [--municipalities 1741]

``benchmarks/out/`` is git-ignored.
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "out" / "national" / "raw"

MUNICIPALITIES = 1_741
PROGRAMMES_EACH = 5
KPIS_EACH = 4
YEARS = tuple(range(2015, 2025))  # FY2015 (平成27年度) … FY2024 (令和6年度)
BASELINE_YEAR = 2014

GRANT_TYPES = ("地方創生推進タイプ", "先駆タイプ", "横展開タイプ", "Society5.0タイプ")
_FULL = str.maketrans("0123456789,", "０１２３４５６７８９，")

#: KPI templates: (name, unit, kind, direction, yen-unit variants or None, decimals).
TEMPLATES = (
    ("移住相談件数", "件", "flow", "increase", None, 0),
    ("若い世代の転入超過数", "人", "flow", "increase", None, 0),
    ("設立された団体数", "団体", "cumulative", "increase", None, 0),
    ("観光入込客数", "人", "flow", "increase", None, 0),
    ("市内事業所の売上高", "円", "flow", "increase", ("円", "千円", "万円"), 0),
    ("講座の平均開催回数", "回", "average", "increase", None, 1),
    ("登録者数", "人", "stock", "increase", None, 0),
    ("空き店舗数", "店舗", "stock", "decrease", None, 0),
    ("満足度", "%", "average", "increase", None, 1),
)


def fiscal_label(year: int, style: int) -> str:
    """A fiscal year written one of six ways (all read by ``notation.parse_fiscal_year``)."""
    reiwa = year - 2018
    heisei = year - 1988
    if style == 0:
        return f"{year}年度"
    if year >= 2019:
        n = "元" if reiwa == 1 else str(reiwa)
        return (f"令和{n}年度", f"R{reiwa}", f"令和{str(reiwa).translate(_FULL)}年度", f"R{reiwa}")[
            style % 4
        ]
    return (f"平成{heisei}年度", f"H{heisei}", f"平成{heisei}年度", f"H{heisei}")[style % 4]


def number_text(value: float, decimals: int, full_width: bool) -> str:
    """``1234567`` → ``1,234,567`` (全角 on request); negatives with ▲."""
    text = f"{abs(value):,.{decimals}f}"
    if full_width:
        text = text.translate(_FULL)
    return ("▲" if value < 0 else "") + text


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def write_tree(out: Path, municipalities: int = MUNICIPALITIES, seed: int = 2024) -> int:
    """Write the tree under ``out`` (replaced); return the number of observation rows."""
    rng = np.random.default_rng(seed)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    n_years = len(YEARS)
    n_obs = 0
    for m in range(municipalities):
        code = f"{1 + m % 47:02d}{100 + m // 47:03d}"
        city = f"架空市{m + 1:04d}"
        for p in range(PROGRAMMES_EACH):
            pid = f"{code}-p{p + 1}"
            folder = out / pid
            folder.mkdir()
            style = int(rng.integers(0, 4))  # how this sheet writes fiscal years
            full_width = rng.random() < 0.15  # 全角 digits throughout this sheet
            # Some programmes have not reported their last year yet.
            reported = n_years - int(rng.random() < 0.2)
            grant_type = GRANT_TYPES[int(rng.integers(0, len(GRANT_TYPES)))]
            name = f"{city}の地域活性化事業{p + 1}"
            transcribed: list[str] = []
            prog = [
                [
                    "programme_id", "municipality_code", "municipality_ja", "municipality_en",
                    "name_ja", "name_en", "grant_type_ja", "plan_start", "plan_end",
                    "sheet_fiscal_year", "source_file",
                ],
                [
                    pid, code, city, f"Fictional City {m + 1}", name, f"Programme {p + 1}",
                    grant_type, fiscal_label(YEARS[0], style), fiscal_label(YEARS[-1], style),
                    fiscal_label(YEARS[reported - 1], style), "source.txt",
                ],
            ]  # fmt: skip
            transcribed += prog[1][4:5] + prog[1][6:10]
            inds = [
                [
                    "programme_id", "indicator_no", "name_ja", "unit", "kind", "direction",
                    "target_form", "actual_form", "baseline_year", "baseline",
                ]
            ]  # fmt: skip
            obs = [["programme_id", "indicator_no", "fiscal_year", "target", "actual"]]
            picks = rng.choice(len(TEMPLATES), KPIS_EACH, replace=False)
            for k, t in enumerate(picks):
                kname, unit, kind, direction, yen_units, dec = TEMPLATES[int(t)]
                label = "①②③④⑤"[k]
                scale = {"円": 1e7, "%": 50.0, "回": 20.0}.get(unit, 10 ** rng.uniform(1.5, 4.5))
                base = float(np.round(scale * rng.uniform(0.5, 1.5), dec))
                sign = 1 if direction == "increase" else -1
                if unit == "%":
                    goal = min(base + 20 * rng.uniform(0.2, 1.5), 100.0)
                else:
                    goal = base * (1 + sign * rng.uniform(0.1, 0.8))
                increment = kind == "flow" and unit != "円" and rng.random() < 0.1
                net = kname == "若い世代の転入超過数"  # a net flow: may be negative (▲)
                if net:
                    base, goal = float(np.round(rng.normal(-50, 60))), float(rng.uniform(10, 200))
                step = np.arange(1, n_years + 1) / n_years
                targets = base + (goal - base) * step
                pace = rng.normal(0.85, 0.35)
                actuals = (
                    base
                    + (goal - base) * step * pace
                    + rng.normal(0, 0.05, n_years) * abs(goal - base)
                )
                if kind == "cumulative":
                    actuals = np.maximum.accumulate(np.maximum(actuals, base))
                if kind in ("cumulative", "stock") or unit not in ("%", "回"):
                    targets, actuals = np.round(targets), np.round(actuals)
                else:
                    targets, actuals = np.round(targets, dec), np.round(actuals, dec)
                if not net:
                    targets, actuals = np.maximum(targets, 1), np.maximum(actuals, 0)
                if unit == "%":
                    targets, actuals = np.minimum(targets, 100), np.minimum(actuals, 100)
                if increment:  # year-over-year increments of the levels
                    prev_t = np.concatenate([[base], targets[:-1]])
                    prev_a = np.concatenate([[base], actuals[:-1]])
                    targets, actuals = targets - prev_t, actuals - prev_a
                    kind_written = "flow"
                else:
                    kind_written = kind
                has_base = increment or rng.random() > 0.08  # increments need a baseline
                base_text = (
                    ("累計 " if kind == "cumulative" else "")
                    + number_text(base, dec, full_width)
                    + unit
                    if has_base
                    else "-"
                )
                inds.append(
                    [
                        pid, label, kname, unit, kind_written, direction,
                        "increment" if increment else "level",
                        "increment" if increment else "level",
                        fiscal_label(BASELINE_YEAR, style) if has_base else "", base_text,
                    ]
                )  # fmt: skip
                transcribed += [label, kname, inds[-1][8], base_text]
                for y, year in enumerate(YEARS):
                    u = unit
                    t_val, a_val = float(targets[y]), float(actuals[y])
                    if yen_units is not None:  # the same indicator in 円, 千円 or 万円
                        u = yen_units[(y + k) % 3]
                        div = {"円": 1, "千円": 1_000, "万円": 10_000}[u]
                        t_val, a_val = round(t_val / div) * div, round(a_val / div) * div
                        t_num, a_num = t_val / div, a_val / div
                    else:
                        t_num, a_num = t_val, a_val
                    if kind == "stock" and direction == "decrease" and t_val == 0:
                        t_num = t_val = 1.0
                    cum = "累計 " if kind == "cumulative" else ""
                    target_text = f"({cum}{number_text(t_num, dec, full_width)}{u})"
                    if y >= reported:
                        actual_text = ""
                    elif rng.random() < 0.02:
                        actual_text = "-"  # not measured that year
                    else:
                        actual_text = f"{cum}{number_text(a_num, dec, full_width)}{u}"
                    fy = fiscal_label(year, style if y % 3 else 0)  # styles mix within a sheet
                    obs.append([pid, label, fy, target_text, actual_text])
                    transcribed += [label, fy, target_text, actual_text]
                    n_obs += 1
            fin = [["programme_id", "fiscal_year", "cost", "grant", "grant_rate"]]
            for year in YEARS[:reported]:
                cost = int(rng.uniform(5e6, 8e7))
                grant = cost // 2
                in_thousands = rng.random() < 0.3
                cost_text = f"{cost // 1000:,}千円" if in_thousands else f"{cost:,}円"
                grant_text = f"{grant // 1000:,}千円" if in_thousands else f"（{grant:,}円）"
                fy = fiscal_label(year, style)
                fin.append([pid, fy, cost_text, grant_text, "1/2"])
                transcribed += [fy, cost_text, grant_text, "1/2"]
            (folder / "programme.csv").write_text(_csv(prog), encoding="utf-8")
            (folder / "indicators.csv").write_text(_csv(inds), encoding="utf-8")
            (folder / "observations.csv").write_text(_csv(obs), encoding="utf-8")
            (folder / "finance.csv").write_text(_csv(fin), encoding="utf-8")
            # The "extracted text" of the sheet: every transcribed cell, one per line.
            (folder / "source.txt").write_text("\n".join(transcribed) + "\n", encoding="utf-8")
    return n_obs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--municipalities", type=int, default=MUNICIPALITIES)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    t0 = time.perf_counter()
    n = write_tree(args.out, args.municipalities, args.seed)
    print(
        f"wrote {args.municipalities * PROGRAMMES_EACH:,} programmes, {n:,} observations "
        f"to {args.out} in {time.perf_counter() - t0:.1f} s"
    )


if __name__ == "__main__":
    main()
