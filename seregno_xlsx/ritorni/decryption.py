"""OLE containers: an encrypted workbook opened with the office's password; an old .xls refused."""

from __future__ import annotations

import io
import struct

from defusedxml import ElementTree as SafeET

from seregno_xlsx.ritorni.bounds import MAX_FILE_BYTES, MAX_SPIN_COUNT, UnreadableFile
from seregno_xlsx.ritorni.file_type import OLE_MAGIC


def decrypt(data: bytes, password: str | None) -> bytes:
    """An encrypted workbook decrypted with ``password``; an OLE file that is not one is refused."""
    try:
        import olefile
    except ImportError:  # pragma: no cover - olefile comes with msoffcrypto-tool
        olefile = None
    streams: set[str] = set()
    if olefile is not None:
        try:
            with olefile.OleFileIO(io.BytesIO(data)) as ole:
                streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=False)}
                info = ole.openstream("EncryptionInfo").read(1_048_576) if "EncryptionInfo" in streams else b""
        except Exception:
            raise UnreadableFile("file-illeggibile", "il file è danneggiato (contenitore OLE non valido)") from None
    else:
        info = b""
    if "EncryptionInfo" not in streams or "EncryptedPackage" not in streams:
        if streams & {"Workbook", "Book"}:
            return _refuse_xls()
        if "WordDocument" in streams:
            raise UnreadableFile("file-illeggibile", "è un documento Word, non una cartella di lavoro")
        if "PowerPoint Document" in streams:
            raise UnreadableFile("file-illeggibile", "è una presentazione PowerPoint, non una cartella di lavoro")
        return _refuse_xls()
    if password is None:
        raise UnreadableFile(
            "file-protetto-password",
            "il file è protetto da password di apertura: indicarla con --password-apertura "
            "oppure salvare il file senza password",
        )
    _check_encryption_info(info)
    try:
        import msoffcrypto
        from msoffcrypto.exceptions import InvalidKeyError
    except ImportError:  # pragma: no cover - a declared dependency
        raise UnreadableFile(
            "file-protetto-password", "il file è protetto da password e manca il modulo msoffcrypto-tool"
        ) from None
    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        office.load_key(password=password, verify_password=True)
        out = io.BytesIO()
        office.decrypt(out)
    except InvalidKeyError:
        raise UnreadableFile("file-protetto-password", "la password di apertura indicata non è corretta") from None
    except Exception as exc:
        if "password" in str(exc).lower() or "key" in type(exc).__name__.lower():
            raise UnreadableFile("file-protetto-password", "la password di apertura indicata non è corretta") from None
        raise UnreadableFile(
            "file-illeggibile",
            f"il file cifrato è danneggiato o usa una cifratura non supportata ({type(exc).__name__})",
        ) from None
    decrypted = out.getvalue()
    if len(decrypted) > MAX_FILE_BYTES:
        raise UnreadableFile("file-troppo-grande", "il contenuto decifrato supera i limiti di dimensione")
    if decrypted.startswith(OLE_MAGIC):
        return _refuse_xls()
    return decrypted


def _refuse_xls() -> bytes:
    raise UnreadableFile(
        "file-illeggibile",
        "è un file Excel 97-2003 (.xls) o un altro formato non supportato: salvarlo come .xlsx",
    )


def _check_encryption_info(info: bytes) -> None:
    """The agile encryption descriptor is XML: parse it safely and bound its hashing rounds first."""
    if len(info) < 8:
        raise UnreadableFile("file-illeggibile", "il file cifrato è danneggiato (descrittore di cifratura mancante)")
    major, minor = struct.unpack("<HH", info[:4])
    if (major, minor) != (4, 4):
        return  # standard encryption: a binary header, no XML
    try:
        root = SafeET.fromstring(info[8:], forbid_dtd=True)
    except Exception:
        raise UnreadableFile(
            "file-illeggibile", "il descrittore di cifratura del file non è valido o non è sicuro"
        ) from None
    for element in root.iter():
        spin = element.get("spinCount")
        if spin is not None and (not spin.isdigit() or int(spin) > MAX_SPIN_COUNT):
            raise UnreadableFile(
                "file-troppo-grande", "la cifratura del file richiede un calcolo oltre i limiti di sicurezza"
            )
