"""English counts for every message and report: "1 programme", "2 programmes", never "(s)".

The one place a number and its noun are put together in English, so the CLI, the errors and
the reports agree (issue 17: "1 programme(s)"). Japanese needs none of it (1事業, 2事業).
"""

from __future__ import annotations

__all__ = ["counted", "noun"]


def noun(n: int, singular: str, plural: str | None = None) -> str:
    """The English noun in the form for ``n``: singular for exactly one.

    ``plural`` where adding "s" is wrong ("degrees of freedom").

    Examples
    --------
    >>> noun(1, "indicator"), noun(3, "indicator"), noun(0, "indicator")
    ('indicator', 'indicators', 'indicators')
    """
    return singular if n == 1 else plural or singular + "s"


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """``n`` and the English noun in its form: "1 programme", "2 programmes".

    Examples
    --------
    >>> counted(1, "programme"), counted(0, "programme"), counted(2, "evaluated KPI")
    ('1 programme', '0 programmes', '2 evaluated KPIs')
    >>> counted(1, "residual degree of freedom", "residual degrees of freedom")
    '1 residual degree of freedom'
    """
    return f"{n} {noun(n, singular, plural)}"
