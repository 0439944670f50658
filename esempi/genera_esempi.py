"""Rebuilds everything in esempi/ from the exports in esempi/fonti/.

    python esempi/genera_esempi.py

1. imports the exports into esempi/piano_2021.json, with the indicator rules of esempi/regole_indicatori.toml
   (one indicator of each kind);
2. generates the area workbooks (intermedia round) into esempi/schede/;
3. fills them as area staff would (fixed seeds) into esempi/ritorni/;
4. saves each filled workbook as the reply e-mail an area would send, in esempi/posta_ricevuta/
   (what README's «raccogli esempi/posta_ricevuta/» reads; fixed dates and boundaries, reproducible);
5. the rest of the year, in esempi/finale/ (``python esempi/genera_esempi.py --finale`` rebuilds only
   this part): the intermediate returns folded into the plan, a revised export (fonti_revisione/: the
   Giunta's variazione, delibera GC 210/2021: a target raised, an objective renamed, one moved to
   another area, one dropped) imported as version 2 of the plan (piano_2021.json), the final schede
   generated from it (schede/, 1° rilevazione locked, September's values prefilled) and filled (ritorni/).

Only "Area Servizi alla Persona" is real (the 2021 export of the Comune di
Seregno); the other areas are invented, as the first line of their export says.
"""

from __future__ import annotations

import csv
import shutil
import sys
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

from seregno_xlsx.master.consolidation import consolidate
from seregno_xlsx.master.rounds import fold_consolidation
from seregno_xlsx.piano.export_parser import parse_exports
from seregno_xlsx.piano.model import Area, Piano, Rilevazione
from seregno_xlsx.piano.regole_indicatori import apply_rules, load_rules
from seregno_xlsx.piano.revisions import revise, with_area_codes
from seregno_xlsx.scheda.generation import generate
from seregno_xlsx.simulation import Entry, fill_workbook, sample_entries

HERE = Path(__file__).resolve().parent
SCADENZA = date(2021, 9, 30)
RECEIVED = datetime(2021, 9, 20, 10, 30, tzinfo=timezone(timedelta(hours=2)))
FINALE = HERE / "finale"
SCADENZA_FINALE = date(2022, 1, 31)


def main() -> None:
    parsed, _ = parse_exports(sorted((HERE / "fonti").glob("*.txt")))
    piano, _ = apply_rules(with_area_codes(parsed), load_rules(HERE / "regole_indicatori.toml"))
    plan_file = HERE / "piano_2021.json"
    if plan_file.exists():
        # The fingerprint key is the office's: regenerating the examples keeps it, so they stay reproducible.
        piano = piano.model_copy(
            update={"chiave_impronta": Piano.from_json(plan_file.read_text("utf-8")).chiave_impronta}
        )
    piano = with_shares(piano)
    plan_file.write_text(piano.to_json(), encoding="utf-8")
    for folder in ("schede", "ritorni", "posta_ricevuta"):
        shutil.rmtree(HERE / folder, ignore_errors=True)
    generated = generate(piano, HERE / "schede", rilevazione=Rilevazione.INTERMEDIA, scadenza=SCADENZA)
    (HERE / "ritorni").mkdir()
    for seed, item in enumerate(generated, start=1):
        entries = sample_entries(piano.area(item.area), Rilevazione.INTERMEDIA, seed=seed, anno=piano.anno)
        entries += people_and_sign_off(piano.area(item.area), entries)
        fill_workbook(item.path, HERE / "ritorni" / item.path.name, entries)
        print(f"{item.area}: {len(entries)} valori compilati -> ritorni/{item.path.name}")
    write_replies(sorted((HERE / "ritorni").glob("*.xlsx")), HERE / "posta_ricevuta")
    final_round()


