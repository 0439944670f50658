"""An XlsxWriter worksheet that prepares the master's formulas without dozens of regular expressions each.

XlsxWriter rewrites every formula through one regular expression per newer function (29 of them for
dynamic arrays, ``FILTER(`` → ``_xlfn._xlws.FILTER(``…, about 150 in conditional formats), even when
the formula calls none of them: the master's tens of thousands of formulas pay for nothing. Here a
formula whose every call is to a function of ``PLAIN`` (none of which those expressions can match:
a test checks each of them against each name) is only stripped of its ``=`` and braces, which is
exactly what XlsxWriter returns for it; any other formula goes to XlsxWriter's own code. A property
test compares the two on the master's formulas and on arbitrary ones.
"""

from __future__ import annotations

import re
from typing import Any

from xlsxwriter.worksheet import Worksheet  # type: ignore[import-untyped]

# Functions the master writes (master/writer.py); a name outside this set takes XlsxWriter's own path.
PLAIN = frozenset(
    {
        "ABS",
        "AND",
        "COUNT",
        "COUNTA",
        "COUNTIF",
        "COUNTIFS",
        "DATE",
        "HYPERLINK",
        "IF",
        "IFERROR",
        "ISBLANK",
        "ISNUMBER",
        "ISTEXT",
        "MAX",
        "MIN",
        "NOT",
        "OR",
        "ROUND",
        "SUM",
        "SUMIFS",
        "SUMPRODUCT",
        "TODAY",
    }
)
# Anything that can precede "(": a name with dots and digits, as XlsxWriter's patterns see it.
_CALL = re.compile(r"[A-Za-z_\\][A-Za-z0-9_.\\]*(?=\()")


class FastWorksheet(Worksheet):  # type: ignore[misc]
    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> Any:
        if (
            "_xlfn." in formula
            or "INGLE(" in formula  # XlsxWriter's "\SINGLE(" matches any character before "INGLE("
            or not PLAIN.issuperset(_CALL.findall(formula))
        ):
            return super()._prepare_formula(formula, expand_future_functions)
        if formula.startswith("{"):
            formula = formula[1:]
        if formula.startswith("="):
            formula = formula[1:]
        if formula.endswith("}"):
            formula = formula[:-1]
        return formula
