"""Reading raw CSV tables exactly as written, with errors that point at the cell.

Raw tables arrive typed by hand or exported from Excel, so three encodings are accepted: UTF-8,
UTF-8 with a BOM (Excel's "CSV UTF-8") and CP932 (Excel's "CSV" on Japanese Windows, a superset of
Shift_JIS). Every cell is kept as the exact string written; interpretation happens elsewhere.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from kpianalysis.errors import DataError, EmptyFileError, EncodingError, MissingColumnError

__all__ = [
    "MAX_INPUT_BYTES",
    "UTF8_BOM",
    "RawRow",
    "RawTable",
    "decode_bytes",
    "read_input",
    "read_table",
]

UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class RawRow:
    """One record of a raw table: its cells and where it came from."""

    file: str
    row: int  # as a spreadsheet counts: header = 1, first record = 2
    cells: dict[str, str]

    def error(self, cls: type[DataError], column: str, reason: str) -> DataError:
        """Build an error of class ``cls`` located at this row and ``column``."""
        return cls(reason, file=self.file, row=self.row, column=column, text=self.cells.get(column))


@dataclass(frozen=True)
class RawTable:
    """A raw CSV table: header and rows as written, plus the encoding it was read in."""

    file: str
    encoding: str
    header: tuple[str, ...]
    rows: tuple[RawRow, ...]

    def __iter__(self) -> Iterator[RawRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


#: Largest raw file read (a CSV table or a source text): a city's sheet is a few KB, and a file
#: this large is a mistake, refused before it is read (not after minutes and gigabytes).
MAX_INPUT_BYTES = 16 * 2**20


def read_input(path: Path, name: str) -> bytes:
    """The bytes of a raw file, refused by its size before reading when over the limit."""
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise DataError(
            f"the file is {size / 2**20:.1f} MiB, over the {MAX_INPUT_BYTES // 2**20} MiB a raw "
            "file may have (data/raw/README.md)",
            file=name,
        )
    return path.read_bytes()


def decode_bytes(data: bytes, file: str) -> tuple[str, str]:
    """Decode raw bytes as UTF-8 (with or without BOM) or CP932; return ``(text, encoding)``.

    UTF-8 is tried first because a CP932 file almost never decodes as UTF-8 by accident, while the
    reverse happens often. A file that is neither raises :class:`EncodingError` naming the row and
    the undecodable bytes.

    Examples
    --------
    >>> decode_bytes("人".encode("cp932"), "x.csv")
    ('人', 'cp932')
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise EncodingError(
            "the file is UTF-16 (Excel's 'Unicode text'); save it as UTF-8 (Excel: 'CSV UTF-8') "
            "or Shift_JIS",
            file=file,
            row=1,
        )
    if data.startswith(UTF8_BOM):
        try:
            return data[len(UTF8_BOM) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            _raise_encoding(data, exc.start + len(UTF8_BOM), file, "UTF-8 with BOM")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc.start
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError as exc:
        # Point at the bad bytes of the encoding the file was most likely meant to be in: the one
        # whose decoder got further before failing.
        if utf8_error >= exc.start:
            _raise_encoding(data, utf8_error, file, "UTF-8 or CP932 (Shift_JIS)")
        _raise_encoding(data, exc.start, file, "UTF-8 or CP932 (Shift_JIS)")
    _refuse_euc_jp(data, text, file)
    return text, "cp932"


_HALF_WIDTH_KANA = re.compile("[\uff61-\uff9f]")


def _refuse_euc_jp(data: bytes, text: str, file: str) -> None:
    """Refuse EUC-JP bytes that happen to decode as CP932.

    Every EUC-JP kanji or kana is two bytes in 0xA1–0xFE, which CP932 reads as two half-width
    katakana (年度 → ﾇｯﾅﾙ), so a short EUC-JP file can decode without error into nonsense. Real
    CP932 Japanese text almost always has hiragana or kanji with lead bytes 0x81–0x9F, which are
    invalid in EUC-JP; so half-width katakana in text that also decodes as EUC-JP means EUC-JP.
    """
    kana = _HALF_WIDTH_KANA.search(text)
    if kana is None:
        return
    try:
        data.decode("euc_jp")
    except UnicodeDecodeError:
        return
    offset = len(text[: kana.start()].encode("cp932"))
    bad = data[offset : offset + 4]
    raise EncodingError(
        f"the file looks like EUC-JP: bytes {bad.hex(' ')} at byte {offset} read as Shift_JIS give "
        f"{text[kana.start() : kana.start() + 4]!r}; save it as UTF-8 (Excel: 'CSV UTF-8') or "
        "Shift_JIS",
        file=file,
        row=data.count(b"\n", 0, offset) + 1,
        text=bad.decode("latin-1"),
    )


def _raise_encoding(data: bytes, offset: int, file: str, expected: str) -> None:
    row = data.count(b"\n", 0, offset) + 1
    bad = data[offset : offset + 4]
    raise EncodingError(
        f"the file is not {expected}: undecodable bytes {bad.hex(' ')} at byte {offset}; "
        "save it as UTF-8 (Excel: 'CSV UTF-8') or Shift_JIS",
        file=file,
        row=row,
        text=bad.decode("latin-1"),
    )


def read_table(
    path: Path | str,
    required: Sequence[str],
    optional: Sequence[str] = (),
    *,
    display_name: str | None = None,
) -> RawTable:
    """Read a raw CSV table, checking its header against the expected columns.

    Parameters
    ----------
    path
        The CSV file.
    required
        Columns that must be present.
    optional
        Columns that may be present; any other column is refused, so a misspelt header is caught
        instead of silently ignored.
    display_name
        How the file is named in error messages (default: the path as given).

    Returns
    -------
    RawTable
        Cells as the exact strings written. Rows that are entirely blank are dropped.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(p, "w", encoding="utf-8").write("a,b\\n1,▲2人\\n")
    >>> read_table(p, ["a", "b"]).rows[0].cells["b"]
    '▲2人'
    """
    path = Path(path)
    name = display_name or str(path)
    try:
        data = read_input(path, name)
    except FileNotFoundError:
        raise DataError("file not found", file=name) from None
    except IsADirectoryError:
        raise DataError("expected a file, found a directory", file=name) from None
    text, encoding = decode_bytes(data, name)
    if not text.strip():
        raise EmptyFileError("the file is empty (no header row)", file=name)
    if "\x00" in text:
        row = text.count("\n", 0, text.index("\x00")) + 1
        raise EncodingError("the file contains NUL bytes (binary, or UTF-16?)", file=name, row=row)

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    try:
        records.extend(reader)
    except csv.Error as exc:
        # Name the record that broke, counted like the other rows (a quoted cell may span lines,
        # and an unclosed quote is only noticed at the end of the file: reader.line_num would
        # point there instead of at the row that opened it).
        raise DataError(f"malformed CSV: {exc}", file=name, row=len(records) + 1) from None

    header = tuple(records[0])
    stripped = tuple(h.strip() for h in header)
    for i, h in enumerate(stripped):
        if not h:
            raise MissingColumnError(f"header cell {i + 1} is blank", file=name, row=1)
        if stripped.count(h) > 1:
            raise DataError(f"column {h!r} appears twice in the header", file=name, row=1, column=h)
    allowed = set(required) | set(optional)
    for h in stripped:
        if h not in allowed:
            raise MissingColumnError(
                f"unknown column {h!r}; expected {', '.join(required)}"
                + (f" (optional: {', '.join(optional)})" if optional else ""),
                file=name,
                row=1,
                column=h,
            )
    for col in required:
        if col not in stripped:
            raise MissingColumnError(
                f"required column {col!r} is missing; the header is {', '.join(stripped)}",
                file=name,
                row=1,
                column=col,
            )

    rows = []
    for index, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(stripped):
            raise DataError(
                f"the row has {len(record)} cells but the header has {len(stripped)} "
                "(an unquoted comma, e.g. in 1,019人, splits a cell: quote it)",
                file=name,
                row=index,
                text=",".join(record),
            )
        rows.append(RawRow(name, index, dict(zip(stripped, record, strict=True))))
    if not rows:
        raise EmptyFileError("the file has a header but no rows", file=name, row=1)
    return RawTable(name, encoding, stripped, tuple(rows))
