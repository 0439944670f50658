"""What a file is, from its first bytes: a zip (xlsx, ods), an OLE container (encrypted or .xls), or
something else, described in Italian so the area knows what to send instead."""

from __future__ import annotations

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


def not_a_workbook(head: bytes) -> str:
    """An Italian description of a file that is neither a zip nor an OLE container."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    lowered = stripped[:512].lower()
    if stripped.startswith(b"%PDF"):
        return "è un documento PDF, non una cartella di lavoro: inviare il file .xlsx"
    if b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        return "è un foglio «XML 2003» di Excel, formato non supportato: salvarlo come .xlsx"
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered:
        return "è una pagina HTML salvata con l'estensione del foglio di calcolo: salvarlo come .xlsx"
    if stripped.startswith(b"{\\rtf"):
        return "è un documento RTF, non una cartella di lavoro"
    if stripped.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "è un'immagine, non una cartella di lavoro"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = head.decode("utf-16") if head[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        except UnicodeDecodeError:
            text = ""
    if text and all(ch.isprintable() or ch in "\r\n\t" for ch in text[:1000]):
        if any(sep in text for sep in (";", ",", "\t")):
            return "è un file di testo (CSV) con l'estensione del foglio di calcolo: inviare il file .xlsx originale"
        return "è un file di testo, non una cartella di lavoro"
    return "il contenuto non è una cartella di lavoro .xlsx o .ods"
