"""The command line's own words: Italian help and Italian usage mistakes, whatever click is installed.

typer ≥ 0.2x carries its own copy of click, so the exception classes are found through typer's
public ``BadParameter`` rather than imported from a ``click`` that may be another copy. The help and
the messages are written here from the parameters' public attributes (names, metavar, help,
required, default), never from click's or pydantic's English strings (which would show only, as a detail,
for a kind of mistake not foreseen here).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

import typer
from rich.text import Text
from typer.core import TyperCommand, TyperGroup


def _click_class(name: str) -> type[Exception]:
    found: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == name)
    return found


ClickException = _click_class("ClickException")
UsageError = _click_class("UsageError")

PROG = "seregno-xlsx"
CYCLE = ("importa", "schema", "genera", "distribuisci", "raccogli", "solleciti", "verifica", "consolida")
HELP_LINE = "Mostra questo aiuto ed esce."
QUOTES_HINT = 'un percorso con spazi va scritto tra virgolette, per esempio "C:\\Schede ricevute\\"'


def _italian(message: str, ctx: Any) -> Exception:
    """A usage mistake worded here, in Italian: shown as it is."""
    exc = UsageError(message, ctx)
    exc.italiano = True  # type: ignore[attr-defined]
    return exc


def _is_help(param: Any, ctx: Any) -> bool:
    return bool(param is ctx.command.get_help_option(ctx))


def _option_name(param: Any) -> str:
    """The long form the office reads in README (--output), else the short one."""
    opts: list[str] = list(param.opts)
    return next((o for o in opts if o.startswith("--")), opts[0] if opts else str(param.name))


def _metavar(param: Any) -> str:
    return str(param.metavar or (param.name or "").upper())


def _write_usage(ctx: Any, formatter: Any) -> None:
    formatter.write(f"Uso: {_usage(ctx)}\n")


def _usage(ctx: Any) -> str:
    """«seregno-xlsx consolida CARTELLA -o FILE [OPZIONI]»: arguments and required options by name."""
    command = ctx.command
    pieces: list[str] = []
    if isinstance(command, TyperGroup):
        pieces.append("COMANDO [OPZIONI]")
    else:
        optional = False
        for param in command.get_params(ctx):
            if param.param_type_name == "argument":
                pieces.append(_metavar(param) + ("..." if param.nargs != 1 else ""))
            elif param.required:
                pieces.append(f"{param.opts[0]} {_metavar(param)}")
            elif not _is_help(param, ctx):
                optional = True
        if optional:
            pieces.append("[OPZIONI]")
    return " ".join([ctx.command_path, *pieces])


def _records(ctx: Any, kind: str) -> list[tuple[str, str]]:
    rows = []
    for param in ctx.command.get_params(ctx):
        if param.param_type_name != kind or getattr(param, "hidden", False):
            continue
        if _is_help(param, ctx):
            rows.append((", ".join(param.opts), HELP_LINE))
            continue
        name = _metavar(param) + ("..." if param.nargs != 1 else "") if kind == "argument" else ", ".join(param.opts)
        if kind == "option" and not param.is_flag:
            name += f" {_metavar(param)}"
        extra = []
        if param.multiple:
            extra.append("ripetibile")
        default = param.default
        if not param.required and default not in (None, False, (), []) and param.show_default is not False:
            extra.append(f"predefinito: {getattr(default, 'value', default)}")
        if param.required:
            extra.append("obbligatorio")
        text = (getattr(param, "help", None) or "").strip()
        if extra:
            text += f"  [{'; '.join(extra)}]"
        rows.append((name, text))
    return rows


def _write_help(ctx: Any, formatter: Any, commands: Sequence[tuple[str, str]] = ()) -> None:
    _write_usage(ctx, formatter)
    command = ctx.command
    if command.help:
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(command.help)
    for title, rows in (
        ("Comandi", list(commands)),
        ("Argomenti", _records(ctx, "argument")),
        ("Opzioni", _records(ctx, "option")),
    ):
        if rows:
            with formatter.section(title):
                formatter.write_dl(rows)
    if commands:
        formatter.write_paragraph()
        formatter.write_text(f"Per l'aiuto su un comando: {ctx.command_path} COMANDO --help")


class Comando(TyperCommand):
    """A command whose help and usage mistakes are in Italian."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _write_help(ctx, formatter)

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        _write_usage(ctx, formatter)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # Extra words are reported here, in Italian: most often a path with spaces written without quotes.
        ctx.allow_extra_args = True
        rest: list[str] = super().parse_args(ctx, args)
        if ctx.args:
            extra = " ".join(f"«{a}»" for a in ctx.args)
            raise _italian(f"parole in più sulla riga di comando: {extra}; {QUOTES_HINT}", ctx)
        return rest


