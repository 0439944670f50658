"""The bounds of what the reader will read from a returned file, and the refusal it gives beyond them.

Limits well above any real scheda (a few MB) and well below harm: each is checked before the
memory it guards is allocated.
"""

from __future__ import annotations

# Limits well above any real scheda (a few MB) and well below harm.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_RATIO = 200
MAX_ENTRIES = 5_000
# LibreOffice may report a used range down to row 1,048,576; data rows end far earlier.
MAX_EMPTY_RUN = 2_000
# Formulas and merged ranges remembered per file (a scheda has a few hundred input cells).
MAX_RECORDED = 10_000
# Password hashing rounds of an encrypted file: Excel uses 100,000; more is a denial of service.
MAX_SPIN_COUNT = 1_000_000
CHUNK = 64 * 1024
# The reader allocates a sheet's whole bounding box (first to last cell holding a value), so the box is
# measured in the scan, before the reader runs: a scheda has a few hundred rows and a dozen columns.
# LibreOffice may leave a mark on row 1,048,576 of a formatted column (read, not refused); a value
# beyond column 1,024 (LibreOffice's last) or a box of more than 16 columns' worth of full rows is.
MAX_ROWS = 1_048_576
MAX_COLS = 1_024
MAX_GRID_CELLS = 16 * 1_048_576
# Cells holding a value (what the reader turns into Python objects): a scheda has a few thousand.
MAX_VALUE_CELLS = 500_000


class UnreadableFile(Exception):
    """The file cannot be read as a workbook: ``codice`` is a catalogue code, ``dettaglio`` Italian."""

    def __init__(self, codice: str, dettaglio: str) -> None:
        super().__init__(dettaglio)
        self.codice = codice
        self.dettaglio = dettaglio
