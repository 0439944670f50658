"""The office's adaptable wording, loaded from ``modelli/scheda.toml``."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from seregno_xlsx.errors import SeregnoError, validation_reason

_PACKAGE_DIR = Path(__file__).resolve().parent
M = TypeVar("M", bound=BaseModel)


def default_templates_dir() -> Path:
    """``modelli/`` shipped in the wheel, or the repository's own in a checkout."""
    for candidate in (_PACKAGE_DIR / "modelli", _PACKAGE_DIR.parent / "modelli"):
        if (candidate / "scheda.toml").is_file():
            return candidate
    raise SeregnoError("cartella «modelli» non trovata: reinstallare seregno_xlsx")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Fogli(_Section):
    istruzioni: str
    obiettivi: str
    fasi: str
    indicatori: str
    personale: str
    # Schede generated before the compilation block existed carry no name for it.
    compilazione: str = "Compilazione"


class Titoli(_Section):
    scheda: str
    legenda: str


class Convalida(_Section):
    data_titolo: str
    data_messaggio: str
    data_errore: str
    numero_titolo: str
    numero_messaggio: str
    numero_errore: str
    si_no_titolo: str
    si_no_messaggio: str
    si_no_errore: str
    testo_titolo: str
    monitoraggio_messaggio: str
    note_messaggio: str
    testo_errore: str
    # Defaults: schede generated before these inputs existed.
    evidenza_messaggio: str = "Atto, numero di protocollo o link che documenta il valore o la conclusione della fase."
    compilazione_messaggio: str = "Nome e cognome (testo libero)."
    quota_titolo: str = "Quota del tempo (%)"
    quota_messaggio: str = (
        "Percentuale del tempo della persona dedicata a questo obiettivo, da 0 a 100. "
        "Vuota: parti uguali tra i suoi obiettivi."
    )
    quota_errore: str = "Valore non valido: scrivere un numero da 0 a 100."


class Istruzioni(_Section):
    titolo: str
    righe: list[str]
    scadenza_non_indicata: str


class Annotazioni(_Section):
    """The legend of an annotated copy (``verifica --annota``). Defaults: schede generated before it existed."""

    legenda: str = "Celle segnalate dal controllo di gestione (il commento della cella spiega cosa fare):"
    errore: str = (
        "Errore: il valore scritto non è accettato. Correggerlo nella cella: il valore scritto è rimasto visibile."
    )
    avviso: str = "Avviso: controllare il valore; se è giusto, spiegarlo nel Monitoraggio o nelle Note."
    piano: str = (
        "Dato del piano approvato, protetto: l'area non deve correggerlo, se ne occupa il controllo di gestione."
    )
    nota_piano: str = "Dato del piano, protetto: nessuna correzione richiesta all'area."


class Testi(_Section):
    """Every word of the scheda an office may change."""

    fogli: Fogli
    etichette: dict[str, str]
    titoli: Titoli
    convalida: Convalida
    istruzioni: Istruzioni
    annotazioni: Annotazioni = Annotazioni()

    def label(self, key: str) -> str:
        return self.etichette[key]


_SHEET_NAME_FORBIDDEN = set("[]:*?/\\{}")


def _plain(text: str, limit: int, forbidden: set[str]) -> bool:
    return 0 < len(text) <= limit and text.isprintable() and not (set(text) & forbidden)


def reading_texts(office: Testi, found: Testi) -> Testi:
    """The texts to read a returned scheda with: the office's own (``modelli/``), never a template from
    the file. Only the file's sheet names and column labels are kept, when they are plain short names,
    because they are what the file is organised by (a scheda generated with ``genera --modelli``).
    """
    update: dict[str, object] = {}
    labels = found.etichette
    if set(labels) == set(office.etichette) and all(_plain(v, 100, {"{", "}"}) for v in labels.values()):
        update["etichette"] = dict(labels)
    names = [str(getattr(found.fogli, key)) for key in Fogli.model_fields]
    if len(set(names)) == len(names) and all(_plain(n, 31, _SHEET_NAME_FORBIDDEN) for n in names):
        update["fogli"] = found.fogli
    return office.model_copy(update=update)


def load_texts(templates_dir: Path | None = None) -> Testi:
    return load_toml((templates_dir or default_templates_dir()) / "scheda.toml", Testi, "file dei testi")


def load_toml(path: Path, model: type[M], what: str) -> M:
    """A TOML file of ``modelli/`` validated by ``model``; every problem is an Italian message."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SeregnoError(f"{path}: {what} non trovato") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib says where in English, «Invalid statement (at line 3, column 1)»: the place is what helps.
        place = re.search(r"at line (\d+), column (\d+)", str(exc))
        where = f", riga {place[1]}, colonna {place[2]}" if place else ""
        raise SeregnoError(f"{path}{where}: {what} non valido (sintassi TOML non valida)") from None
    except UnicodeDecodeError:
        raise SeregnoError(f"{path}: {what} non valido (il testo non è UTF-8)") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SeregnoError(f"{path}: voce «{where}» mancante o non valida ({validation_reason(first)})") from None
