"""One UNO job against the test session's soffice; run with Debian's ``/usr/bin/python3``.

    /usr/bin/python3 tests/libreoffice/driver.py <port> <command> < args.json

It reads its arguments as one JSON object on stdin and prints one JSON object on
stdout. It imports nothing of seregno_xlsx (another Python runs it): the tests
decide what to type and check what comes back.

Commands:
  ping      wait until soffice accepts connections
  inspect   open a workbook, report interactions, protection, locked cells, validations
  edit      open a workbook, run a list of operations as staff would (type, save, ...)
  master    open a master: formula results on opening, after calculateAll, after edits
  terminate ask soffice to quit
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import uno  # type: ignore[import-not-found]
import unohelper  # type: ignore[import-not-found]
from com.sun.star.task import XInteractionHandler  # type: ignore[import-not-found]

CONNECT_TIMEOUT = 60.0
HIDDEN = True
NULL_1900 = (1899, 12, 30)
NULL_1904 = (1904, 1, 1)
DAYS_1900_TO_1904 = 1462
# com.sun.star.sheet.CellFlags.FORMULA
FORMULA_FLAG = 16


def prop(name: str, value: Any) -> Any:
    p = uno.createUnoStruct("com.sun.star.beans.PropertyValue")
    p.Name, p.Value = name, value
    return p


def url(path: str) -> str:
    return uno.systemPathToFileUrl(str(Path(path).resolve()))


class Recorder(unohelper.Base, XInteractionHandler):  # type: ignore[misc]
    """Every question LibreOffice would ask the user on loading (repair, warnings), answered 'abort'."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def handle(self, request: Any) -> None:
        what = request.getRequest()
        self.requests.append(f"{what.typeName}: {getattr(what, 'Message', '')}")
        for continuation in request.getContinuations():
            if continuation.supportsService("com.sun.star.task.InteractionAbort") or "Abort" in str(
                continuation.getImplementationName() if hasattr(continuation, "getImplementationName") else ""
            ):
                continuation.select()
                return
        continuations = request.getContinuations()
        if continuations:
            continuations[0].select()


class Office:
    def __init__(self, port: int) -> None:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        address = f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext"
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while True:
            try:
                self.ctx = resolver.resolve(address)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.25)
        self.smgr = self.ctx.ServiceManager
        self.desktop = self.smgr.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx)
        self.dispatcher = self.smgr.createInstanceWithContext("com.sun.star.frame.DispatchHelper", self.ctx)

    def open(self, path: str) -> tuple[Any, Recorder]:
        recorder = Recorder()
        args = (
            prop("Hidden", bool(HIDDEN)),
            prop("RepairPackage", False),
            prop("ReadOnly", False),
            prop("MacroExecutionMode", 0),  # NEVER_EXECUTE
            prop("InteractionHandler", recorder),
        )
        doc = self.desktop.loadComponentFromURL(url(path), "_blank", 0, args)
        if doc is None:
            raise RuntimeError(f"LibreOffice could not open {path}: {recorder.requests}")
        return doc, recorder

    def dispatch(self, doc: Any, command: str, **args: Any) -> None:
        frame = doc.getCurrentController().getFrame()
        self.dispatcher.executeDispatch(frame, command, "", 0, tuple(prop(k, v) for k, v in args.items()))


def address(sheet: Any, a1: str) -> Any:
    return sheet.getCellRangeByName(a1)


def cell_state(cell: Any) -> dict[str, Any]:
    kind = cell.getType().value  # EMPTY, VALUE, TEXT, FORMULA
    return {"type": kind, "value": cell.getValue(), "string": cell.getString(), "formula": cell.getFormula()}


# -- inspect ---------------------------------------------------------------------------------


def validation_of(cell: Any) -> dict[str, Any]:
    v = cell.Validation
    return {
        "type": v.Type.value,
        "operator": v.getOperator().value,
        "formula1": v.getFormula1(),
        "formula2": v.getFormula2(),
        "ignore_blank": v.IgnoreBlankCells,
        "show_input": v.ShowInputMessage,
        "input_title": v.InputTitle,
        "input_message": v.InputMessage,
        "show_error": v.ShowErrorMessage,
        "error_title": v.ErrorTitle,
        "error_message": v.ErrorMessage,
        "error_style": v.ErrorAlertStyle.value,
    }


