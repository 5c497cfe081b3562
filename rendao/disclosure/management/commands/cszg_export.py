"""`rendao manage cszg_export --project N --from YYYY-MM-DD --to YYYY-MM-DD --out file.xlsx`.

Writes the 慈善中国 export of one project (rendao.disclosure.cszg): an XLSX
workbook with every sheet, or with `--out file.csv` one sheet (`--sheet`) as
UTF-8 CSV with a BOM. Run by operators on the server, so no branch scope applies.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rendao.disclosure.cszg import SHEET_KEYS, cszg_csv, cszg_period, cszg_sheets, cszg_xlsx
from rendao.funds.models import FundraisingProject


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {text!r}") from exc


class Command(BaseCommand):
    help = "Export one fundraising project's figures for the national charity information platform."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", type=int, required=True, help="the fundraising project's id")
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
        parser.add_argument("--out", required=True, help="file to write: .xlsx (all sheets) or .csv")
        parser.add_argument(
            "--sheet", choices=SHEET_KEYS, default=SHEET_KEYS[0], help="the sheet written to a .csv"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        project = FundraisingProject.objects.select_related("branch").filter(pk=options["project"]).first()
        if project is None:
            raise CommandError(f"no fundraising project {options['project']}")
        try:
            period = cszg_period(_day(options["start"]), _day(options["end"]))
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        out = Path(options["out"])
        if out.suffix.lower() not in (".xlsx", ".csv"):
            raise CommandError("--out must end in .xlsx or .csv")
        sheets = cszg_sheets(project, period)
        if out.suffix.lower() == ".csv":
            data = cszg_csv(next(s for s in sheets if s.key == options["sheet"]))
        else:
            data = cszg_xlsx(sheets)
        out.write_bytes(data)
        self.stdout.write(f"wrote {out} ({len(data)} bytes)")
