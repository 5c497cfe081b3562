"""The disbursement tests read refusals in their English wording."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # Services translate their messages into the active language, which outside
    # a request is the site's (zh-Hans); these tests match the English wording.
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _uploads_dir(tmp_path: Path, settings: Any) -> Path:
    # Supporting documents and signed forms are stored files: a fresh folder per test.
    path = tmp_path / "uploads"
    settings.UPLOADS_DIR = path
    settings.UPLOADS_SENDFILE = ""
    return path
