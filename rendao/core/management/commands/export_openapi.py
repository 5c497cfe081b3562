"""Write the OpenAPI document to docs/openapi.json, or check it has not drifted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rendao.api import api

DEFAULT_PATH = Path(__file__).resolve().parents[4] / "docs" / "openapi.json"


def render_schema() -> str:
    schema = api.get_openapi_schema(path_prefix="/api/v1")
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Write docs/openapi.json from the API, or with --check fail if it differs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true")
        parser.add_argument("--path", default=str(DEFAULT_PATH))

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        current = render_schema()
        if options["check"]:
            if not path.exists() or path.read_text() != current:
                raise CommandError(f"{path} is out of date with the API: run `rendao manage export_openapi`.")
            self.stdout.write("OpenAPI document is up to date.")
            return
        path.write_text(current)
        self.stdout.write(f"Wrote {path}")
