"""A real small disk for the full-disk and read-only tests: a tmpfs, mounted only when running as root."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT_ONLY = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("mount") is None, reason="serve root per montare un tmpfs piccolo"
)

Mount = Callable[[str], Path]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Mount]:
    """``small_disk("size=256k")`` mounts a tmpfs with those options and returns its folder."""
    mount_point = tmp_path / "disco"
    mount_point.mkdir()

    def mount(options: str) -> Path:
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount_point)], check=True)
        assert os.path.ismount(mount_point)
        return mount_point

    yield mount
    if os.path.ismount(mount_point):
        subprocess.run(["umount", str(mount_point)], check=True)


def fill(disk: Path, free: int) -> None:
    """Leave about ``free`` bytes on ``disk`` (tmpfs counts whole pages)."""
    stat = os.statvfs(disk)
    (disk / "riempitivo").write_bytes(b"\0" * max(0, stat.f_bavail * stat.f_frsize - free))
