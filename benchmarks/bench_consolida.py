"""Benchmark di ``consolida``: N schede d'area sintetiche, compilate, in un solo master.

Non è un test (pytest non lo raccoglie: sta fuori da ``tests/`` e non si chiama ``test_*``).

    python benchmarks/bench_consolida.py --aree 200 --obiettivi 20 --fasi 2 --cartella /tmp/bench --riusa

1. Preparazione (cronometrata a parte, non è la cifra del benchmark): costruisce un piano sintetico
   deterministico, genera le schede (rilevazione intermedia, scadenza 30/09/2021) in CARTELLA/schede/ e
   le compila come farebbe il personale delle aree in CARTELLA/ritorni/. Con ``--riusa`` la
   preparazione si salta se CARTELLA contiene già le schede compilate con gli stessi parametri.
2. Benchmark: ``consolidate(CARTELLA/ritorni, CARTELLA/consolidato.xlsx, piano=piano)`` in un processo
   Python nuovo, perché il picco di memoria (ru_maxrss) sia quello del solo consolidamento.
3. Tempi medi (5 ripetizioni) di ``verify_file`` su una scheda e di ``generate`` per un'area.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from seregno_xlsx.master.consolidation import consolidate
from seregno_xlsx.piano.model import Area, Fase, Indicatore, Obiettivo, Persona, Piano, Rilevazione
from seregno_xlsx.ritorni.verification import verify_file
from seregno_xlsx.scheda.generation import generate, workbook_filename
from seregno_xlsx.simulation import fill_workbook, sample_entries

ENTE = "Città di Esempio"
ANNO = 2021
SCADENZA = date(2021, 9, 30)
RILEVAZIONE = Rilevazione.INTERMEDIA
SEED = 2021
PERSONE_NEL_POOL = 1500
RIPETIZIONI = 5
PARAMETRI = "parametri.json"
PIANO = "piano.json"
MARCATORE = ".bench_consolida"  # only a folder carrying it is ever emptied

NOMI = ["Anna", "Luca", "Giulia", "Marco", "Sara", "Paolo", "Elena", "Davide", "Chiara", "Stefano"]
COGNOMI = ["Rossi", "Bianchi", "Colombo", "Ferrari", "Galli", "Brambilla", "Villa", "Riva", "Sala", "Conti"]
CATEGORIE = ["B1", "B3", "C1", "D1", "D3"]
TESTO = (
    "L'obiettivo prevede la riorganizzazione del servizio, la digitalizzazione delle pratiche e la "
    "revisione dei regolamenti comunali, in coerenza con le linee del Documento Unico di Programmazione; "
    "comprende il monitoraggio periodico dei tempi di risposta ai cittadini, la formazione del personale "
    "coinvolto e il coordinamento con gli altri settori dell'ente e con i soggetti esterni interessati. "
)


# --- the synthetic plan -------------------------------------------------------------------------------


def persone() -> list[Persona]:
    """A pool of staff: one name per matricola (zero-padded text), always the same."""
    rng = random.Random(SEED)
    return [
        Persona(
            categoria=rng.choice(CATEGORIE),
            matricola=f"{n:08d}",
            nome=f"{rng.choice(COGNOMI)} {rng.choice(NOMI)}",
        )
        for n in range(1, PERSONE_NEL_POOL + 1)
    ]


def definizione(n: int) -> str:
    """About 400 characters, slightly different for each objective."""
    testo = f"Obiettivo n. {n}. " + TESTO * 2
    return testo[:400].rstrip()


def obiettivo(a: int, o: int, fasi: int, pool: list[Persona], rng: random.Random) -> Obiettivo:
    codice = f"Ob_A{a:03d}O{o:03d}"
    inizio = date(ANNO, 1, 1) + timedelta(days=rng.randint(0, 60))
    fine = date(ANNO, 12, 31) - timedelta(days=rng.randint(0, 60))
    durata = (fine - inizio).days // fasi
    elenco_fasi: list[Fase] = []
    indicatori: list[Indicatore] = []
    for p in range(1, fasi + 1):
        fase = Fase(
            codice=f"{codice}{p:02d}",
            descrizione=f"Fase {p} dell'obiettivo {codice}: attuazione e verifica degli adempimenti",
            data_inizio_prevista=inizio + timedelta(days=durata * (p - 1)),
            data_fine_prevista=fine if p == fasi else inizio + timedelta(days=durata * p - 1),
        )
        elenco_fasi.append(fase)
        si_no = p % 2 == 1
        indicatori.append(
            Indicatore(
                codice=fase.codice,
                fase=fase.descrizione,
                descrizione="Rispetto delle previsioni (SI=100)" if si_no else "Numero di pratiche evase",
                anno=ANNO,
                valore_target=100 if si_no else 120,
            )
        )
    return Obiettivo(
        codice=codice,
        titolo=f"Obiettivo sintetico {o} dell'area {a}",
        peso=rng.randint(1, 3),
        linea_strategica="Una città efficiente e vicina ai cittadini",
        azione_strategica="Semplificazione amministrativa",
        missione="01 - Servizi istituzionali, generali e di gestione",
        programma="0102 - Segreteria generale",
        cdc_associato=f"CDC{a:03d}",
        responsabile=f"Dirigente dell'area {a}",
        definizione=definizione(a * 1000 + o),
        risultato_atteso="Riduzione dei tempi medi di conclusione dei procedimenti",
        data_inizio_prevista=inizio,
        data_fine_prevista=fine,
        fasi=elenco_fasi,
        indicatori=indicatori,
        risorse_umane=rng.sample(pool, rng.randint(3, 8)),
    )


def piano_sintetico(aree: int, obiettivi: int, fasi: int) -> Piano:
    """Deterministic: the same arguments always give the same plan."""
    rng = random.Random(SEED)
    pool = persone()
    return Piano(
        ente=ENTE,
        anno=ANNO,
        titolo=f"Piano degli Obiettivi {ANNO} (sintetico)",
        delibera="Delibera di Giunta n. 1 del 15/01/2021",
        aree=[
            Area(
                nome=f"Area Sintetica {a:03d}",
                responsabile=f"Dirigente dell'area {a}",
                obiettivi=[obiettivo(a, o, fasi, pool, rng) for o in range(1, obiettivi + 1)],
            )
            for a in range(1, aree + 1)
        ],
    )


# --- preparation ----------------------------------------------------------------------------------------


def pronta(cartella: Path, piano: Piano, parametri: dict[str, int]) -> bool:
    """True if ``cartella`` already holds this plan's filled workbooks."""
    try:
        if json.loads((cartella / PARAMETRI).read_text(encoding="utf-8")) != parametri:
            return False
    except (OSError, ValueError):
        return False
    ritorni = cartella / "ritorni"
    return all((ritorni / workbook_filename(ANNO, a.nome, RILEVAZIONE)).is_file() for a in piano.aree)


