"""Shares of time and dates, recalculated by LibreOffice: the master's formulas agree with scoring.py."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from seregno_xlsx.master.scoring import Regole
from seregno_xlsx.piano.model import Piano

from .libreoffice.fixtures import soffice_fixture  # noqa: F401  (the session's soffice)
from .libreoffice.office import Soffice
from .test_assegnazioni import FINALE, assignment_plans
from .test_libreoffice_master import differences, libreoffice_values
from .test_master_writer import expected_from_scoring, write


@pytest.mark.libreoffice
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(piano=assignment_plans(people=25))
def test_shares_recalculated_by_libreoffice_match_scoring(soffice: Soffice, piano: Piano) -> None:
    """25 random people per master (shares given, empty or invalid; dates inside, outside or reversed):
    after LibreOffice's full recalculation every share used, time, weight and person's % equals scoring's."""
    for regole in (Regole(), Regole(pesi_aree="uguali")):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "master.xlsx"
            write(path, piano, FINALE, regole)
            expected = expected_from_scoring(path, piano, FINALE, regole)
            report = soffice.run("master", {"path": str(path)})
            assert report["interactions"] == []
            people = {k: v for k, v in expected.items() if k[0] in ("Assegnazioni", "Personale")}
            assert len(people) > 25
            assert differences(libreoffice_values(report["recalc"]), people) == []  # type: ignore[arg-type]
