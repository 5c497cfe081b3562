from __future__ import annotations

from pathlib import Path

import pytest
from pytest_django.fixtures import Settings


@pytest.fixture(autouse=True)
def uploads_dir(tmp_path: Path, settings: Settings) -> Path:
    """A fresh uploads directory per test, so "nothing was stored" can be asserted."""
    path = tmp_path / "uploads"
    settings.UPLOADS_DIR = path
    settings.UPLOADS_SENDFILE = ""
    return path