def prepara(cartella: Path, piano: Piano, parametri: dict[str, int]) -> tuple[float, float]:
    """Generate and fill every workbook; returns the seconds spent generating and filling."""
    (cartella / PARAMETRI).unlink(missing_ok=True)
    for sotto in ("schede", "ritorni"):
        shutil.rmtree(cartella / sotto, ignore_errors=True)  # no stale workbook of another size
    inizio = time.perf_counter()
    generate(piano, cartella / "schede", rilevazione=RILEVAZIONE, scadenza=SCADENZA)
    generazione = time.perf_counter() - inizio
    ritorni = cartella / "ritorni"
    ritorni.mkdir(exist_ok=True)
    inizio = time.perf_counter()
    for seed, area in enumerate(piano.aree, start=1):
        nome = workbook_filename(ANNO, area.nome, RILEVAZIONE)
        entries = sample_entries(area, RILEVAZIONE, seed=seed, anno=ANNO)
        fill_workbook(cartella / "schede" / nome, ritorni / nome, entries)
        if seed % 20 == 0 or seed == len(piano.aree):
            print(f"  compilate {seed}/{len(piano.aree)} schede", flush=True)
    compilazione = time.perf_counter() - inizio
    (cartella / PARAMETRI).write_text(json.dumps(parametri), encoding="utf-8")
    return generazione, compilazione


# --- the measure, in a fresh process ------------------------------------------------------------------


@dataclass
class Misura:
    """What the child process measured; it travels to the parent as one line of JSON."""

    secondi: float
    rss_prima_kib: int  # peak RSS after imports and loading the plan, before consolidating
    rss_picco_kib: int  # peak RSS of the whole child process
    file: int
    accettati: int
    valori_letti: int
    valori_scritti: int
    anomalie: int
    anomalie_per_codice: dict[str, int]
    master_byte: int


def misura(cartella: Path) -> Misura:
    """Runs in the child process: one consolidation, timed, with the process's peak memory."""
    piano = Piano.from_json((cartella / PIANO).read_text(encoding="utf-8"))
    rss_prima = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    inizio = time.perf_counter()
    risultato = consolidate(cartella / "ritorni", cartella / "consolidato.xlsx", piano=piano)
    secondi = time.perf_counter() - inizio
    rss_picco = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return Misura(
        secondi=secondi,
        rss_prima_kib=rss_prima,
        rss_picco_kib=rss_picco,
        file=len(risultato.fonti),
        accettati=sum(f.stato == "accettato" for f in risultato.fonti),
        valori_letti=risultato.valori_letti,
        valori_scritti=risultato.summary.valori_scritti if risultato.summary else 0,
        anomalie=len(risultato.anomalie),
        anomalie_per_codice=dict(Counter(a.codice for a in risultato.anomalie).most_common()),
        master_byte=risultato.master.stat().st_size if risultato.master else 0,
    )


