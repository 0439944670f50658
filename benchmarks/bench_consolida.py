"""Benchmark of the whole command line against its physical floor, at 50, 200 and 800 areas.

Not a test (pytest does not collect it: it is outside ``tests/``). README in this folder explains it.

    python benchmarks/bench_consolida.py --aree 50 200 800 --ripetizioni 3 --cartella /tmp/bench

For each size, in one run and interleaved (so that a noisy neighbour weighs on every figure alike):

- ``seregno-xlsx consolida`` (the installed console script, a new process: start-up, plan, reading,
  master, printing) with ``--processi 1`` and with the default (one process per core);
- the floors on the same files: python-calamine reading every cell; that plus XlsxWriter writing the
  cells the master holds (values, and formulas with their cached values, no formats); an openpyxl
  read-only pass over every cell;
- ``seregno-xlsx --help`` and a bare ``python -c pass``;
- ``seregno-xlsx genera`` of the same plan, and the same command at an older commit (``--confronta``).

Reported: medians with min and max, peak memory (the whole process tree, sampled from /proc, and the
main process's own peak), growth exponents between sizes, and the phase split of one run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import pickle
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ENTE = "Città di Esempio"
ANNO = 2021
SCADENZA = date(2021, 9, 30)
SEED = 2021
PERSONE_NEL_POOL = 1500
OBIETTIVI = 12
FASI_PER_AREA = 21  # 9 objectives with 2 phases, 3 with 1: 21 phases and 21 indicators per area
# Plan fields newer than the commit genera is compared with (its model refuses them), by level.
CAMPI_NUOVI = ("chiave_impronta", "versione", "data_delibera", "versioni", "rilevazioni")
CAMPI_NUOVI_AREA = ("codice", "compilazione")
CAMPI_NUOVI_OBIETTIVO = ("anno_precedente",)
CAMPI_NUOVI_VOCE = {
    "fasi": ("evidenza",),
    "indicatori": ("regola", "evidenza"),
    "risorse_umane": ("quota", "dal", "al"),
}
MARCATORE = ".bench_consolida"  # only a folder carrying it is ever emptied
ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).with_name("seregno-xlsx")

TESTO = (
    "L'obiettivo prevede la riorganizzazione del servizio, la digitalizzazione delle pratiche e la "
    "revisione dei regolamenti comunali, in coerenza con le linee del Documento Unico di Programmazione; "
    "comprende il monitoraggio periodico dei tempi di risposta ai cittadini, la formazione del personale "
    "coinvolto e il coordinamento con gli altri settori dell'ente e con i soggetti esterni interessati. "
)


# --- the synthetic plan (deterministic) -----------------------------------------------------------------


def piano_sintetico(aree: int) -> object:
    from seregno_xlsx.piano.model import Area, Fase, Indicatore, Obiettivo, Persona, Piano

    rng = random.Random(SEED)
    nomi = ["Anna", "Luca", "Giulia", "Marco", "Sara", "Paolo", "Elena", "Davide", "Chiara", "Stefano"]
    cognomi = ["Rossi", "Bianchi", "Colombo", "Ferrari", "Galli", "Brambilla", "Villa", "Riva", "Sala", "Conti"]
    pool = [
        Persona(
            categoria=rng.choice(["B1", "B3", "C1", "D1", "D3"]),
            matricola=f"{n:08d}",
            nome=f"{rng.choice(cognomi)} {rng.choice(nomi)}",
        )
        for n in range(1, PERSONE_NEL_POOL + 1)
    ]

    def obiettivo(a: int, o: int) -> Obiettivo:
        fasi = 2 if o <= FASI_PER_AREA - OBIETTIVI else 1
        codice = f"Ob_A{a:04d}O{o:03d}"
        inizio = date(ANNO, 1, 1) + timedelta(days=rng.randint(0, 60))
        fine = date(ANNO, 12, 31) - timedelta(days=rng.randint(0, 60))
        durata = (fine - inizio).days // fasi
        elenco, indicatori = [], []
        for p in range(1, fasi + 1):
            fase = Fase(
                codice=f"{codice}{p:02d}",
                descrizione=f"Fase {p} dell'obiettivo {codice}: attuazione e verifica degli adempimenti",
                data_inizio_prevista=inizio + timedelta(days=durata * (p - 1)),
                data_fine_prevista=fine if p == fasi else inizio + timedelta(days=durata * p - 1),
            )
            elenco.append(fase)
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
            cdc_associato=f"CDC{a:04d}",
            responsabile=f"Dirigente dell'area {a}",
            definizione=(f"Obiettivo n. {a * 1000 + o}. " + TESTO * 2)[:400].rstrip(),
            risultato_atteso="Riduzione dei tempi medi di conclusione dei procedimenti",
            data_inizio_prevista=inizio,
            data_fine_prevista=fine,
            fasi=elenco,
            indicatori=indicatori,
            risorse_umane=rng.sample(pool, rng.randint(3, 8)),
        )

    return Piano(
        ente=ENTE,
        anno=ANNO,
        titolo=f"Piano degli Obiettivi {ANNO} (sintetico)",
        delibera="Delibera di Giunta n. 1 del 15/01/2021",
        aree=[
            Area(
                nome=f"Area Sintetica {a:04d}",
                responsabile=f"Dirigente dell'area {a}",
                obiettivi=[obiettivo(a, o) for o in range(1, OBIETTIVI + 1)],
            )
            for a in range(1, aree + 1)
        ],
        chiave_impronta=hashlib.sha256(f"bench-{SEED}".encode()).hexdigest(),
    )


def _prepare_one(args: tuple[Path, int, int]) -> None:
    """Generate and fill the returns of ``aree[start:stop]`` (one worker's share)."""
    from seregno_xlsx.piano.model import Piano, Rilevazione
    from seregno_xlsx.scheda.generation import generate, workbook_filename
    from seregno_xlsx.simulation import fill_workbook, sample_entries

    cartella, start, stop = args
    piano = Piano.from_json((cartella / "piano.json").read_text(encoding="utf-8"))
    nomi = [a.nome for a in piano.aree[start:stop]]
    schede = cartella / "schede"
    generate(piano, schede, aree=nomi, rilevazione=Rilevazione.INTERMEDIA, scadenza=SCADENZA)
    for seed, area in enumerate(piano.aree[start:stop], start=start + 1):
        nome = workbook_filename(ANNO, area.nome, Rilevazione.INTERMEDIA)
        entries = sample_entries(area, Rilevazione.INTERMEDIA, seed=seed, anno=ANNO)
        fill_workbook(schede / nome, cartella / "ritorni" / nome, entries)


def prepara(cartella: Path, aree: int) -> None:
    """CARTELLA/piano.json and CARTELLA/ritorni/ (filled returns), unless already there for this size."""
    done = cartella / "pronta.json"
    if done.exists() and json.loads(done.read_text()) == {"aree": aree, "forma": [OBIETTIVI, FASI_PER_AREA]}:
        return
    for sotto in ("schede", "ritorni"):
        shutil.rmtree(cartella / sotto, ignore_errors=True)
    (cartella / "ritorni").mkdir(parents=True)
    piano = piano_sintetico(aree)
    (cartella / "piano.json").write_text(piano.to_json(), encoding="utf-8")  # type: ignore[attr-defined]
    inizio = time.perf_counter()
    step = max(1, math.ceil(aree / (4 * (os.cpu_count() or 1))))
    with ProcessPoolExecutor() as pool:
        list(pool.map(_prepare_one, [(cartella, s, min(aree, s + step)) for s in range(0, aree, step)]))
    done.write_text(json.dumps({"aree": aree, "forma": [OBIETTIVI, FASI_PER_AREA]}))
    print(f"  preparate {aree} schede compilate in {time.perf_counter() - inizio:.0f} s", flush=True)


# --- running and measuring a child process -------------------------------------------------------------


@dataclass
class Corsa:
    secondi: float
    picco_albero_mib: float  # RSS of the process and its children, summed, sampled every 10 ms
    picco_processo_mib: float  # the main process's own ru_maxrss
    codice: int
    cpu: float = 0.0  # user + system seconds of the process and the children it waited for
    uscita: str = ""


def _tree_rss_kib(pid: int) -> int:
    total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    stack.extend(int(c) for c in children.read().split())
        except (OSError, ValueError):
            continue
    return total


def corri(comando: list[str], *, cwd: Path | None = None, uscita: bool = False) -> Corsa:
    """Wall time of a new process, its tree's sampled peak RSS and its own peak (ru_maxrss)."""
    inizio = time.perf_counter()
    processo = subprocess.Popen(
        comando, cwd=cwd, stdout=subprocess.PIPE if uscita else subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    picco = 0
    fermo = threading.Event()

    def campiona() -> None:
        nonlocal picco
        while not fermo.is_set():
            picco = max(picco, _tree_rss_kib(processo.pid))
            fermo.wait(0.01)

    sonda = threading.Thread(target=campiona, daemon=True)
    sonda.start()
    testo = processo.stdout.read().decode("utf-8", "replace") if uscita and processo.stdout else ""
    errori = processo.stderr.read().decode("utf-8", "replace") if processo.stderr else ""
    _, stato, uso = os.wait4(processo.pid, 0)
    secondi = time.perf_counter() - inizio
    processo.returncode = os.waitstatus_to_exitcode(stato)
    fermo.set()
    sonda.join()
    if processo.returncode not in (0, 1):
        raise RuntimeError(f"{comando[:3]}… uscito con {processo.returncode}: {errori[-2000:]}")
    return Corsa(
        secondi,
        picco / 1024,
        uso.ru_maxrss / 1024,
        processo.returncode,
        cpu=uso.ru_utime + uso.ru_stime,
        uscita=testo,
    )


def floor_child(kind: str, cartella: Path, celle: Path | None, output: Path | None) -> None:
    """Runs in a child: one floor, timed inside (its own start-up left out: the floor is the work)."""
    files = sorted((cartella / "ritorni").glob("*.xlsx"))
    cells_pickle = pickle.loads(celle.read_bytes()) if celle else None
    inizio, cpu = time.perf_counter(), time.process_time()
    if kind in ("calamine", "calamine+xlsxwriter", "calamine+xlsxwriter-stretto"):
        from python_calamine import CalamineWorkbook

        n = 0
        for path in files:
            workbook = CalamineWorkbook.from_path(str(path))
            for name in workbook.sheet_names:
                n += sum(len(row) for row in workbook.get_sheet_by_name(name).to_python())
    if kind in ("calamine+xlsxwriter", "calamine+xlsxwriter-stretto"):
        import xlsxwriter

        assert cells_pickle is not None and output is not None
        book = xlsxwriter.Workbook(str(output), {"strings_to_formulas": False, "strings_to_numbers": False})
        if kind.endswith("stretto"):
            # The strict floor: the same bytes without XlsxWriter's regular expressions on formulas that
            # call only classic functions (master/fast_sheet.py), which the master's writer skips too.
            from seregno_xlsx.master.fast_sheet import FastWorksheet

            book.worksheet_class = FastWorksheet
        for sheet, cells in cells_pickle:
            ws = book.add_worksheet(sheet)
            for row, col, value, formula in cells:
                if formula is not None:
                    ws.write_formula(row, col, formula, None, value)
                elif isinstance(value, str):
                    ws.write_string(row, col, value)
                elif value is not None:
                    ws.write(row, col, value)
        book.close()
    if kind == "openpyxl":
        import openpyxl

        for path in files:
            workbook = openpyxl.load_workbook(path, read_only=True)
            for ws in workbook.worksheets:
                for _ in ws.iter_rows(values_only=True):
                    pass
            workbook.close()
    print(json.dumps({"secondi": time.perf_counter() - inizio, "cpu": time.process_time() - cpu}))


def master_cells(master: Path, target: Path) -> int:
    """The master's cells: values (formulas with the value cached beside them), for the XlsxWriter floor."""
    import openpyxl
    from python_calamine import CalamineWorkbook

    formulas = openpyxl.load_workbook(master)  # formulas as text
    values = CalamineWorkbook.from_path(str(master))
    sheets = []
    count = 0
    for ws in formulas.worksheets:
        cached = values.get_sheet_by_name(ws.title).to_python()
        cells = []
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                r, c = cell.row - 1, cell.column - 1
                value = cached[r][c] if r < len(cached) and c < len(cached[r]) else None
                formula = cell.value if isinstance(cell.value, str) and cell.value.startswith("=") else None
                cells.append((r, c, value if formula else cell.value, formula))
        sheets.append((ws.title, cells))
        count += len(cells)
    target.write_bytes(pickle.dumps(sheets))
    return count


def floor(kind: str, cartella: Path, celle: Path | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of the floor's work."""
    out = cartella / "floor.xlsx"
    comando = [sys.executable, __file__, "--floor", kind, "--cartella", str(cartella), "--output", str(out)]
    if celle:
        comando += ["--celle", str(celle)]
    risultato = subprocess.run(comando, check=True, capture_output=True, text=True)
    misura = json.loads(risultato.stdout.strip().splitlines()[-1])
    return float(misura["secondi"]), float(misura["cpu"])


# --- the phase split of one run -----------------------------------------------------------------------


def phases_child(cartella: Path) -> None:
    """Runs in a child: the time of each phase of one ``consolida`` as the command line runs it, serially."""
    inizio = time.perf_counter()
    import seregno_xlsx.cli  # noqa: F401  (what the console script imports)
    import seregno_xlsx.cli.consolida as cli_consolida
    import seregno_xlsx.master.consolidation as consolidation
    from seregno_xlsx.piano.plan_file import read_plan

    fasi: dict[str, float] = {"avvio (import)": time.perf_counter() - inizio}
    t = time.perf_counter()
    piano = read_plan(cartella / "piano.json")
    fasi["lettura del piano"] = time.perf_counter() - t

    def timed(name: str, function):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                fasi[name] = fasi.get(name, 0.0) + time.perf_counter() - t

        return wrapper

    consolidation.verify_files = timed("lettura e verifica delle schede", consolidation.verify_files)
    consolidation.write_master = timed("scrittura del master", consolidation.write_master)
    t = time.perf_counter()
    result = consolidation.consolidate(cartella / "ritorni", cartella / "fasi.xlsx", piano=piano, processi=1)
    totale = time.perf_counter() - t
    fasi["il resto di consolidate (classificazione, controlli tra aree)"] = (
        totale - fasi["lettura e verifica delle schede"] - fasi["scrittura del master"]
    )
    with open(os.devnull, "w") as devnull:
        console = cli_consolida.out
        saved = console.file
        console.file = devnull
        t = time.perf_counter()
        cli_consolida.print_summary(result)
        fasi["stampa del riepilogo"] = time.perf_counter() - t
        console.file = saved
    print(json.dumps(fasi))


# --- the report ---------------------------------------------------------------------------------------


@dataclass
class Serie:
    valori: list[float] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.valori:
            return "–"
        return f"{statistics.median(self.valori):.2f} ({min(self.valori):.2f}–{max(self.valori):.2f})"

    @property
    def mediana(self) -> float:
        return statistics.median(self.valori)


def esponente(sizes: list[int], values: list[float]) -> float:
    """Least-squares slope of log(value) on log(size): 1 is linear growth, 0 flat."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(max(v, 1e-9)) for v in values]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def old_tree(commit: str, base: Path) -> Path:
    """The package at ``commit``, exported (git archive) to run beside the current one."""
    target = base / f"commit-{commit}"
    if not (target / "seregno_xlsx").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit, "seregno_xlsx", "modelli"], check=True, capture_output=True
        )
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def solo_memoria(sizes: list[int], ripetizioni: int, cartella: Path | None) -> None:
    """``--solo-memoria``: at each size the serial command and the default one (a process per core), and
    how their peak memory grows (the serial process's own peak; the default command's whole tree)."""
    base = cartella or Path(tempfile.mkdtemp(prefix="bench_consolida_"))
    base.mkdir(parents=True, exist_ok=True)
    if not (base / MARCATORE).exists():
        if any(base.iterdir()):
            sys.exit(f"{base}: cartella non vuota e non creata dal benchmark; indicarne una nuova")
        (base / MARCATORE).write_text("cartella di lavoro di benchmarks/bench_consolida.py\n")
    print(f"Macchina: {len(os.sched_getaffinity(0))} CPU, Python {platform.python_version()}")
    print(f"Carico al via (loadavg 1 min): {os.getloadavg()[0]:.1f}", flush=True)
    picchi: list[float] = []
    picchi_parallelo: list[float] = []
    for n in sizes:
        dove = base / f"aree_{n}"
        dove.mkdir(exist_ok=True)
        prepara(dove, n)
        piano, ritorni, master = dove / "piano.json", dove / "ritorni", dove / "consolidato.xlsx"
        tempo, cpu, albero, processo, parallelo = Serie(), Serie(), Serie(), Serie(), Serie()
        comando = [str(SCRIPT), "consolida", str(ritorni), "-o", str(master), "--piano", str(piano)]
        for _ in range(ripetizioni):
            corsa = corri([*comando, "--processi", "1"])
            tempo.valori.append(corsa.secondi)
            cpu.valori.append(corsa.cpu)
            albero.valori.append(corsa.picco_albero_mib)
            processo.valori.append(corsa.picco_processo_mib)
            parallelo.valori.append(corri(comando).picco_albero_mib)
        picchi.append(processo.mediana)
        picchi_parallelo.append(parallelo.mediana)
        print(f"\n== {n} aree, consolida --processi 1 e consolida (un processo per core) ==")
        print(f"  seriale    {tempo} s\n  cpu_seriale {cpu} s")
        print(f"  memoria seriale_albero     {albero} MiB\n  memoria seriale_processo   {processo} MiB")
        print(f"  memoria parallelo_albero   {parallelo} MiB", flush=True)
    if len(sizes) > 1:
        for nome, valori in (("seriale_processo", picchi), ("parallelo_albero", picchi_parallelo)):
            serie = " → ".join(f"{v:.0f}" for v in valori)
            print(f"Esponente di crescita, memoria {nome}: {esponente(sizes, valori):.2f} ({serie} MiB)")
            print(f"  picco a {sizes[-1]} aree / picco a {sizes[0]} aree: {valori[-1] / valori[0]:.2f}×")
    print(f"Carico alla fine (loadavg 1 min): {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--aree", type=int, nargs="+", default=[50, 200, 800])
    parser.add_argument("--ripetizioni", type=int, default=3)
    parser.add_argument("--cartella", type=Path, default=None, help="cartella di lavoro (default: temporanea)")
    parser.add_argument("--confronta", default="0b6e0d9", help="commit con cui confrontare genera")
    parser.add_argument("--json", type=Path, default=None, help="scrive qui i risultati")
    parser.add_argument("--floor", help=argparse.SUPPRESS)
    parser.add_argument("--fasi", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--celle", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--solo-genera", action="store_true", help="misura solo genera (ora e al commit --confronta), non consolida"
    )
    parser.add_argument(
        "--solo-memoria",
        action="store_true",
        help="solo consolida in sequenza per dimensione: tempo, CPU e picco di memoria (niente pavimenti, "
        "parallelo, fasi, genera)",
    )
    args = parser.parse_args()
    if args.solo_memoria:
        solo_memoria(args.aree, args.ripetizioni, args.cartella)
        return
    if args.floor:
        floor_child(args.floor, args.cartella, args.celle, args.output)
        return
    if args.fasi:
        phases_child(args.cartella)
        return

    base: Path = args.cartella or Path(tempfile.mkdtemp(prefix="bench_consolida_"))
    base.mkdir(parents=True, exist_ok=True)
    if not (base / MARCATORE).exists():
        if any(base.iterdir()):
            sys.exit(f"{base}: cartella non vuota e non creata dal benchmark; indicarne una nuova")
        (base / MARCATORE).write_text("cartella di lavoro di benchmarks/bench_consolida.py\n")
    cpu = len(os.sched_getaffinity(0))
    print(f"Macchina: {cpu} CPU ({platform.processor() or platform.machine()}), Python {platform.python_version()}")
    print(f"Carico al via (loadavg 1 min): {os.getloadavg()[0]:.1f}", flush=True)
    risultati: dict[str, object] = {"cpu": cpu, "python": platform.python_version(), "misure": {}}

    if args.solo_genera:
        misura_genera(args, base, risultati)
        return

    # Start-up, paired with a bare interpreter.
    bare, helpx = Serie(), Serie()
    for _ in range(15):
        bare.valori.append(corri([sys.executable, "-c", "pass"]).secondi * 1000)
        helpx.valori.append(corri([str(SCRIPT), "--help"]).secondi * 1000)
    print(
        f"Avvio: python -c pass {bare} ms; seregno-xlsx --help {helpx} ms; rapporto {helpx.mediana / bare.mediana:.1f}×"
    )
    risultati["avvio_ms"] = {"python": bare.valori, "help": helpx.valori}

    righe = []
    for n in args.aree:
        cartella = base / f"aree_{n}"
        cartella.mkdir(exist_ok=True)
        prepara(cartella, n)
        piano, ritorni = cartella / "piano.json", cartella / "ritorni"
        master = cartella / "consolidato.xlsx"
        nomi = (
            "seriale",
            "parallelo",
            "calamine",
            "floor",
            "openpyxl",
            "cpu_seriale",
            "cpu_parallelo",
            "cpu_floor",
            "cpu_floor_stretto",
        )
        m: dict[str, Serie] = {k: Serie() for k in nomi}
        mem: dict[str, Serie] = {k: Serie() for k in ("seriale_albero", "seriale_processo", "parallelo_albero")}
        celle = cartella / "celle_master.pickle"
        for rep in range(args.ripetizioni):
            serial = corri(
                [str(SCRIPT), "consolida", str(ritorni), "-o", str(master), "--piano", str(piano), "--processi", "1"],
                uscita=True,
            )
            if rep == 0:
                count = master_cells(master, celle)
                righe_uscita = len(serial.uscita.splitlines())
            m["seriale"].valori.append(serial.secondi)
            m["cpu_seriale"].valori.append(serial.cpu)
            mem["seriale_albero"].valori.append(serial.picco_albero_mib)
            mem["seriale_processo"].valori.append(serial.picco_processo_mib)
            m["calamine"].valori.append(floor("calamine", cartella)[0])
            parallel = corri([str(SCRIPT), "consolida", str(ritorni), "-o", str(master), "--piano", str(piano)])
            m["parallelo"].valori.append(parallel.secondi)
            m["cpu_parallelo"].valori.append(parallel.cpu)
            mem["parallelo_albero"].valori.append(parallel.picco_albero_mib)
            wall, cpu = floor("calamine+xlsxwriter", cartella, celle)
            m["floor"].valori.append(wall)
            m["cpu_floor"].valori.append(cpu)
            m["cpu_floor_stretto"].valori.append(floor("calamine+xlsxwriter-stretto", cartella, celle)[1])
            m["openpyxl"].valori.append(floor("openpyxl", cartella)[0])
        fasi = json.loads(
            subprocess.run(
                [sys.executable, __file__, "--fasi", "--cartella", str(cartella)],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        riga = {
            "aree": n,
            "celle_master": count,
            "righe_stampate": righe_uscita,
            "tempi": {k: v.valori for k, v in m.items()},
            "memoria_mib": {k: v.valori for k, v in mem.items()},
            "fasi": fasi,
        }
        righe.append(riga)
        risultati["misure"][str(n)] = riga  # type: ignore[index]
        print(f"\n== {n} aree ({count} celle nel master, {righe_uscita} righe stampate) ==")
        for k, v in m.items():
            print(f"  {k:10} {v} s")
        cpu_ratio = m["cpu_seriale"].mediana / m["cpu_floor"].mediana
        print(
            f"  consolida / floor: seriale {m['seriale'].mediana / m['floor'].mediana:.2f}×, "
            f"parallelo {m['parallelo'].mediana / m['floor'].mediana:.2f}× (tempo reale); "
            f"CPU seriale / CPU floor {cpu_ratio:.2f}×; "
            f"CPU seriale / CPU floor stretto {m['cpu_seriale'].mediana / m['cpu_floor_stretto'].mediana:.2f}×; "
            f"parallelo / calamine {m['parallelo'].mediana / m['calamine'].mediana:.1f}×"
        )
        # The command as the user runs it (a process per core, wall time) against the strict floor (CPU, one
        # process: its wall time), each repetition's pair measured back to back: the median of their ratios
        # is less moved by the machine's load drifting between repetitions than a ratio of medians.
        coppie = [p / f for p, f in zip(m["parallelo"].valori, m["cpu_floor_stretto"].valori, strict=True) if f > 0]
        medians = m["parallelo"].mediana / m["cpu_floor_stretto"].mediana
        print(
            f"  parallelo (tempo reale) / floor stretto: {medians:.2f}× (rapporto delle mediane); per ripetizione "
            f"{', '.join(f'{c:.2f}' for c in coppie)}, mediana {statistics.median(coppie):.2f}×"
        )
        for k, v in mem.items():
            print(f"  memoria {k:18} {v} MiB")
        totale = sum(fasi.values())
        for k, v in fasi.items():
            print(f"  fase {k:60} {v:6.2f} s {100 * v / totale:4.0f}%")
        (args.json or base / "risultati.json").write_text(json.dumps(risultati, indent=1))

    if len(righe) > 1:
        sizes = [r["aree"] for r in righe]
        for key in ("seriale", "parallelo", "floor", "cpu_seriale", "cpu_floor"):
            vals = [statistics.median(r["tempi"][key]) for r in righe]
            print(f"Esponente di crescita, tempo {key}: {esponente(sizes, vals):.2f}")
        for key in ("seriale_processo", "parallelo_albero"):
            vals = [statistics.median(r["memoria_mib"][key]) for r in righe]
            serie = " → ".join(f"{v:.0f}" for v in vals)
            print(f"Esponente di crescita, memoria {key}: {esponente(sizes, vals):.2f} ({serie} MiB)")

    misura_genera(args, base, risultati)


def misura_genera(args: argparse.Namespace, base: Path, risultati: dict[str, object]) -> None:
    """genera: now and at the older commit, side by side, on the smallest size, on the same plan
    (without the fields the older model does not know); wall time and CPU time (children included)."""
    n = min(args.aree)
    cartella = base / f"aree_{n}"
    cartella.mkdir(exist_ok=True)
    if not (cartella / "piano.json").exists():  # --solo-genera: the plan is enough, no returns
        (cartella / "piano.json").write_text(piano_sintetico(n).to_json(), encoding="utf-8")  # type: ignore[attr-defined]
    vecchio = old_tree(args.confronta, base)
    dati = json.loads((cartella / "piano.json").read_text(encoding="utf-8"))
    for nuovo in CAMPI_NUOVI:
        dati.pop(nuovo, None)
    for area in dati["aree"]:
        for nuovo in CAMPI_NUOVI_AREA:
            area.pop(nuovo, None)
        for obiettivo in area["obiettivi"]:
            for nuovo in CAMPI_NUOVI_OBIETTIVO:
                obiettivo.pop(nuovo, None)
            for elenco, campi in CAMPI_NUOVI_VOCE.items():
                for voce in obiettivo[elenco]:
                    for nuovo in campi:
                        voce.pop(nuovo, None)
    piano_comune = cartella / "piano_comune.json"
    piano_comune.write_text(json.dumps(dati, ensure_ascii=False), encoding="utf-8")
    ora, prima, cpu_ora, cpu_prima = Serie(), Serie(), Serie(), Serie()
    codice_vecchio = (
        f"import sys; sys.path.insert(0, {str(vecchio)!r}); sys.argv[0] = 'seregno-xlsx';"
        "from seregno_xlsx.cli import main; main()"
    )
    for _ in range(args.ripetizioni):
        for serie, cpu, comando in (
            (ora, cpu_ora, [str(SCRIPT)]),
            (prima, cpu_prima, [sys.executable, "-c", codice_vecchio]),
        ):
            uscita = cartella / "genera"
            shutil.rmtree(uscita, ignore_errors=True)
            corsa = corri([*comando, "genera", str(piano_comune), "-o", str(uscita)])
            serie.valori.append(corsa.secondi)
            cpu.valori.append(corsa.cpu)
    quanto = prima.mediana / ora.mediana
    print(
        f"\ngenera, {n} aree, CPU: ora {cpu_ora} s, al commit {args.confronta} {cpu_prima} s: "
        f"{cpu_prima.mediana / cpu_ora.mediana:.2f}× meno CPU"
    )
    print(f"\ngenera, {n} aree: ora {ora} s, al commit {args.confronta} {prima} s: {quanto:.2f}× più veloce")
    risultati["genera"] = {
        "aree": n,
        "ora": ora.valori,
        "prima": prima.valori,
        "cpu_ora": cpu_ora.valori,
        "cpu_prima": cpu_prima.valori,
        "commit": args.confronta,
    }
    print(f"Carico alla fine (loadavg 1 min): {os.getloadavg()[0]:.1f}")
    (args.json or base / "risultati.json").write_text(json.dumps(risultati, indent=1))


if __name__ == "__main__":
    main()
