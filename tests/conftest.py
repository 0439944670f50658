from __future__ import annotations

from pathlib import Path

import pytest

from seregno_xlsx.piano.export_parser import parse_exports
from seregno_xlsx.piano.model import Piano, Rilevazione
from seregno_xlsx.scheda.generation import SchedaGenerata, generate

ROOT = Path(__file__).resolve().parent.parent
FONTI = sorted((ROOT / "esempi" / "fonti").glob("*.txt"))
REAL_AREA = "Area Servizi alla Persona"


@pytest.fixture(scope="session")
def piano() -> Piano:
    parsed, _ = parse_exports(FONTI)
    # The key of esempi/piano_2021.json: schede generated here are checked against that file too.
    stored = Piano.from_json((ROOT / "esempi" / "piano_2021.json").read_text(encoding="utf-8"))
    return parsed.model_copy(update={"chiave_impronta": stored.chiave_impronta})


@pytest.fixture(scope="session")
def schede_intermedia(piano: Piano, tmp_path_factory: pytest.TempPathFactory) -> list[SchedaGenerata]:
    return generate(piano, tmp_path_factory.mktemp("schede_intermedia"), rilevazione=Rilevazione.INTERMEDIA)


@pytest.fixture(scope="session")
def schede_finale(piano: Piano, tmp_path_factory: pytest.TempPathFactory) -> list[SchedaGenerata]:
    return generate(piano, tmp_path_factory.mktemp("schede_finale"), rilevazione=Rilevazione.FINALE, password="pw")


@pytest.fixture
def scheda_reale(schede_intermedia: list[SchedaGenerata]) -> Path:
    return next(s.path for s in schede_intermedia if s.area == REAL_AREA)