def misura_in_processo_nuovo(cartella: Path) -> Misura:
    """A fresh interpreter, so that ru_maxrss is the consolidation's alone, not the preparation's."""
    comando = [sys.executable, str(Path(__file__).resolve()), "--misura-interna", "--cartella", str(cartella)]
    uscita = subprocess.run(comando, check=True, capture_output=True, text=True)
    return Misura(**json.loads(uscita.stdout.strip().splitlines()[-1]))


def media(funzione: Callable[[], object], volte: int = RIPETIZIONI) -> float:
    tempi = []
    for _ in range(volte):
        inizio = time.perf_counter()
        funzione()
        tempi.append(time.perf_counter() - inizio)
    return sum(tempi) / len(tempi)


# --- command line ---------------------------------------------------------------------------------------


def argomenti() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--aree", type=int, default=200, help="numero di aree (default 200)")
    parser.add_argument("--obiettivi", type=int, default=20, help="obiettivi per area (default 20)")
    parser.add_argument("--fasi", type=int, default=2, help="fasi (e indicatori) per obiettivo (default 2)")
    parser.add_argument("--cartella", type=Path, default=None, help="cartella di lavoro (default: temporanea)")
    parser.add_argument("--riusa", action="store_true", help="riusa le schede già compilate in --cartella")
    parser.add_argument("--misura-interna", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = argomenti()
    if args.misura_interna:
        print(json.dumps(asdict(misura(args.cartella))))
        return
    if min(args.aree, args.obiettivi, args.fasi) < 1:
        sys.exit("--aree, --obiettivi e --fasi devono essere almeno 1")
    cartella: Path = args.cartella or Path(tempfile.mkdtemp(prefix="bench_consolida_"))
    cartella.mkdir(parents=True, exist_ok=True)
    if not (cartella / MARCATORE).exists():
        if any(cartella.iterdir()):
            sys.exit(f"{cartella}: cartella non vuota e non creata dal benchmark; indicarne una nuova")
        (cartella / MARCATORE).write_text("cartella di lavoro di benchmarks/bench_consolida.py\n")
    parametri = {"aree": args.aree, "obiettivi": args.obiettivi, "fasi": args.fasi}

    piano = piano_sintetico(args.aree, args.obiettivi, args.fasi)
    (cartella / PIANO).write_text(piano.to_json(), encoding="utf-8")
    obiettivi = sum(len(a.obiettivi) for a in piano.aree)
    indicatori = sum(len(o.indicatori) for a in piano.aree for o in a.obiettivi)
    print(f"Piano sintetico: {args.aree} aree × {args.obiettivi} obiettivi × {args.fasi} fasi")
    print(f"Cartella: {cartella}")

    if args.riusa and pronta(cartella, piano, parametri):
        print("Preparazione: schede già pronte, riusate (--riusa)")
    else:
        print("Preparazione: generazione e compilazione delle schede…", flush=True)
        generazione, compilazione = prepara(cartella, piano, parametri)
        print(f"Preparazione (non misurata): generazione {generazione:.1f} s, compilazione {compilazione:.1f} s")

    print("Consolidamento in un processo nuovo…", flush=True)
    m = misura_in_processo_nuovo(cartella)

    una = piano.aree[0]
    scheda = cartella / "ritorni" / workbook_filename(ANNO, una.nome, RILEVAZIONE)
    t_verifica = media(lambda: verify_file(scheda, piano=piano))
    with tempfile.TemporaryDirectory() as tmp:
        t_genera = media(
            lambda: generate(piano, Path(tmp), aree=[una.nome], rilevazione=RILEVAZIONE, scadenza=SCADENZA)
        )

    codici = ", ".join(f"{codice} {n}" for codice, n in m.anomalie_per_codice.items()) or "nessuna"
    print()
    print("=== consolida: risultato ===")
    print(f"File letti:            {m.file} (accettati {m.accettati})")
    print(f"Obiettivi:             {obiettivi}")
    print(f"Indicatori:            {indicatori}")
    print(f"Valori letti/scritti:  {m.valori_letti} / {m.valori_scritti}")
    print(f"Anomalie:              {m.anomalie} ({codici})")
    print(f"Master:                {m.master_byte / 1_048_576:.1f} MiB")
    print(f"Tempo consolidamento:  {m.secondi:.1f} s")
    picco, prima = m.rss_picco_kib / 1024, m.rss_prima_kib / 1024
    print(f"Memoria di picco:      {picco:.0f} MiB (processo intero; {prima:.0f} MiB prima di consolidare)")
    print(f"verify_file, 1 scheda: {t_verifica:.3f} s (media di {RIPETIZIONI})")
    print(f"generate, 1 area:      {t_genera:.3f} s (media di {RIPETIZIONI})")
    macchina = f"{os.cpu_count()} CPU, Python {platform.python_version()} ({platform.system()})"
    print(f"Macchina:              {macchina}")


if __name__ == "__main__":
    main()