def revised_exports(source: Path, target: Path) -> None:
    """The exports after the Giunta's variazione (delibera GC 210/2021), derived from the January ones."""
    ag = (source / "area_affari_generali_2021.txt").read_text("utf-8")
    lp = (source / "area_lavori_pubblici_2021.txt").read_text("utf-8")
    sp = (source / "area_servizi_persona_2021.txt").read_text("utf-8")
    # The green of the school gardens moves from Lavori Pubblici to Affari Generali.
    lines = lp.split("\n")
    starts = [n for n, line in enumerate(lines) if line.startswith("LINEA STRATEGICA:")]
    moved = "\n".join(lines[starts[-1] :])
    lp = "\n".join(lines[: starts[-1]]).rstrip("\n") + "\n"
    # The appointment desk of the registry office is dropped.
    lines = ag.split("\n")
    starts = [n for n, line in enumerate(lines) if line.startswith("LINEA STRATEGICA:")]
    ag = "\n".join(lines[: starts[1]] + lines[starts[2] :]).rstrip("\n") + "\n\n\n\n" + moved
    ag = ag.replace("Numero pratiche evase\t2021\t120,00", "Numero pratiche evase\t2021\t150,00")
    ag = ag.replace(
        "*** NUOVO REGOLAMENTO DEL CONSIGLIO COMUNALE (ESEMPIO)",
        "*** NUOVO REGOLAMENTO DEL CONSIGLIO COMUNALE E DELLE COMMISSIONI (ESEMPIO)",
    )
    target.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("area_affari_generali_2021.txt", ag),
        ("area_lavori_pubblici_2021.txt", lp),
        ("area_servizi_persona_2021.txt", sp),
    ):
        (target / name).write_text(text.replace("Delibera di GC 140/2021", "Delibera di GC 210/2021"), "utf-8")


def final_round() -> None:
    """The intermediate returns into the plan, the revised plan (version 2), the final round on it."""
    piano = Piano.from_json((HERE / "piano_2021.json").read_text("utf-8"))
    for folder in ("schede", "ritorni"):
        shutil.rmtree(FINALE / folder, ignore_errors=True)
    FINALE.mkdir(exist_ok=True)
    scratch = FINALE / "master_intermedia.xlsx"
    result = consolidate(HERE / "ritorni", scratch, piano=piano)
    scratch.unlink()
    folded = fold_consolidation(piano, result.ritorni, result.rilevazione, result.regole, datetime(2021, 10, 4, 9))
    revised_exports(HERE / "fonti", FINALE / "fonti_revisione")
    nuovo, _ = parse_exports(sorted((FINALE / "fonti_revisione").glob("*.txt")))
    nuovo, _ = apply_rules(nuovo, load_rules(HERE / "regole_indicatori.toml"))
    revisione = revise(folded.piano, nuovo, data_delibera=date(2021, 11, 9))
    v2 = revisione.piano
    (FINALE / "piano_2021.json").write_text(v2.to_json(), encoding="utf-8")
    for change in revisione.variazioni:
        print(f"variazione: {change.tipo} {change.elemento} {change.codice} {change.dettaglio}")
    generated = generate(v2, FINALE / "schede", rilevazione=Rilevazione.FINALE, scadenza=SCADENZA_FINALE)
    (FINALE / "ritorni").mkdir()
    for seed, item in enumerate(generated, start=11):
        entries = sample_entries(v2.area(item.area), Rilevazione.FINALE, seed=seed, anno=v2.anno)
        entries += people_and_sign_off(v2.area(item.area), entries, approvata_il=date(2022, 1, 20))
        fill_workbook(item.path, FINALE / "ritorni" / item.path.name, entries)
        print(f"{item.area}: {len(entries)} valori compilati -> finale/ritorni/{item.path.name}")


