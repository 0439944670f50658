"""``consolida --piano-aggiornato``: the round's returns into the plan of the next round."""

from __future__ import annotations

from pathlib import Path

from seregno_xlsx.atomic import atomic_write_text, output_file
from seregno_xlsx.audit import Registro
from seregno_xlsx.cli.app import err, out, styled
from seregno_xlsx.errors import SeregnoError
from seregno_xlsx.master.consolidation import Consolidamento
from seregno_xlsx.master.rounds import fold_consolidation
from seregno_xlsx.outputs import refuse_input_as_output


def write_updated_plan(result: Consolidamento, target: Path, piano_path: Path | None, registro: Registro) -> None:
    """Write the plan updated with the accepted returns; the plan read is never replaced."""
    if result.piano is None:
        raise SeregnoError(
            "--piano-aggiornato: serve il piano del quale le schede sono state generate "
            "(indicarlo con --piano o metterlo accanto alle schede)"
        )
    if not result.ritorni:
        err.print(styled("Nota:", "yellow", "nessuna scheda accettata: il piano aggiornato non è stato scritto"))
        return
    target, note = output_file(target, ".json")
    if note:
        err.print(styled("Nota:", "yellow", note))
    read = [p for p in (piano_path, result.piano_trovato) if p is not None]
    refuse_input_as_output(target, read, what="il piano aggiornato")
    riporto = fold_consolidation(result.piano, result.ritorni, result.rilevazione, result.regole)
    atomic_write_text(target, riporto.piano.to_json())
    registro.written(target, "piano-aggiornato")
    aree = ", ".join(riporto.aree)
    out.print(f"Piano aggiornato con la rilevazione {result.rilevazione} ({aree}): {target}", highlight=False)
    for item in riporto.non_riportati:
        err.print(styled("Nota:", "yellow", f"non riportato nel piano: {item}"))
