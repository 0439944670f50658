"""The text of ``seregno-xlsx --help``, stored so that printing it loads nothing else.

Generated from the commands (a test keeps it equal to what click prints at 80 columns or more):

    python -m seregno_xlsx.cli.aiuto
"""

GRUPPO = (
    "Uso: seregno-xlsx COMANDO [OPZIONI]\n"
    "\n"
    "  Piano degli Obiettivi: importa il piano, genera le schede protette, le\n"
    "  distribuisce e le raccoglie per e-mail, verifica e consolida i ritorni.\n"
    "\n"
    "Comandi:\n"
    "  importa       Importa le schede obiettivo esportate dal gestionale in un\n"
    "                piano JSON validato.\n"
    "  schema        Stampa lo schema JSON (JSON Schema) del file del piano.\n"
    "  genera        Genera una cartella di lavoro protetta per ogni area del\n"
    "                piano.\n"
    "  distribuisci  Prepara (o invia) a ogni area un'e-mail con la sua scheda da\n"
    "                compilare.\n"
    "  raccogli      Salva nella cartella dei ritorni le schede allegate alle\n"
    "                e-mail ricevute.\n"
    "  solleciti     Sollecita le aree che non hanno restituito una scheda valida o\n"
    "                la cui scheda ha errori.\n"
    "  verifica      Controlla le schede restituite e dice cosa correggere (foglio,\n"
    "                cella, valore, perché, come).\n"
    "  consolida     Consolida tutte le schede di una cartella in una cartella di\n"
    "                lavoro master.\n"
    "\n"
    "Opzioni:\n"
    "  --help  Mostra questo aiuto ed esce.\n"
    "\n"
    "Per l'aiuto su un comando: seregno-xlsx COMANDO --help\n"
)

if __name__ == "__main__":  # pragma: no cover - regenerates this file
    import json
    import os
    from pathlib import Path

    os.environ["COLUMNS"] = "120"
    import typer

    from seregno_xlsx.cli import _app
    from seregno_xlsx.cli.italiano import group_help

    text = group_help(typer.main.get_command(_app())) + "\n"
    source = Path(__file__).read_text(encoding="utf-8")
    start = source.index("GRUPPO = ")
    end = source.index("\n\nif __name__")
    literal = "".join(f"    {json.dumps(line, ensure_ascii=False)}\n" for line in text.splitlines(keepends=True))
    Path(__file__).write_text(source[:start] + f"GRUPPO = (\n{literal})" + source[end:], encoding="utf-8")
