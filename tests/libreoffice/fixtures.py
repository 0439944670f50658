"""The session's soffice as a pytest fixture (import it under its fixture name ``soffice``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .office import Soffice, unavailable


@pytest.fixture(scope="session", name="soffice")
def soffice_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Soffice]:
    """One headless soffice for every LibreOffice test: private profile, free loopback port.

    Stopped (with its children: it runs in its own process group) when the session ends.
    """
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    office = Soffice(tmp_path_factory.mktemp("libreoffice"))
    office.start()
    try:
        yield office
    finally:
        office.stop()
