"""Findings (anomalie): problems found in the data are data, with a stable code.

One catalogue lists every code; README's table is generated from it and a
test keeps the two equal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from seregno_xlsx.limits import MAX_CELL_TEXT, italian_number


class Gravita(StrEnum):
    ERRORE = "errore"
    AVVISO = "avviso"


@dataclass(frozen=True)
class Voce:
    """A catalogue entry: severity, a short title and how to fix it."""

    gravita: Gravita
    titolo: str
    rimedio: str


E, A = Gravita.ERRORE, Gravita.AVVISO

CATALOGO: dict[str, Voce] = {
    # --- the plan itself (also checked by `importa`) ---
    "testo-fase-diverso": Voce(
        A,
        "Il testo di una fase differisce tra le tabelle della scheda",
        "Si tiene il testo della tabella Fasi; correggere il gestionale se l'altro testo è quello giusto.",
    ),
    "codice-duplicato": Voce(
        E,
        "Codice ripetuto",
        "Ogni obiettivo, fase e indicatore deve avere un codice unico: correggere il codice nel gestionale.",
    ),
    "fase-di-altro-obiettivo": Voce(
        E,
        "Il codice della fase non appartiene al suo obiettivo",
        "Il codice di una fase deve iniziare con il codice del suo obiettivo: correggere il codice.",
    ),
    "indicatore-senza-fase": Voce(
        A,
        "Indicatore senza fase",
        "Collegare l'indicatore a una fase esistente (stesso Codice Attività) o eliminarlo.",
    ),
    "fase-senza-indicatore": Voce(
        A,
        "Fase senza indicatore",
        "Aggiungere un indicatore alla fase, altrimenti non concorre alla % di raggiungimento.",
    ),
    "obiettivo-senza-indicatori": Voce(
        E,
        "Obiettivo senza indicatori",
        "Senza indicatori non si può calcolare la % di raggiungimento: aggiungerne almeno uno.",
    ),
    "matricola-nomi-diversi": Voce(
        A,
        "Una matricola compare con nomi diversi",
        "Verificare l'anagrafica: la stessa matricola deve indicare sempre la stessa persona.",
    ),
    "target-mancante": Voce(
        E,
        "Valore target mancante o zero",
        "Indicare un valore target maggiore di zero, altrimenti la % non è calcolabile.",
    ),
    "peso-mancante": Voce(
        A,
        "Obiettivo senza stelle (peso zero)",
        "Indicare il peso con le stelle davanti al titolo; con peso zero l'obiettivo non conta nella media.",
    ),
    "fine-prima-di-inizio": Voce(
        E,
        "La data di fine è precedente alla data di inizio",
        "Correggere una delle due date.",
    ),
    "fase-fuori-obiettivo": Voce(
        A,
        "Le date della fase escono dal periodo del suo obiettivo",
        "Allineare le date della fase a quelle dell'obiettivo, o spiegare la differenza nel monitoraggio.",
    ),
    "scadenza-testo-diversa": Voce(
        A,
        "La scadenza scritta nel testo differisce dalla data di fine prevista",
        "Allineare il testo della fase ('entro il ...') e la Data Fine Prev.",
    ),
    "data-implausibile": Voce(
        E,
        "Data fuori dal periodo plausibile",
        "Controllare l'anno digitato: la data deve cadere vicino all'anno del piano.",
    ),
    "data-dopo-riferimento": Voce(
        E,
        "Data successiva alla data di riferimento della rilevazione",
        "Una data effettiva non può essere nel futuro: correggerla o lasciarla vuota.",
    ),
    # --- the compilation (returned workbook) ---
    "fase-in-ritardo": Voce(
        A,
        "Fase conclusa dopo la data di fine prevista",
        "Nessuna correzione se la data è giusta: spiegare il ritardo nel Monitoraggio.",
    ),
    "fase-scaduta": Voce(
        A,
        "Fase scaduta senza data di fine effettiva",
        "Indicare la Data Fine Effet. se la fase è conclusa, altrimenti spiegare nel Monitoraggio.",
    ),
    "fine-senza-valore": Voce(
        A,
        "Fase conclusa ma indicatore senza valore",
        "Indicare il valore dell'indicatore per la fase conclusa.",
    ),
    "valore-senza-fine": Voce(
        A,
        "Indicatore valorizzato ma fase senza data di fine effettiva",
        "Indicare la Data Fine Effet. se la fase è conclusa; se è in corso il valore è parziale.",
    ),
    "valore-oltre-target": Voce(
        A,
        "Valore raggiunto superiore al target",
        "Verificare il valore: la % è limitata al 100% salvo diversa configurazione.",
    ),
    "valore-negativo": Voce(
        E,
        "Valore negativo",
        "Il valore di un indicatore non può essere negativo: correggerlo.",
    ),
    "monitoraggio-mancante": Voce(
        A,
        "Monitoraggio vuoto per una fase conclusa o scaduta",
        "Descrivere nel Monitoraggio cosa è stato fatto o perché la fase è in ritardo.",
    ),
    "data-non-valida": Voce(
        E,
        "Data non riconosciuta",
        "Scrivere la data nella forma gg/mm/aaaa, per esempio 31/12/2021.",
    ),
    "numero-non-valido": Voce(
        E,
        "Numero non riconosciuto",
        "Scrivere solo il numero, con la virgola per i decimali, per esempio 80,5.",
    ),
    "si-no-non-valido": Voce(
        E,
        "Risposta non valida: ammessi SI o NO",
        "Scegliere SI o NO dall'elenco della cella.",
    ),
    "valore-errore": Voce(
        E,
        "La cella contiene un errore di calcolo",
        "Sostituire l'errore (es. #DIV/0!) con il valore da comunicare.",
    ),
    "formula-in-cella": Voce(
        A,
        "Formula digitata in una cella da compilare",
        "Si usa il valore calcolato dalla formula; per sicurezza scrivere direttamente il valore.",
    ),
    "testo-troppo-lungo": Voce(
        E,
        f"Testo oltre il limite di {italian_number(MAX_CELL_TEXT)} caratteri di Excel",
        "Accorciare il testo: Excel non salva celle più lunghe.",
    ),
    "carattere-non-ammesso": Voce(
        A,
        "Caratteri di controllo nel testo",
        "Sono stati rimossi i caratteri invisibili non ammessi in una cella; ricontrollare il testo.",
    ),
    # --- the workbook as a file ---
    "file-illeggibile": Voce(
        E,
        "File non leggibile come cartella di lavoro",
        "Inviare di nuovo la cartella di lavoro ricevuta, salvata in formato .xlsx o .ods.",
    ),
    "file-protetto-password": Voce(
        E,
        "File protetto da password di apertura",
        "Salvare il file senza password di apertura, oppure fornire la password con --password-apertura.",
    ),
    "file-non-riconosciuto": Voce(
        E,
        "La cartella di lavoro non è una scheda di seregno_xlsx",
        "Usare la cartella di lavoro inviata dal controllo di gestione, senza copiarne il contenuto in un altro file.",
    ),
    "file-troppo-grande": Voce(
        E,
        "File rifiutato: dimensioni o compressione oltre i limiti di sicurezza",
        "Inviare la cartella di lavoro originale: questo file non è una scheda compilata normale.",
    ),
    "cella-fuori-limiti": Voce(
        E,
        "Un valore è scritto in una cella lontanissima dai dati, oltre i limiti di una scheda",
        "Cancellare il contenuto delle celle fuori dalla tabella (o ricompilare la scheda originale) e reinviarla.",
    ),
    "impronta-non-verificabile": Voce(
        A,
        "Non è verificabile che il contenuto protetto sia quello inviato dal controllo di gestione",
        "Indicare il piano con --piano, oppure tenere il file del piano (piano*.json) nella cartella delle schede "
        "o in quella superiore: l'impronta si verifica con la chiave del piano.",
    ),
    "foglio-estraneo": Voce(
        A,
        "Foglio aggiunto alla scheda: il suo contenuto non viene letto",
        "Scrivere i dati solo nelle celle gialle dei fogli della scheda ed eliminare il foglio aggiunto.",
    ),
    "colonna-estranea": Voce(
        A,
        "Colonna aggiunta o ripetuta: il suo contenuto non viene letto",
        "Eliminare la colonna aggiunta: si leggono solo le colonne della scheda originale.",
    ),
    "macro-presenti": Voce(
        A,
        "Il file contiene macro: sono state ignorate e non eseguite",
        "Salvare la scheda in formato .xlsx (senza macro).",
    ),
    "metadati-alterati": Voce(
        E,
        "I dati di identificazione della scheda sono stati alterati",
        "Usare la cartella di lavoro originale inviata dal controllo di gestione.",
    ),
    "versione-modello-diversa": Voce(
        E,
        "Scheda generata con una versione del modello diversa",
        "Compilare la cartella di lavoro dell'ultimo invio.",
    ),
    "piano-diverso": Voce(
        E,
        "La scheda appartiene a un altro piano (ente, anno o area diversi)",
        "Compilare la scheda del piano in corso, inviata dal controllo di gestione.",
    ),
    "rilevazione-diversa": Voce(
        E,
        "La scheda è di una rilevazione diversa da quella richiesta",
        "Compilare la scheda della rilevazione in corso.",
    ),
    "nome-file-area-diversa": Voce(
        A,
        "Il nome del file indica un'area diversa da quella della scheda",
        "Si usa l'area scritta nella scheda; rinominare il file per evitare confusione.",
    ),
    "foglio-mancante": Voce(
        E,
        "Foglio mancante o rinominato",
        "Ripristinare il foglio originale: compilare di nuovo la cartella di lavoro ricevuta.",
    ),
    "intestazione-alterata": Voce(
        E,
        "Intestazione di colonna modificata",
        "Ripristinare l'intestazione originale: le colonne non vanno spostate né rinominate.",
    ),
    "riga-mancante": Voce(
        E,
        "Riga mancante: il codice non si trova più nel foglio",
        "Ripristinare la riga cancellata, usando la cartella di lavoro originale.",
    ),
    "riga-spostata": Voce(
        E,
        "Righe inserite, eliminate o spostate",
        "Non inserire né eliminare righe: ripristinare la struttura originale.",
    ),
    "riga-estranea": Voce(
        E,
        "Riga con un codice che non appartiene alla scheda",
        "Eliminare la riga aggiunta: obiettivi, fasi e indicatori si modificano solo nel gestionale.",
    ),
    "cella-bloccata-modificata": Voce(
        E,
        "Contenuto protetto modificato",
        "Ripristinare il valore originale: le celle non colorate non vanno modificate.",
    ),
    "differenza-dal-piano": Voce(
        E,
        "La scheda non coincide con il piano",
        "Rigenerare la scheda dal piano in vigore e inviarla di nuovo all'area.",
    ),
    "anomalie-omesse": Voce(
        A,
        "Troppe anomalie dello stesso tipo: sono elencate le prime, le altre sono contate",
        "Correggere le anomalie elencate (spesso una sola causa, come righe incollate) e verificare di nuovo.",
    ),
    # --- between rounds (the final round against what the area sent in the intermediate one) ---
    "valore-cumulativo-in-calo": Voce(
        A,
        "Indicatore cumulativo: il valore è più basso di quello della rilevazione precedente",
        "Un valore cumulativo non può diminuire: verificare il valore con l'area e correggerlo, "
        "o spiegare nelle note il motivo (es. una rettifica).",
    ),
    "data-effettiva-cambiata": Voce(
        A,
        "Una data effettiva già comunicata nella rilevazione precedente è stata cambiata",
        "Verificare con l'area quale data è corretta; se quella nuova, chiedere di spiegarlo nel monitoraggio.",
    ),
    "fase-non-piu-conclusa": Voce(
        A,
        "Fase comunicata come conclusa nella rilevazione precedente e ora non più conclusa",
        "Verificare con l'area: ripristinare la data di fine effettiva o spiegare nel monitoraggio "
        "perché la fase è stata riaperta.",
    ),
    "percentuale-in-calo": Voce(
        A,
        "La % di raggiungimento dell'obiettivo è scesa rispetto alla rilevazione precedente oltre la soglia",
        "Verificare i valori degli indicatori con l'area; la soglia è in modelli/master.toml, [controlli].",
    ),
    # --- versions of the plan ---
    "scheda-versione-precedente": Voce(
        A,
        "Scheda generata da una versione precedente del piano: letta secondo la versione che indica",
        "Nessuna azione se i valori sono giusti; per le variazioni del piano inviare all'area la scheda "
        "generata dalla versione in vigore.",
    ),
    # --- the consolidation ---
    "area-senza-risposta": Voce(
        A,
        "Area del piano senza scheda restituita",
        "Sollecitare l'area a restituire la scheda compilata.",
    ),
    "file-sostituito": Voce(
        A,
        "Più schede per la stessa area: vale l'ultima ricevuta",
        "Nessuna azione se l'ultima ricevuta è quella giusta; altrimenti togliere l'altro file dalla cartella.",
    ),
    "area-non-nel-piano": Voce(
        E,
        "Area non presente nel piano",
        "Verificare di aver indicato il piano giusto con --piano.",
    ),
    # --- the indicator rules (modelli/regole_indicatori.toml, applied by `importa`) ---
    "regola-senza-indicatore": Voce(
        A,
        "Regola di un indicatore che non è nel piano",
        "Correggere il codice nel file delle regole degli indicatori, o toglierla se l'indicatore non c'è più.",
    ),
    # --- the office's corrections (file delle rettifiche, applied by `consolida`) ---
    "rettifica-senza-riscontro": Voce(
        E,
        "Rettifica che non corrisponde a nulla del piano",
        "Correggere area, obiettivo o indicatore nel file delle rettifiche: finché non corrisponde non è applicata.",
    ),
    "rettifica-senza-motivo": Voce(
        E,
        "Rettifica senza motivo",
        "Scrivere il motivo nel file delle rettifiche: senza motivo la rettifica non è applicata.",
    ),
    "rettifica-incompleta": Voce(
        E,
        "Rettifica senza chi l'ha decisa o senza data",
        "Indicare chi ha deciso la rettifica e la data (gg/mm/aaaa): fino ad allora non è applicata.",
    ),
    "rettifica-non-valida": Voce(
        E,
        "Rettifica non valida",
        "Correggere tipo (valore, percentuale, esclusione), valore o rilevazione nel file delle rettifiche.",
    ),
    "rettifica-doppia": Voce(
        E,
        "Voce rettificata due volte",
        "Vale la prima riga: eliminare o unire l'altra nel file delle rettifiche.",
    ),
    "rettifica-area-non-pervenuta": Voce(
        A,
        "Rettifica di un'area senza scheda consolidata",
        "Sarà applicata quando la scheda dell'area sarà consolidata.",
    ),
    # --- people on objectives, sign-off (issue 16) ---
    "quote-oltre-100": Voce(
        A,
        "Le quote di tempo di una persona sui suoi obiettivi superano il 100%",
        "Correggere le Quote % nel foglio Personale (di tutte le aree della persona): la somma non deve superare "
        "100. Finché non sono corrette, le quote pesano in proporzione tra loro.",
    ),
    "quota-non-valida": Voce(
        E,
        "Quota di tempo fuori dall'intervallo 0-100%",
        "Scrivere nella Quota % un numero da 0 a 100, o lasciarla vuota (parti uguali). Finché non è corretta "
        "conta come vuota.",
    ),
    "assegnazione-fuori-anno": Voce(
        A,
        "Data di assegnazione di una persona fuori dall'anno del piano",
        "Se la persona era sull'obiettivo già prima dell'anno (o dopo), lasciare vuota la data: conta l'anno "
        "intero; altrimenti correggere l'anno digitato.",
    ),
    "matricola-sconosciuta": Voce(
        E,
        "Persona (matricola) che il piano non conosce",
        "Le persone si aggiungono nel piano, non nella scheda: segnalare la persona al controllo di gestione "
        "con la matricola, l'obiettivo, la quota e la data di inizio; la riga non viene letta.",
    ),
    "approvazione-mancante": Voce(
        E,
        "Scheda della rilevazione finale senza approvazione del dirigente",
        "Nel foglio Compilazione indicare chi ha compilato la scheda, il dirigente che la approva e la data "
        "dell'approvazione, poi restituirla di nuovo.",
    ),
}


class Anomalia(BaseModel):
    """One finding, with its position; the JSON keys are the public format."""

    model_config = ConfigDict(frozen=True)

    codice: str
    gravita: Gravita
    area: str = ""
    obiettivo: str = ""
    fase: str = ""
    foglio: str = ""
    cella: str = ""
    valore: str = ""
    messaggio: str


# (sheet key, row code, field) -> (sheet name, A1 cell) in the file a finding is about (``Lettura.locate``).
Locate = Callable[[str, str, str], tuple[str, str]]


def no_location(sheet_key: str, code: str, field: str) -> tuple[str, str]:
    """For checks on a plan that has no workbook (``importa``)."""
    return ("", "")


def finding(
    codice: str,
    dettaglio: str,
    *,
    area: str = "",
    obiettivo: str = "",
    fase: str = "",
    foglio: str = "",
    cella: str = "",
    valore: object = "",
) -> Anomalia:
    """Build a finding whose message says where, what, why and how to fix it."""
    voce = CATALOGO[codice]
    where = []
    if foglio:
        where.append(f"foglio «{foglio}»" + (f", cella {cella}" if cella else ""))
    if fase:
        where.append(f"fase/indicatore {fase}")
    elif obiettivo:
        where.append(f"obiettivo {obiettivo}")
    prefix = (_upper_first(", ".join(where)) + ": ") if where else ""
    detail = printable(dettaglio.rstrip("."))
    messaggio = f"{prefix}{voce.titolo}. {_upper_first(detail)}. Come correggere: {voce.rimedio}"
    return Anomalia(
        codice=codice,
        gravita=voce.gravita,
        area=area,
        obiettivo=obiettivo,
        fase=fase,
        foglio=foglio,
        cella=cella,
        valore=_as_text(valore),
        messaggio=messaggio,
    )


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return str(value.strftime("%d/%m/%Y"))
    return printable(str(value))


def printable(text: str) -> str:
    """Text every output can hold: a file name that is not UTF-8 keeps its readable part, not its bytes; a
    lone surrogate that stands for no byte (U+D800, from a plan's JSON «\\ud800») becomes U+FFFD."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        text = _LONE_SURROGATE.sub("\ufffd", text)
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# Surrogates but those ``surrogateescape`` makes of undecodable bytes (U+DC80 to U+DCFF).
_LONE_SURROGATE = re.compile("[\ud800-\udc7f\udd00-\udfff]")


def has_errors(anomalie: Iterable[Anomalia]) -> bool:
    return any(a.gravita is Gravita.ERRORE for a in anomalie)


def catalogue_markdown() -> str:
    """The catalogue as a Markdown table, for README."""
    rows = ["| codice | gravità | significato | come correggere |", "| --- | --- | --- | --- |"]
    for codice, voce in CATALOGO.items():
        rows.append(f"| `{codice}` | {voce.gravita} | {voce.titolo} | {voce.rimedio} |")
    return "\n".join(rows) + "\n"
