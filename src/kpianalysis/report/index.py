"""The archive's index: ``reports/index.html`` (``index.en.html``) and, for a large archive,
pages by prefecture and municipality under ``reports/index/``.

Programmes are listed by prefecture → municipality → programme → fiscal years → reports, the
panel reports apart. A small archive is one page; above :data:`INLINE_ROWS` programme-years the
top page lists the prefectures, each with its page, and a large prefecture lists its
municipalities, each with its page — no page grows with the country.

Built from the run records alone (records in, HTML out), so ``kpianalysis index`` can rebuild it
at any time from what the archive holds.

Every string that reaches a page (notebook names, headline text, parameters) goes through
:func:`html.escape`; pages have UTF-8, inline CSS only, no script and the same
Content-Security-Policy as the reports, and are written atomically.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from kpianalysis.report.headline import counts_text, headline_text, panel_text, programme_label
from kpianalysis.report.labels import minus_signs
from kpianalysis.report.present import mark_japanese
from kpianalysis.report.registry import REPORTS, report_title
from kpianalysis.report.render import CSP

__all__ = [
    "CSS",
    "INDEX_DIR",
    "INLINE_ROWS",
    "JST",
    "PREFECTURES",
    "WORDS",
    "index_page_name",
    "index_pages",
    "jst",
    "municipality_code",
    "municipality_page",
    "record_href",
    "render_index",
]

CSS = """
body { font-family: "IPAexGothic", "Noto Sans CJK JP", sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.7em; text-align: left; }
th { background: #eee; }
.failed { color: #a00; }
.lang { font-size: 90%; }
/* Titles, record links and times never break inside (CJK text breaks anywhere); the headline
   column keeps room to be read. */
.report a, .report .lang, .when { white-space: nowrap; }
td.headline { min-width: 12em; }
.where { color: #555; margin-bottom: 0; }
/* A phone: each row becomes a card (year, headline, the report links, build time, commit), so
   the report links are on the screen, not to the right of it in a scrolled table. */
@media (max-width: 600px) {
  body { margin: 1em; }
  table, tbody, tr, td { display: block; }
  thead { display: none; }
  tr { border: 1px solid #bbb; border-radius: 4px; margin-bottom: .6em; padding: .3em .6em; }
  td { border: 0; padding: .1em 0; }
  td:first-child { font-weight: bold; }
  td.headline { min-width: 0; }
  .report a { white-space: normal; }
}
"""

#: Page words by language.
WORDS: dict[str, dict[str, str]] = {
    "ja": {
        "title": "KPI 効果検証レポート",
        "other": "English",
        "other_href": "index.en.html",
        "programmes": "事業別",
        "panel": "全事業（横断集計）",
        "failed": "失敗した実行",
        "none": "レポートはまだありません。",
        "fy": "年度",
        "headline": "見出し",
        "reports": "レポート",
        "built": "作成日時（日本時間）",
        "commit": "コミット",
        "record": "実行記録",
        "period": "計画期間",
        "dirty": "（未コミットの変更あり）",
        "unchecked": "［原資料との照合なし］",
        "other_place": "その他",
        "counts": "{p}事業・{y}事業年度",
    },
    "en": {
        "title": "KPI evaluation reports",
        "other": "日本語",
        "other_href": "index.html",
        "programmes": "Programmes",
        "panel": "All programmes (panel)",
        "failed": "Failed runs",
        "none": "No reports yet.",
        "fy": "Fiscal year",
        "headline": "Headline",
        "reports": "Reports",
        "built": "Built (JST)",
        "commit": "Commit",
        "record": "run record",
        "period": "Plan period",
        "dirty": " (modified)",
        "unchecked": " [transcription not checked against a source]",
        "other_place": "Other",
        "counts": "{p} programmes, {y} programme-years",
    },
}

JST = dt.timezone(dt.timedelta(hours=9), "JST")


def jst(timestamp: object) -> str:
    """An ISO timestamp as ``YYYY-MM-DD HH:MM JST`` (the text unchanged when it is not one).

    Examples
    --------
    >>> jst("2026-12-01T06:22:47+00:00")
    '2026-12-01 15:22 JST'
    >>> jst("")
    ''
    """
    try:
        t = dt.datetime.fromisoformat(str(timestamp))
    except ValueError:
        return str(timestamp or "")
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(JST).strftime("%Y-%m-%d %H:%M JST")


def record_href(report_href: str) -> str:
    """Where the run record of a report lies: beside it, ``.html`` → ``.run.json``.

    Examples
    --------
    >>> record_href("23205-community/fy2023/attainment.en.html")
    '23205-community/fy2023/attainment.en.run.json'
    """
    return report_href[: -len(".html")] + ".run.json" if report_href.endswith(".html") else ""


def _links(recs: Sequence[Mapping[str, Any]], language: str, prefix: str = "") -> str:
    """Links to the reports of one (scope, fiscal year): per notebook, each language and record."""
    e = html.escape
    w = WORDS[language]
    by_notebook: dict[str, list[Mapping[str, Any]]] = {}
    for rec in recs:
        by_notebook.setdefault(str(rec["notebook"]), []).append(rec)
    items = []
    # Registered reports in the registry's order, then any other notebook by name.
    order = {name: i for i, name in enumerate(REPORTS)}
    for name in sorted(by_notebook, key=lambda n: (order.get(n, len(order)), n)):
        # The page's own language first, then the other.
        langs = sorted(by_notebook[name], key=lambda r: str(r.get("language") or "ja") != language)
        links = []
        for r in langs:
            lang = str(r.get("language") or "ja")
            href = prefix + str(r["_html"])
            label = report_title(name, language)
            if lang != language:  # the report is in the other language: say so
                label += {"ja": "（英語版）", "en": " (Japanese)"}[language]
            links.append(
                '<span class="report">'
                f'<a href="{e(href)}" hreflang="{e(lang)}" lang="{e(lang)}">{e(label)}</a>'
                f' <span class="lang">(<a href="{e(record_href(href))}">{e(w["record"])}</a>)'
                "</span></span>"
            )
        items.append(" · ".join(links))
    return "<br>".join(items)


def _run_info(recs: Sequence[Mapping[str, Any]], language: str) -> tuple[str, str]:
    latest = max(recs, key=lambda r: str(r.get("end_time", "")))
    git = latest.get("git") or {}
    dirty = WORDS[language]["dirty"] if git.get("dirty") else ""
    return jst(latest.get("end_time", "")), str(git.get("commit") or "—")[:12] + dirty


def _year_table(
    rows: list[tuple[int, str, list[Mapping[str, Any]]]], language: str, prefix: str = ""
) -> list[str]:
    e = html.escape
    w = WORDS[language]
    out = [
        f"<table><thead><tr><th>{e(w['fy'])}</th><th>{e(w['headline'])}</th>"
        f"<th>{e(w['reports'])}</th><th>{e(w['built'])}</th><th>{e(w['commit'])}</th>"
        "</tr></thead><tbody>"
    ]
    for year, headline, recs in rows:
        run_at, commit = _run_info(recs, language)
        fy = f"{year}年度" if language == "ja" else f"FY{year}"
        out.append(
            f'<tr><td>{fy}</td><td class="headline">{e(headline)}</td>'
            f'<td>{_links(recs, language, prefix)}</td><td class="when">{e(run_at)}</td>'
            f"<td>{e(commit)}</td></tr>"
        )
    out.append("</tbody></table>")
    return out


#: Prefectures by the first two digits of the municipality code (JIS X 0401).
PREFECTURES: dict[str, tuple[str, str]] = {
    code: (ja, en)
    for code, ja, en in (
        ("01", "北海道", "Hokkaido"), ("02", "青森県", "Aomori"), ("03", "岩手県", "Iwate"),
        ("04", "宮城県", "Miyagi"), ("05", "秋田県", "Akita"), ("06", "山形県", "Yamagata"),
        ("07", "福島県", "Fukushima"), ("08", "茨城県", "Ibaraki"), ("09", "栃木県", "Tochigi"),
        ("10", "群馬県", "Gunma"), ("11", "埼玉県", "Saitama"), ("12", "千葉県", "Chiba"),
        ("13", "東京都", "Tokyo"), ("14", "神奈川県", "Kanagawa"), ("15", "新潟県", "Niigata"),
        ("16", "富山県", "Toyama"), ("17", "石川県", "Ishikawa"), ("18", "福井県", "Fukui"),
        ("19", "山梨県", "Yamanashi"), ("20", "長野県", "Nagano"), ("21", "岐阜県", "Gifu"),
        ("22", "静岡県", "Shizuoka"), ("23", "愛知県", "Aichi"), ("24", "三重県", "Mie"),
        ("25", "滋賀県", "Shiga"), ("26", "京都府", "Kyoto"), ("27", "大阪府", "Osaka"),
        ("28", "兵庫県", "Hyogo"), ("29", "奈良県", "Nara"), ("30", "和歌山県", "Wakayama"),
        ("31", "鳥取県", "Tottori"), ("32", "島根県", "Shimane"), ("33", "岡山県", "Okayama"),
        ("34", "広島県", "Hiroshima"), ("35", "山口県", "Yamaguchi"), ("36", "徳島県", "Tokushima"),
        ("37", "香川県", "Kagawa"), ("38", "愛媛県", "Ehime"), ("39", "高知県", "Kochi"),
        ("40", "福岡県", "Fukuoka"), ("41", "佐賀県", "Saga"), ("42", "長崎県", "Nagasaki"),
        ("43", "熊本県", "Kumamoto"), ("44", "大分県", "Oita"), ("45", "宮崎県", "Miyazaki"),
        ("46", "鹿児島県", "Kagoshima"), ("47", "沖縄県", "Okinawa"),
    )
}  # fmt: skip

#: Most programme-years a page lists inline; a larger archive's top page lists prefectures and a
#: larger prefecture's page its municipalities, each a page of its own, so no page grows with
#: the country (a row with its links is about 1 kB: some 300 kB at most).
INLINE_ROWS = 300

#: Where the prefecture and municipality pages live, beside ``index.html``.
INDEX_DIR = "index"

#: The page key of programmes whose id starts with no municipality code.
UNKNOWN_MUNICIPALITY = "unknown"


def municipality_code(programme_id: str) -> str:
    """The municipality code a programme id starts with (``23205-community`` → ``23205``), or
    ``""`` (the programme is then listed under "other").

    Examples
    --------
    >>> municipality_code("23205-community"), municipality_code("demo")
    ('23205', '')
    """
    m = re.match(r"(\d{5,6})(?:\D|$)", str(programme_id))
    return m.group(1) if m else ""


def municipality_page(programme_id: str, language: str) -> str:
    """The index page that lists a programme, relative to the archive (it always exists).

    Examples
    --------
    >>> municipality_page("23205-community", "ja"), municipality_page("demo", "en")
    ('index/23205.html', 'index/unknown.en.html')
    """
    return index_page_name(municipality_code(programme_id) or UNKNOWN_MUNICIPALITY, language)


def index_page_name(key: str, language: str) -> str:
    """The file of a prefecture's (``"23"``) or municipality's (``"23205"``) index page, or the
    top page's (``""``), relative to the archive.

    Examples
    --------
    >>> index_page_name("23205", "en"), index_page_name("", "ja")
    ('index/23205.en.html', 'index.html')
    """
    suffix = ".html" if language == "ja" else ".en.html"
    return f"index{suffix}" if not key else f"{INDEX_DIR}/{key or 'other'}{suffix}"


def _programme_name(info: Mapping[str, Any], pid: str, language: str) -> str:
    if language == "ja" or not info:
        return programme_label(info) if info else pid
    name = info.get("name_en") or info.get("name_ja") or pid
    where = info.get("municipality_en") or info.get("municipality_ja")
    return f"{name} ({where})" if where else str(name)


def _years_newest_first(
    recs: Sequence[Mapping[str, Any]],
) -> list[tuple[int, list[Mapping[str, Any]], Any]]:
    """(fiscal year, its records, its headline) per year, newest first; the headline is the
    first one a record of the year carries (``None``: none does)."""
    by_year: dict[int, list[Mapping[str, Any]]] = {}
    for rec in recs:
        by_year.setdefault(int(rec["fiscal_year"]), []).append(rec)
    return [
        (
            year,
            by_year[year],
            next((r["headline"] for r in by_year[year] if r.get("headline")), None),
        )
        for year in sorted(by_year, reverse=True)
    ]


def _programme_section(
    pid: str, recs: Sequence[Mapping[str, Any]], language: str, prefix: str
) -> list[str]:
    """A programme's heading, plan period and year table (fiscal years, newest first)."""
    e = html.escape
    w = WORDS[language]
    latest = max(recs, key=lambda r: int(r.get("fiscal_year", 0)))
    info = latest.get("headline") if isinstance(latest.get("headline"), Mapping) else {}
    name = _programme_name(info, pid, language)
    parts = [f'<h3 id="{e(pid)}">{mark_japanese(name) if language == "en" else e(name)}</h3>']
    period = ""
    if info.get("plan_start") is not None and info.get("plan_end") is not None:
        period = f"{w['period']} FY{info['plan_start']}–FY{info['plan_end']}, "
    parts.append(f"<p>{e(period)}ID {e(pid)}</p>")
    rows = []
    for year, year_recs, h in _years_newest_first(recs):
        evaluated = isinstance(h, Mapping) and "n_evaluated" in h
        text = counts_text(h, language) if evaluated else ""
        if isinstance(h, Mapping) and h.get("rates"):
            word = "達成率" if language == "ja" else "achievement"
            text += (
                f"（{word}: {', '.join(map(str, h['rates']))}）"
                if language == "ja"
                else (f" ({word}: {minus_signs(', '.join(map(str, h['rates'])), 'en')})")
            )
        if isinstance(h, Mapping) and h.get("source_checked") is False:
            text += w["unchecked"]
        rows.append((year, f"{name}: {text}" if text else headline_text(h), year_recs))
    return parts + _year_table(rows, language, prefix)


def _page(title: str, body: list[str], language: str, other_href: str) -> str:
    e = html.escape
    w = WORDS[language]
    other = "en" if language == "ja" else "ja"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{e(language)}">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{e(CSP)}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{e(title)}</title>",
            f"<style>{CSS}</style>",
            "</head>",
            "<body>",
            f"<h1>{e(title)}</h1>",
            f'<p><a href="{e(other_href)}" hreflang="{other}" lang="{other}">'
            f"{e(w['other'])}</a></p>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )


class _Index:
    """The pages of the index in one language, built from the records (see :func:`index_pages`)."""

    def __init__(
        self,
        records: Sequence[Mapping[str, Any]],
        failed: Sequence[Mapping[str, Any]],
        language: str,
    ) -> None:
        self.language, self.failed, self.records = language, failed, records
        self.w = WORDS[language]
        self.programmes: dict[str, list[Mapping[str, Any]]] = {}
        self.panel: list[Mapping[str, Any]] = []
        for rec in records:
            pid = rec.get("programme_id")
            (self.programmes.setdefault(str(pid), []) if pid else self.panel).append(rec)
        #: Programme-years per programme: the rows a page holds.
        self.rows = {
            pid: len({int(r["fiscal_year"]) for r in recs}) for pid, recs in self.programmes.items()
        }
        #: prefecture key → municipality key → programme ids (keys: code digits or "other").
        self.tree: dict[str, dict[str, list[str]]] = {}
        self.muni_names: dict[str, str] = {}
        for pid in sorted(self.programmes):
            code = municipality_code(pid)
            pref, muni = (code[:2], code) if code else ("other", UNKNOWN_MUNICIPALITY)
            self.tree.setdefault(pref, {}).setdefault(muni, []).append(pid)
            self.muni_names.setdefault(muni, self._municipality_name(pid, code))
        self.pages: dict[str, str] = {}

    def _municipality_name(self, pid: str, code: str) -> str:
        recs = self.programmes[pid]
        info = next((r["headline"] for r in recs if isinstance(r.get("headline"), Mapping)), {})
        ja, en = info.get("municipality_ja"), info.get("municipality_en")
        name = str((ja if self.language == "ja" else (en or ja)) or code or self.w["other_place"])
        # "Handa City, Aichi" under "Aichi": the prefecture is said once.
        pref = PREFECTURES.get(code[:2], ("", ""))[1]
        return name.removesuffix(f", {pref}") if self.language == "en" and pref else name

    def pref_name(self, pref: str) -> str:
        names = PREFECTURES.get(pref)
        return names[self.language != "ja"] if names else self.w["other_place"]

    def count(self, pids: Sequence[str]) -> int:
        return sum(self.rows[p] for p in pids)

    def text(self, value: str) -> str:
        """Escaped text; in English a Japanese name kept as written is marked ``lang="ja"``."""
        return mark_japanese(value) if self.language == "en" else html.escape(value)

    def listing(self, entries: list[tuple[str, str, Sequence[str]]]) -> list[str]:
        """``(name, href, programme ids)`` as a list of links with their counts."""
        items = "".join(
            f'<li><a href="{html.escape(href)}">{self.text(name)}</a> <span class="count">('
            f"{html.escape(self.w['counts'].format(p=len(pids), y=self.count(pids)))})</span></li>"
            for name, href, pids in entries
        )
        return [f'<ul class="places">{items}</ul>']

    def programmes_html(self, pids: Sequence[str], prefix: str) -> list[str]:
        return [
            line
            for pid in pids
            for line in _programme_section(pid, self.programmes[pid], self.language, prefix)
        ]

    def page(self, key: str, title: str, body: list[str]) -> None:
        other = "en" if self.language == "ja" else "ja"
        name = index_page_name(key, self.language)
        other_href = index_page_name(key, other).rsplit("/", 1)[-1]
        self.pages[name] = _page(title, body, self.language, other_href)

    def crumbs(self, *links: tuple[str, str]) -> str:
        """A path back up: ``(text, href)`` pairs, the last one this page (no link); a level
        without a page of its own (``href`` empty) is named without a link."""
        *ups, (here, _) = links
        parts = [
            f'<a href="{html.escape(h)}">{self.text(t)}</a>' if h else self.text(t) for t, h in ups
        ]
        return '<p class="where">' + " › ".join([*parts, self.text(here)]) + "</p>"

    def municipality(self, pref: str, muni: str) -> None:
        """A municipality's page: every archive has one, the stable place a report links to."""
        top = "../" + index_page_name("", self.language)
        pref_page = index_page_name(pref, self.language)
        # Up to the prefecture's page where the archive is large enough to have one.
        up = pref_page.rsplit("/", 1)[-1] if pref_page in self.pages else ""
        name = self.muni_names[muni]
        body = [
            self.crumbs((self.w["title"], top), (self.pref_name(pref), up), (name, "")),
            *self.programmes_html(self.tree[pref][muni], "../"),
        ]
        self.page(muni, name, body)

    def prefecture(self, pref: str) -> None:
        top = "../" + index_page_name("", self.language)
        munis = self.tree[pref]
        body = [self.crumbs((self.w["title"], top), (self.pref_name(pref), ""))]
        if self.count([p for pids in munis.values() for p in pids]) <= INLINE_ROWS:
            for muni in sorted(munis):
                body.append(f"<h2>{self.text(self.muni_names[muni])}</h2>")
                body += self.programmes_html(munis[muni], "../")
        else:
            entries = []
            for muni in sorted(munis):
                href = index_page_name(muni, self.language).rsplit("/", 1)[-1]
                entries.append((self.muni_names[muni], href, munis[muni]))
            body += self.listing(entries)
        self.page(pref, self.pref_name(pref), body)

    def top(self) -> None:
        e, w = html.escape, self.w
        body: list[str] = []
        if not self.records:
            body.append(f"<p>{e(w['none'])}</p>")
        if self.panel:
            body += [f"<h2>{e(w['panel'])}</h2>", *_panel_rows(self.panel, self.language)]
        if self.programmes:
            body.append(f"<h2>{e(w['programmes'])}</h2>")
        if self.count(list(self.programmes)) <= INLINE_ROWS:
            for pref in sorted(self.tree):
                for muni in sorted(self.tree[pref]):
                    where = f"{self.pref_name(pref)} › {self.muni_names[muni]}"
                    body.append(f'<p class="where">{self.text(where)}</p>')
                    body += self.programmes_html(self.tree[pref][muni], "")
        else:
            entries = []
            for pref in sorted(self.tree):
                href = index_page_name(pref, self.language)
                entries.append(
                    (self.pref_name(pref), href, [p for ps in self.tree[pref].values() for p in ps])
                )
                self.prefecture(pref)
            body += self.listing(entries)
        if self.failed:
            body.append(f"<h2>{e(w['failed'])}</h2><ul>")
            for rec in self.failed:
                name, year = e(str(rec.get("notebook"))), e(str(rec.get("fiscal_year")))
                if rec.get("programme_id"):
                    name = f"{e(str(rec['programme_id']))}: {name}"
                error = e(str(rec.get("error", "")))
                body.append(f'<li class="failed">{name} FY{year}: {error}</li>')
            body.append("</ul>")
        other = "en" if self.language == "ja" else "ja"
        self.pages[index_page_name("", self.language)] = _page(
            w["title"], body, self.language, index_page_name("", other)
        )
        for pref in sorted(self.tree):
            for muni in sorted(self.tree[pref]):
                self.municipality(pref, muni)


def index_pages(
    records: Sequence[Mapping[str, Any]],
    *,
    failed: Sequence[Mapping[str, Any]] = (),
    language: str = "ja",
) -> dict[str, str]:
    """Every page of the index in one language: file (relative to the archive) → HTML.

    The top page lists the panel reports, then the programmes by prefecture → municipality →
    programme → fiscal years. When they are more than :data:`INLINE_ROWS` programme-years, it
    lists the prefectures only, each with a page of its own (``index/23.html``), which in turn
    lists its municipalities, each with its page (``index/23205.html``), when it is too large
    itself: no page grows with the country.

    Examples
    --------
    >>> rec = {"notebook": "attainment", "programme_id": "23205-x", "fiscal_year": 2023,
    ...        "_html": "23205-x/fy2023/attainment.html"}
    >>> list(index_pages([rec]))
    ['index.html', 'index/23205.html']
    >>> many = [{**rec, "programme_id": f"23205-p{i}"} for i in range(INLINE_ROWS + 1)]
    >>> list(index_pages(many))
    ['index.html', 'index/23.html', 'index/23205.html']
    """
    index = _Index(records, failed, language)
    index.top()
    return dict(sorted(index.pages.items(), key=lambda kv: (kv[0].count("/"), kv[0])))


def _panel_rows(panel: Sequence[Mapping[str, Any]], language: str) -> list[str]:
    rows = []
    for year, year_recs, h in _years_newest_first(panel):
        is_panel = isinstance(h, Mapping) and h.get("panel")
        text = panel_text(h, language) if is_panel else headline_text(h)
        rows.append((year, text, year_recs))
    return _year_table(rows, language)


def render_index(
    records: Sequence[Mapping[str, Any]],
    *,
    failed: Sequence[Mapping[str, Any]] = (),
    language: str = "ja",
) -> str:
    """HTML of the index's top page (:func:`index_pages` gives every page).

    Examples
    --------
    >>> page = render_index([{"notebook": "<b>", "fiscal_year": 2023, "_html": "fy2023/x.html"}])
    >>> "&lt;b&gt;" in page and "<b>" not in page
    True
    """
    return index_pages(records, failed=failed, language=language)[index_page_name("", language)]
