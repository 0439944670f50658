"""Excel's limits, named once: every writer and reader that meets one takes it from here.

LibreOffice accepts more in places; these are the limits of the stricter program, so that
what we write opens in both and what we read could have been typed in either.
"""

from __future__ import annotations

# Characters in one cell; longer texts are refused in a scheda and truncated (with a note) in the master.
MAX_CELL_TEXT = 32_767
# Hyperlinks in one worksheet.
MAX_LINKS_PER_SHEET = 65_530
# Data validation: input title, input message, error message; and the literal list of a list validation.
MAX_VALIDATION_TITLE = 32
MAX_VALIDATION_PROMPT = 255
MAX_VALIDATION_ERROR = 224
MAX_VALIDATION_LIST = 255


def italian_number(value: int) -> str:
    """32767 → «32.767», as a limit is written in a message."""
    return f"{value:_}".replace("_", ".")
