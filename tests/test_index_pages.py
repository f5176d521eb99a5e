"""An index that scales: prefecture → municipality → programme → years, every page small."""

from __future__ import annotations

import re

from kpianalysis.report.index import INLINE_ROWS, index_pages, municipality_code


def _records(programmes: dict[str, int], years: tuple[int, ...] = (2023,)) -> list[dict]:
    """Records of two reports per programme-year for ``{municipality code: programmes}``."""
    out = []
    for code, n in programmes.items():
        for i in range(n):
            pid = f"{code}-p{i:03d}"
            for fy in years:
                for nb in ("attainment", "trends"):
                    out.append(
                        {
                            "notebook": nb,
                            "programme_id": pid,
                            "fiscal_year": fy,
                            "_html": f"{pid}/fy{fy}/{nb}.html",
                            "headline": {
                                "name_ja": f"事業{i}",
                                "name_en": f"Programme {i}",
                                "municipality_ja": {"23205": "半田市", "13101": "千代田区"}.get(
                                    code, "某市"
                                ),
                                "municipality_en": {
                                    "23205": "Handa City, Aichi",
                                    "13101": "Chiyoda",
                                }.get(code, ""),
                            },
                        }
                    )
    return out


def test_a_small_archive_keeps_one_page_with_its_places():
    pages = index_pages(_records({"23205": 1}, years=(2021, 2022, 2023)))
    # One page, and the municipality's page (the stable place a report's nav links to).
    assert list(pages) == ["index.html", "index/23205.html"]
    assert (
        '<a href="../index.html">KPI 効果検証レポート</a> › 愛知県 › 半田市'
        in pages["index/23205.html"]
    )
    page = pages["index.html"]
    assert '<p class="where">愛知県 › 半田市</p>' in page and '<h3 id="23205-p000">' in page
    assert page.count('href="23205-p000/fy') == 6 * 2  # 3 years × 2 reports, each + record


def test_a_large_archive_splits_by_prefecture_then_municipality():
    # 250 programmes in Handa (Aichi, 23) and 100 in Chiyoda (Tokyo, 13): 350 programme-years,
    # more than INLINE_ROWS (300), so the top page lists the two prefectures; Aichi's 250 fit
    # on its page, and Tokyo's 100 too.
    assert INLINE_ROWS == 300
    pages = index_pages(_records({"23205": 250, "13101": 100}))
    assert list(pages) == [
        "index.html",
        "index/13.html",
        "index/13101.html",
        "index/23.html",
        "index/23205.html",
    ]
    top = pages["index.html"]
    assert "<h3" not in top  # no programme on the top page
    assert re.findall(r'<li><a href="([^"]+)">([^<]+)</a>', top) == [
        ("index/13.html", "東京都"),
        ("index/23.html", "愛知県"),
    ]
    assert "(100事業・100事業年度)" in top and "(250事業・250事業年度)" in top
    aichi = pages["index/23.html"]
    assert aichi.count("<h3 id=") == 250 and "<h2>半田市</h2>" in aichi
    # Links from index/ go up one level to the reports and back to the top page.
    assert 'href="../23205-p000/fy2023/attainment.html"' in aichi
    assert '<a href="../index.html">' in aichi and 'href="23.en.html"' in aichi


def test_a_large_prefecture_splits_into_municipality_pages():
    # 320 programmes in Handa alone: Aichi's page lists its municipality, whose page holds them.
    pages = index_pages(_records({"23205": 320}), language="en")
    assert list(pages) == ["index.en.html", "index/23.en.html", "index/23205.en.html"]
    # The seed's English name "Handa City, Aichi" drops the prefecture its page already names.
    assert '<a href="23205.en.html">Handa City</a>' in pages["index/23.en.html"]
    handa = pages["index/23205.en.html"]
    assert handa.count("<h3 id=") == 320 and "Programme 7 (Handa City, Aichi)" in handa
    assert '<a href="../index.en.html">' in handa and '<a href="23.en.html">Aichi</a>' in handa


def test_no_page_grows_with_the_country():
    # 47 prefectures × 37 municipalities (1,739; the country has 1,741) × 3 programmes × 3
    # years: 15,651 programme-years. A prefecture holds 37 × 3 × 3 = 333 > 300 rows, so it
    # lists its municipalities, each on a page of its own.
    codes = {f"{pref:02d}{i:03d}": 3 for pref in range(1, 48) for i in range(1, 38)}
    pages = index_pages(_records(codes, years=(2021, 2022, 2023)))
    sizes = {name: len(page.encode()) for name, page in pages.items()}
    assert len(codes) == 1739 and len(pages) == 1 + 47 + 1739
    assert max(sizes.values()) < 1_000_000
    assert sizes["index.html"] < 20_000  # 47 lines and the header


def test_municipality_code_from_the_programme_id():
    assert municipality_code("23205-community") == "23205"
    assert municipality_code("012025-x") == "012025"  # six digits (with the check digit)
    assert municipality_code("2320-x") == "" and municipality_code("shoten") == ""
