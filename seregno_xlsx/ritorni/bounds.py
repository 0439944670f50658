"""The bounds of what the reader will read from a returned file, and the refusal it gives beyond them.

Limits well above any real scheda (a few MB) and well below harm: each is checked before the
memory it guards is allocated.
"""

from __future__ import annotations

# Limits well above any real scheda (a few MB) and well below harm.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_RATIO = 200
# The whole package (what calamine and the values are made from): a generated scheda inflates to about 4
# times its size, a sheet of thousands of numbers or notes to about 10.
MAX_TOTAL_RATIO = 100
MAX_ENTRIES = 5_000
# LibreOffice may report a used range down to row 1,048,576; data rows end far earlier.
MAX_EMPTY_RUN = 2_000
# Formulas and merged ranges remembered per file (a scheda has a few hundred input cells).
MAX_RECORDED = 10_000
# Password hashing rounds of an encrypted file: Excel uses 100,000; more is a denial of service.
MAX_SPIN_COUNT = 1_000_000
CHUNK = 64 * 1024
# Where a value may stand: LibreOffice's last column (1,024) and Excel's last row. LibreOffice may leave a
# mark on row 1,048,576 of a formatted column: read, not refused.
MAX_ROWS = 1_048_576
MAX_COLS = 1_024
# calamine allocates a sheet's whole bounding box (A1 to the last cell holding a value, about 40 bytes a
# cell): it reads a sheet whole only while the boxes so read stay within this many cells per byte of the
# file; a sheet beyond is read sparsely (``sparse_sheet``), in memory that follows its cells. A generated
# scheda's boxes are about 0.1 cells per byte.
DENSE_CELLS_PER_BYTE = 1
# Cells holding a value (what the reader turns into Python objects): a scheda has a few thousand, about
# one for every 15 bytes of the file; a file may hold at most this many per byte (a highly compressed
# run of identical cells would otherwise cost memory far beyond its size), and never more than
# MAX_VALUE_CELLS.
MAX_VALUE_CELLS = 500_000
VALUES_PER_BYTE = 1
# Text the reader copies into every cell that names it (a shared string, an .ods cell repeated over many
# cells), beyond the text the file's XML holds itself: characters per byte of the file. An Excel-saved
# scheda names about 1.5 per byte.
STRING_CHARS_PER_BYTE = 20


class UnreadableFile(Exception):
    """The file cannot be read as a workbook: ``codice`` is a catalogue code, ``dettaglio`` Italian;
    ``foglio`` and ``cella`` where one cell of one sheet decided it."""

    def __init__(self, codice: str, dettaglio: str, *, foglio: str = "", cella: str = "") -> None:
        super().__init__(dettaglio)
        self.codice = codice
        self.dettaglio = dettaglio
        self.foglio = foglio
        self.cella = cella