# What the office sets in the plan (piano_2021.json): VIGANÒ SERGIO gives 70% of his time to the
# first of his two objectives and 30% to the second. The others share their time equally.
SHARES = {("Ob_Obiet1301", "615"): 70.0, ("Ob_Obiet1302", "615"): 30.0}
# What the areas report in their scheda (Personale): PEREGO ANNALISA left Ob_Obiet1303 on 30 June
# (the rest of the year on Ob_Obiet1302 only); BRAMBILLA ELISA joined Ob_Obiet1201 on 1 March, at 50%.
PEOPLE = [
    ("Ob_Obiet1303", "640", "al", date(2021, 6, 30)),
    ("Ob_Obiet1201", "731", "dal", date(2021, 3, 1)),
    ("Ob_Obiet1201", "731", "quota", 50.0),
]
SIGN_OFF = {
    "Area Affari Generali": ("Bonfanti Carla", "Dott. Rossi Paolo"),
    "Area Lavori Pubblici e Manutenzioni": ("Magni Lucia", "Ing. Verdi Marco"),
    "Area Servizi alla Persona": ("Danili Emanuela", "Dott.ssa Neri Anna"),
}


def with_shares(piano: Piano) -> Piano:
    piano = piano.model_copy(deep=True)
    for area in piano.aree:
        for obiettivo in area.obiettivi:
            for persona in obiettivo.risorse_umane:
                persona.quota = SHARES.get((obiettivo.codice, persona.matricola), persona.quota)
    return piano


def people_and_sign_off(area: Area, entries: list[Entry], approvata_il: date = date(2021, 9, 18)) -> list[Entry]:
    """Dates and shares of people, the evidence of concluded phases and their indicators, the sign-off."""
    codes = {o.codice for o in area.obiettivi}
    added = [Entry("personale", f"{ob}/{m}", field, value) for ob, m, field, value in PEOPLE if ob in codes]
    concluded = [e.code for e in entries if e.sheet_key == "fasi" and e.field == "data_fine_effettiva"]
    indicators = {i.codice for o in area.obiettivi for i in o.indicatori}
    for n, code in enumerate(concluded, start=1):
        act = f"Determinazione dirigenziale n. {100 + n}/2021, prot. {24000 + 37 * n}"
        added.append(Entry("fasi", code, "evidenza", act))
        if code in indicators:
            added.append(Entry("indicatori", code, "evidenza", act))
    compilata_da, dirigente = SIGN_OFF.get(area.nome, ("", ""))
    added += [
        Entry("compilazione", area.nome, "compilata_da", compilata_da),
        Entry("compilazione", area.nome, "approvata_da", dirigente),
        Entry("compilazione", area.nome, "data_approvazione", approvata_il),
    ]
    return added


def write_replies(returns: list[Path], folder: Path) -> None:
    """One reply e-mail per returned workbook, from the area's address in modelli/contatti.csv."""
    with (HERE.parent / "modelli" / "contatti.csv").open(encoding="utf-8") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter=";")
        emails = {row["area"]: row["email"] for row in rows}
    folder.mkdir()
    for n, path in enumerate(returns, start=1):
        area = next(a for a in emails if path.stem.startswith(f"Obiettivi_2021_{a.replace(' ', '_')}"))
        message = EmailMessage(policy=SMTP)
        # On top, the line the office's mail server adds on delivery: «raccogli» names and ranks by it.
        delivered = format_datetime(RECEIVED + timedelta(hours=n, seconds=7))
        message["Received"] = f"from mail.example.org by mx.comune.example.org; {delivered}"
        message["From"] = f"{area} <{emails[area]}>"
        message["To"] = "controllo.gestione@example.org"
        message["Subject"] = f"R: Piano degli obiettivi 2021 - {area}: scheda da compilare"
        message["Date"] = format_datetime(RECEIVED + timedelta(hours=n))
        message["Message-ID"] = f"<esempio-{n}@example.org>"
        message.set_content("Buongiorno,\nin allegato la scheda compilata.\nCordiali saluti\n")
        message.add_attachment(
            path.read_bytes(),
            maintype="application",
            subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename=path.name,
        )
        message.set_boundary(f"esempio-{n}")
        (folder / f"{n:02d}_{path.stem.removeprefix('Obiettivi_2021_')}.eml").write_bytes(message.as_bytes())
        print(f"{area}: risposta -> posta_ricevuta/")


if __name__ == "__main__":
    final_round() if sys.argv[1:] == ["--finale"] else main()
