"""The master's formula of an indicator's %, for each rule: ``scoring.rule_pct`` written in cells.

The rule's figures (threshold, bands, tolerance) are plan content and enter the formula as literals,
written as the decimals the office typed (never in exponent form, never rounded); band percentages are
divided by 100 in the formula, as ``scoring`` divides them, so both compute the same double.
Only functions of Excel 2010 and LibreOffice: IF, MAX, MIN, ABS, ROUND, COUNT, OR.
"""

from __future__ import annotations

from decimal import Decimal

from seregno_xlsx.master.scoring import TOLERANCE_DECIMALS
from seregno_xlsx.piano.regola import Direzione, Regola


def literal(value: float) -> str:
    """A float as a formula literal that reads back as the same double: 0.00001, not 1e-05."""
    return format(Decimal(repr(float(value))), "f")


def indicator_formula(regola: Regola, target: str, value: str, missing: str, limite_100: bool) -> str:
    """=IF(no target,"",IF(no value,<missing>,<the rule's %>)); ``target``/``value`` are A1 references.

    COUNT(value)=0 for an empty cell and for «valore non valido»: both count as missing.
    """
    no_target = f'{target}=""' if regola.target_zero_counts() else f'OR({target}="",{target}=0)'
    return f'=IF({no_target},"",IF(COUNT({value})=0,{missing},{rule_expression(regola, target, value, limite_100)}))'


def rule_expression(regola: Regola, t: str, v: str, limite_100: bool) -> str:
    if regola.direzione is Direzione.SI_NO:
        return f"IF({v}>=100,1,0)"
    if regola.direzione is Direzione.ESATTO:
        tolerance = literal(regola.tolleranza or 0.0)
        return f"IF(ROUND(ABS({v}-{t}),{TOLERANCE_DECIMALS})<={tolerance},1,0)"
    lower = regola.decrescente
    if regola.fasce:
        reached = "<=" if lower else ">="
        steps = ",".join(f"IF({v}{reached}{literal(f.limite)},{literal(f.percentuale)}/100,0)" for f in regola.fasce)
        pct = f"MAX(0,{steps})"
    elif lower:
        pct = f"MAX(0,IF({v}<={t},1,IF({v}>0,{t}/{v},0)))"
    else:
        pct = f"MAX(0,{v}/{t})"
    if limite_100:
        pct = f"MIN(1,{pct})"
    if regola.soglia is not None:
        pct = f"IF({v}{'>' if lower else '<'}{literal(regola.soglia)},0,{pct})"
    return pct
