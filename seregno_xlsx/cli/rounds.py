"""``consolida --piano-aggiornato``: the round's returns into the plan of the next round."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from seregno_xlsx.atomic import atomic_write_text, output_file
from seregno_xlsx.audit import Registro
from seregno_xlsx.cli.app import err, styled
from seregno_xlsx.errors import SeregnoError
from seregno_xlsx.master.consolidation import Consolidamento
from seregno_xlsx.master.rounds import fold_consolidation
from seregno_xlsx.outputs import refuse_input_as_output
from seregno_xlsx.piano.plan_file import find_plan, read_plan, replaceable_plan

WHO = "dal piano aggiornato"
NO_PLAN = (
    "--piano-aggiornato: serve il piano del quale le schede sono state generate "
    "(indicarlo con --piano o metterlo accanto alle schede)"
)


def check_updated_plan_target(target: Path, piano_path: Path | None, cartella: Path) -> None:
    """Before anything is read or written: the updated plan needs a plan and never replaces it."""
    read = piano_path or find_plan(cartella)
    if read is None:
        raise SeregnoError(NO_PLAN)
    target = output_file(target, ".json")[0]
    refuse_input_as_output(target, [read], what=WHO)
    plan = read_plan(read)
    replaceable_plan(target, plan.ente, plan.anno)


def write_updated_plan(
    result: Consolidamento, target: Path, piano_path: Path | None, registro: Registro, console: Console
) -> Path | None:
    """Write the plan updated with the accepted returns (the plan read is never replaced); its path, or
    None if no return was accepted. ``console`` takes the messages (stderr when stdout is JSON)."""
    if result.piano is None:
        raise SeregnoError(NO_PLAN)
    if not result.ritorni:
        err.print(styled("Nota:", "yellow", "nessuna scheda accettata: il piano aggiornato non è stato scritto"))
        return None
    target, note = output_file(target, ".json")
    if note:
        err.print(styled("Nota:", "yellow", note))
    read = [p for p in (piano_path, result.piano_trovato) if p is not None]
    refuse_input_as_output(target, read, what=WHO)
    riporto = fold_consolidation(result.piano, result.ritorni, result.rilevazione, result.regole)
    atomic_write_text(target, riporto.piano.to_json())
    registro.written(target, "piano-aggiornato")
    aree = ", ".join(riporto.aree)
    console.print(f"Piano aggiornato con la rilevazione {result.rilevazione} ({aree}): {target}", highlight=False)
    for item in riporto.non_riportati:
        err.print(styled("Nota:", "yellow", f"non riportato nel piano: {item}"))
    return target