def inspect(office: Office, args: dict[str, Any]) -> dict[str, Any]:
    doc, recorder = office.open(args["path"])
    try:
        sheets = []
        for sheet in doc.Sheets:
            unlocked: list[list[int]] = []
            for ranges in sheet.getUniqueCellFormatRanges():
                if ranges.CellProtection.IsLocked:
                    continue
                for r in ranges.getRangeAddresses():
                    cells = (r.EndRow - r.StartRow + 1) * (r.EndColumn - r.StartColumn + 1)
                    if cells > 100_000:
                        raise RuntimeError(f"{sheet.Name}: unlocked range of {cells} cells")
                    unlocked += [
                        [row + 1, col + 1]
                        for row in range(r.StartRow, r.EndRow + 1)
                        for col in range(r.StartColumn, r.EndColumn + 1)
                    ]
            validations = {
                f"{row},{col}": validation_of(sheet.getCellByPosition(col - 1, row - 1)) for row, col in unlocked
            }
            # Locked cells around the table carry no validation.
            probes = {
                a1: validation_of(address(sheet, a1))["type"] for a1 in args.get("probes", []) if sheet.Name != ""
            }
            cursor = sheet.createCursor()
            cursor.gotoEndOfUsedArea(False)
            sheets.append(
                {
                    "name": sheet.Name,
                    "protected": sheet.isProtected(),
                    "visible": sheet.IsVisible,
                    "unlocked": sorted(unlocked),
                    "validations": validations,
                    "probe_validation": probes,
                    "used_end": [cursor.RangeAddress.EndRow + 1, cursor.RangeAddress.EndColumn + 1],
                }
            )
        return {
            "interactions": recorder.requests,
            "structure_protected": doc.isProtected(),
            "sheets": sheets,
        }
    finally:
        doc.close(True)


# -- edit ------------------------------------------------------------------------------------


def _date_cells(doc: Any) -> list[tuple[Any, float]]:
    """Every numeric cell shown with a date format, with its serial."""
    formats = doc.getNumberFormats()
    date_type = 2  # com.sun.star.util.NumberFormat.DATE
    found = []
    for sheet in doc.Sheets:
        content = sheet.queryContentCells(1 | 2)  # VALUE | DATETIME
        for r in content.getRangeAddresses():
            for row in range(r.StartRow, r.EndRow + 1):
                for col in range(r.StartColumn, r.EndColumn + 1):
                    cell = sheet.getCellByPosition(col, row)
                    fmt = formats.getByKey(cell.NumberFormat)
                    if fmt.Type & date_type:
                        found.append((cell, cell.getValue()))
    return found


def _unprotected(doc: Any) -> list[Any]:
    """Unprotect every protected sheet (staff can: the intermedia scheda has no password)."""
    sheets = [s for s in doc.Sheets if s.isProtected()]
    for s in sheets:
        s.unprotect("")
    return sheets


def op_type(office: Office, doc: Any, op: dict[str, Any]) -> dict[str, Any]:
    """Enter the text as typed in the cell, then Enter.

    FormulaLocal is the cell's input line: LibreOffice interprets the text with the
    document's locale (the profile's it-IT) and the cell's format, exactly as typing:
    "31/12/2021" becomes a date, "80,5" a number, text in a text-formatted cell stays
    text. It goes through the same editability check as the UI: a locked cell of a
    protected sheet does not change. (The .uno:EnterString dispatch needs a visible
    frame, which crashes LibreOffice 7.4 headless.)
    """
    cell = address(doc.Sheets.getByName(op["sheet"]), op["cell"])
    before = cell_state(cell)
    cell.FormulaLocal = op["text"]
    after = cell_state(cell)
    return {"before": before, "after": after, "changed": before != after}


def op_set_string(office: Office, doc: Any, op: dict[str, Any]) -> dict[str, Any]:
    """Text as text, never interpreted (a pasted text, a leading apostrophe)."""
    cell = address(doc.Sheets.getByName(op["sheet"]), op["cell"])
    cell.setString(op["text"])
    return {"after": cell_state(cell)}


def op_null_date_1904(office: Office, doc: Any, op: dict[str, Any]) -> dict[str, Any]:
    """Switch to the 1904 date system keeping every date shown (what a Mac workbook holds)."""
    dates = _date_cells(doc)
    sheets = _unprotected(doc)
    settings = doc.getNumberFormatSettings()
    null = settings.NullDate
    null.Year, null.Month, null.Day = NULL_1904
    settings.NullDate = null
    for cell, serial in dates:
        cell.setValue(serial - DAYS_1900_TO_1904)
    for s in sheets:
        s.protect("")
    return {"dates_moved": len(dates)}


