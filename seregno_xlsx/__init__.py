"""seregno_xlsx: the yearly Piano degli Obiettivi, collected safely in spreadsheets."""

__version__ = "0.1.0"
