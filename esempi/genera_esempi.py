"""Rebuilds everything in esempi/ from the exports in esempi/fonti/.

    python esempi/genera_esempi.py

1. imports the exports into esempi/piano_2021.json;
2. generates the area workbooks (intermedia round) into esempi/schede/;
3. fills them as area staff would (fixed seeds) into esempi/ritorni/.

Only "Area Servizi alla Persona" is real (the 2021 export of the Comune di
Seregno); the other areas are invented, as the first line of their export says.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from seregno_xlsx.piano.export_parser import parse_exports
from seregno_xlsx.piano.model import Piano, Rilevazione
from seregno_xlsx.scheda.generation import generate
from seregno_xlsx.simulation import fill_workbook, sample_entries

HERE = Path(__file__).resolve().parent
SCADENZA = date(2021, 9, 30)


def main() -> None:
    piano, _ = parse_exports(sorted((HERE / "fonti").glob("*.txt")))
    plan_file = HERE / "piano_2021.json"
    if plan_file.exists():
        # The fingerprint key is the office's: regenerating the examples keeps it, so they stay reproducible.
        piano = piano.model_copy(
            update={"chiave_impronta": Piano.from_json(plan_file.read_text("utf-8")).chiave_impronta}
        )
    plan_file.write_text(piano.to_json(), encoding="utf-8")
    for folder in ("schede", "ritorni"):
        shutil.rmtree(HERE / folder, ignore_errors=True)
    generated = generate(piano, HERE / "schede", rilevazione=Rilevazione.INTERMEDIA, scadenza=SCADENZA)
    (HERE / "ritorni").mkdir()
    for seed, item in enumerate(generated, start=1):
        entries = sample_entries(piano.area(item.area), Rilevazione.INTERMEDIA, seed=seed, anno=piano.anno)
        fill_workbook(item.path, HERE / "ritorni" / item.path.name, entries)
        print(f"{item.area}: {len(entries)} valori compilati -> ritorni/{item.path.name}")


if __name__ == "__main__":
    main()