def op_visible(office: Office, doc: Any, op: dict[str, Any]) -> dict[str, Any]:
    sheet = doc.Sheets.getByName(op["sheet"])
    sheet.IsVisible = bool(op["visible"])
    return {"visible": sheet.IsVisible}


def op_format_column(office: Office, doc: Any, op: dict[str, Any]) -> dict[str, Any]:
    """Format a whole column (select the column header, pick a colour), the sheet unprotected for it."""
    sheet = doc.Sheets.getByName(op["sheet"])
    protected = sheet.isProtected()
    if protected:
        sheet.unprotect("")
    column = sheet.getColumns().getByIndex(op["col"] - 1)
    column.CellBackColor = int(op.get("color", 0xFFFF00))
    if "last_row_text" in op:
        sheet.getCellByPosition(op["col"] - 1, 1_048_575).setString(op["last_row_text"])
    if protected:
        sheet.protect("")
    cursor = sheet.createCursor()
    cursor.gotoEndOfUsedArea(False)
    return {"used_end_row": cursor.RangeAddress.EndRow + 1}


def op_save(office: Office, doc: Any, op: dict[str, Any]) -> dict[str, Any]:
    doc.storeToURL(url(op["path"]), (prop("FilterName", op["filter"]), prop("Overwrite", True)))
    return {"saved": op["path"]}


OPS = {
    "type": op_type,
    "set_string": op_set_string,
    "null_date_1904": op_null_date_1904,
    "visible": op_visible,
    "format_column": op_format_column,
    "save": op_save,
}


def edit(office: Office, args: dict[str, Any]) -> dict[str, Any]:
    doc, recorder = office.open(args["path"])
    try:
        results = [OPS[op["op"]](office, doc, op) for op in args["ops"]]
        readonly = [{a.Name: a.Value for a in doc.getArgs()}.get("ReadOnly"), doc.isReadonly()]
        return {"interactions": recorder.requests, "results": results, "readonly": readonly}
    finally:
        doc.close(True)


# -- master ----------------------------------------------------------------------------------


def formula_values(doc: Any) -> dict[str, Any]:
    """Every formula cell: "Sheet!A1" -> [value as data array gives it, error code]."""
    out: dict[str, Any] = {}
    for sheet in doc.Sheets:
        for r in sheet.queryContentCells(FORMULA_FLAG).getRangeAddresses():
            block = sheet.getCellRangeByPosition(r.StartColumn, r.StartRow, r.EndColumn, r.EndRow)
            data = block.getDataArray()
            for i, row in enumerate(data):
                for j, value in enumerate(row):
                    col, rown = r.StartColumn + j, r.StartRow + i
                    cell = sheet.getCellByPosition(col, rown)
                    name = sheet.getCellByPosition(col, rown).AbsoluteName.split(".", 1)[1].replace("$", "")
                    out[f"{sheet.Name}!{name}"] = [value, cell.getError()]
    return out


def master(office: Office, args: dict[str, Any]) -> dict[str, Any]:
    doc, recorder = office.open(args["path"])
    try:
        result: dict[str, Any] = {"interactions": recorder.requests, "open": formula_values(doc)}
        doc.calculateAll()
        result["recalc"] = formula_values(doc)
        if args.get("edits"):
            for e in args["edits"]:
                cell = address(doc.Sheets.getByName(e["sheet"]), e["cell"])
                if e["value"] is None:
                    cell.setString("")
                else:
                    cell.setValue(float(e["value"]))
            doc.calculateAll()
            result["edited"] = formula_values(doc)
        return result
    finally:
        doc.close(True)


def terminate(office: Office, args: dict[str, Any]) -> dict[str, Any]:
    with contextlib.suppress(Exception):  # the bridge drops as soffice quits
        office.desktop.terminate()
    return {"terminated": True}


COMMANDS = {
    "ping": lambda office, args: {"ok": True},
    "inspect": inspect,
    "edit": edit,
    "master": master,
    "terminate": terminate,
}


def main() -> None:
    port, command = int(sys.argv[1]), sys.argv[2]
    args = json.loads(sys.stdin.read() or "{}")
    office = Office(port)
    result = COMMANDS[command](office, args)
    sys.stdout.write(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
