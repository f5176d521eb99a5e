"""Exceptions that tell a user exactly which input is wrong.

Every error about input data carries the file, the row (as a spreadsheet shows it: the header is
row 1, the first record row 2), the column and the offending text, so that a researcher can open
the file and fix it without reading a traceback.
"""

from __future__ import annotations

__all__ = [
    "DataError",
    "DuplicateRowError",
    "EmptyFileError",
    "EncodingError",
    "FormulaError",
    "InvalidValueError",
    "KpiAnalysisError",
    "MissingColumnError",
    "MissingValueError",
    "NotationError",
    "OutputError",
    "ParameterError",
    "PeriodError",
    "ProvenanceError",
    "RunError",
    "UnitMismatchError",
    "UnknownComponentError",
    "UnknownIndicatorError",
    "UnknownProgrammeError",
    "ValueParseError",
]


class KpiAnalysisError(Exception):
    """Base class of every error this package raises on purpose."""


class NotationError(KpiAnalysisError, ValueError):
    """Text that is not valid Japanese administrative notation (a number, unit or fiscal year)."""

    def __init__(self, text: object, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"cannot parse {text!r}: {reason}")


class DataError(KpiAnalysisError, ValueError):
    """A problem in an input file, located by file, row, column and text.

    Parameters
    ----------
    reason
        What is wrong, in one sentence.
    file, row, column, text
        Where: ``row`` counts like a spreadsheet (header = 1); ``None`` where it does not apply
        (e.g. a missing column has no row).
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        text: object = None,
    ) -> None:
        self.reason = reason
        self.file = file
        self.row = row
        self.column = column
        self.text = text
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.text is not None:
            where.append(f"text {str(self.text)!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.reason}" if prefix else self.reason


class EncodingError(DataError):
    """A file that is neither UTF-8 (with or without BOM) nor CP932/Shift_JIS."""


class MissingColumnError(DataError):
    """A required column is absent from a raw table."""


class ValueParseError(DataError):
    """A cell whose text is not a valid number, unit or fiscal year."""


class MissingValueError(DataError):
    """A required cell is blank (e.g. a target)."""


class UnknownIndicatorError(DataError):
    """An observation names an indicator that is not defined."""


class UnknownComponentError(DataError):
    """A sub-project names a component that is not defined."""


class FormulaError(DataError):
    """A cell that a spreadsheet would run as a formula (``=…``, ``@…``): refused, never written."""


class UnknownProgrammeError(DataError):
    """A row names a programme that is not defined."""


class DuplicateRowError(DataError):
    """Two rows share a key that must be unique (e.g. indicator and fiscal year)."""


class PeriodError(DataError):
    """A fiscal year outside the plan period, or a baseline after the first observation."""


class UnitMismatchError(DataError):
    """Values of one indicator written in different units."""


class InvalidValueError(DataError):
    """A value that parses but cannot be right (a negative count, an absurd magnitude, ...)."""


class ProvenanceError(DataError):
    """A transcribed text that does not occur in the source document."""


class EmptyFileError(DataError):
    """A raw table with no header or no rows."""


class ParameterError(KpiAnalysisError, ValueError):
    """A report parameter that is refused before any kernel starts."""


class RunError(KpiAnalysisError):
    """A notebook run that failed; names the notebook, fiscal year and cell."""


class OutputError(KpiAnalysisError):
    """Writing an output (``data/processed``, the archive) failed; names the path and why."""