class Gruppo(TyperGroup):
    """The ``seregno-xlsx`` group: Italian help, and «forse intendevi» for a misspelt command."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        limit = 200  # the whole first sentence: the formatter folds it
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        _write_help(ctx, formatter, rows)

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        _write_usage(ctx, formatter)

    def list_commands(self, ctx: Any) -> list[str]:
        """In the order of the cycle, as README tells it."""
        names: list[str] = super().list_commands(ctx)
        return sorted(names, key=lambda n: CYCLE.index(n) if n in CYCLE else len(CYCLE))

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            commands = self.list_commands(ctx)
            close = difflib.get_close_matches(name, commands, n=1)
            hint = f" Forse intendevi «{close[0]}»?" if close else ""
            raise _italian(f"il comando «{name}» non esiste.{hint} Comandi: {', '.join(commands)}.", ctx)
        return super().resolve_command(ctx, args)


def _param(ctx: Any, option_name: str) -> Any:
    command = getattr(ctx, "command", None)
    for param in command.params if command is not None else []:
        if option_name in (*param.opts, *param.secondary_opts):
            return param
    return None


def _typed(param: Any, argv: Sequence[str]) -> str | None:
    """What the user typed after an option: ``--opt value`` or ``--opt=value``."""
    for n, word in enumerate(argv):
        for opt in param.opts:
            if word == opt and n + 1 < len(argv):
                return argv[n + 1]
            if word.startswith(opt + "="):
                return word[len(opt) + 1 :]
    return None


def usage_message(exc: Exception, argv: Sequence[str] = ()) -> str:
    """What went wrong in the command typed, in Italian, saying what to type instead."""
    kind = type(exc).__name__
    ctx = getattr(exc, "ctx", None)
    if getattr(exc, "italiano", False):
        return str(getattr(exc, "message", exc))
    param = getattr(exc, "param", None)
    if kind == "NoSuchOption":
        name = str(getattr(exc, "option_name", ""))
        close = sorted(getattr(exc, "possibilities", None) or [])
        hint = f" Forse intendevi {' o '.join(close)}?" if close else ""
        return f"l'opzione {name} non esiste.{hint}"
    if kind == "BadOptionUsage":
        name = str(getattr(exc, "option_name", ""))
        param = _param(ctx, name)
        if param is not None and param.is_flag:
            return f"l'opzione {name} non vuole un valore: scrivere solo {name}"
        what = _metavar(param) if param is not None else "un valore"
        return f"dopo {name} manca il valore: scrivere {name} {what}"
    if kind == "MissingParameter" and param is not None:
        help_text = (getattr(param, "help", None) or "").rstrip(".")
        about = f" ({help_text})" if help_text else ""
        if param.param_type_name == "argument":
            return f"manca {_metavar(param)}{about}"
        return f"manca l'opzione {param.opts[0]} {_metavar(param)}{about}"
    if kind == "BadParameter" and param is not None:
        name = _option_name(param) if param.param_type_name == "option" else _metavar(param)
        typed = _typed(param, argv)
        value = f"«{typed}» non è un valore ammesso" if typed is not None else "valore non ammesso"
        metavar = _metavar(param)
        if "|" in metavar:
            return f"{name}: {value}; scrivere uno di: {', '.join(metavar.split('|'))}"
        lowest = _lowest_allowed(exc)
        if lowest is not None:  # an option with a minimum: «--processi 0»
            return f"{name}: {value}; scrivere un numero intero da {lowest} in su"
        if metavar == "NUMERO":
            value = f"«{typed}» non è un numero intero" if typed is not None else "serve un numero intero"
            return f"{name}: {value}; scrivere per esempio 587"
        return f"{name}: {value}; scrivere {metavar}"
    command = getattr(ctx, "command", None)
    if isinstance(command, TyperGroup):  # options but no command: «seregno-xlsx --»
        names: list[str] = command.list_commands(ctx)  # type: ignore[arg-type]
        return f"manca il comando: scrivere uno di: {', '.join(names)}"
    # A kind of mistake not foreseen here: still Italian, with click's own words as the detail.
    return f"il comando non è scritto correttamente ({getattr(exc, 'message', '') or exc})"


def _lowest_allowed(exc: Exception) -> object | None:
    """The minimum an option's value missed (typer checks it with pydantic: «greater_than_equal»)."""
    errors = getattr(exc.__cause__, "errors", None)
    if not callable(errors):
        return None
    for error in errors():
        if error.get("type") == "greater_than_equal":
            lowest: object = error.get("ctx", {}).get("ge")
            return lowest
    return None


def show_usage_error(exc: Exception, err: Any, group: Any, argv: Sequence[str] = ()) -> None:
    """«Errore: …», the usage line and where the help is."""
    if getattr(exc, "ctx", None) is None:
        # click's parser raises some mistakes without a context: rebuild the command's own.
        exc.ctx = _context(group, argv)  # type: ignore[attr-defined]
    ctx = exc.ctx  # type: ignore[attr-defined]
    err.print(Text.assemble(("Errore:", "bold red"), " " + usage_message(exc, argv)))
    if ctx is not None:
        err.print(f"Uso: {_usage(ctx)}")
        err.print(f"Per l'aiuto: {ctx.command_path} --help")
    else:
        err.print(f"Per l'aiuto: {PROG} --help")


def _context(group: Any, argv: Sequence[str]) -> Any:
    ctx = group.make_context(PROG, [], resilient_parsing=True)
    command = group.get_command(ctx, argv[0]) if argv else None
    if command is None:
        return ctx
    return command.make_context(argv[0], [], parent=ctx, resilient_parsing=True)


def group_help(group: Any) -> str:
    """The group's help, as ``seregno-xlsx --help`` prints it.

    The context is made without parsing: typer's parsing imports pydantic, and the help needs none of it.
    """
    with group.context_class(group, info_name=PROG, resilient_parsing=True) as ctx:
        return str(ctx.get_help())
