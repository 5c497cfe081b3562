"""Open data (issue 7): everything public as JSON pages and CSV exports.

Each dataset is a queryset of public rows and a fixed list of columns, read with
`values_list`, so a column can only be one named here: personal data (donor
names and mobiles, bank accounts, addresses, user ids, follow tokens,
commitments) is never selected, not merely hidden. Donors appear only as
`Donation.public_name`, as on the project pages.

Rows are ordered by primary key, the stable identifier of every dataset. A JSON
page is one keyset query (`id > after ORDER BY id LIMIT n`). A CSV export is one
query read through a cursor `chunk_size` rows at a time (`QuerySet.iterator`), so it
holds one chunk in memory however many rows there are. One query rather than a
keyset query per chunk: each of those would be planned afresh, and with stale
statistics PostgreSQL plans them as a scan of the whole project and a sort, which
repeated per chunk makes an export quadratic. Outside a transaction Django
declares the cursor WITH HOLD, so PostgreSQL computes the result once at the
start (spilling to disk past work_mem) and no transaction stays open while a
slow client downloads.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rendao.disbursements.models import Disbursement, Payment
from rendao.disbursements.models import Status as DisbursementStatus
from rendao.disclosure.models import Disclosure, DisclosureStatus
from rendao.funds.models import CoInitiator, DailyTotal, Donation, DonationStatus, FundraisingProject
from rendao.funds.selectors import PUBLIC_STATUSES
from rendao.goods.models import Move
from rendao.ledger.models import Checkpoint

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
CSV_CHUNK = 2000
# Paid gifts as published, including those refunded later (with refunded_fen), so
# that Σ(amount_fen − refunded_fen) per project equals its published raised_fen.
DONATION_STATUSES = (DonationStatus.PAID, DonationStatus.PARTLY_REFUNDED, DonationStatus.REFUNDED)
# Disbursements the society has committed to: approved, paid or signed off.
DISBURSEMENT_STATUSES = (
    DisbursementStatus.APPROVED,
    DisbursementStatus.PARTLY_PAID,
    DisbursementStatus.PAID,
    DisbursementStatus.SIGNED_OFF,
    DisbursementStatus.DISPUTED,
)
# Spreadsheet programs run a cell starting with one of these as a formula; text
# cells get a leading apostrophe in the CSV (never in JSON, which stays exact).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- values: one converter per column type, for JSON and for CSV ---------------------


def _date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


@cache
def _china() -> ZoneInfo:
    # The society's zone, not the request's: a day in the data is a day in Xiamen.
    return ZoneInfo(settings.TIME_ZONE)


def _datetime(value: datetime | None) -> str | None:
    return value.astimezone(_china()).isoformat() if value is not None else None


def _local_day(value: datetime | None) -> str | None:
    return value.astimezone(_china()).date().isoformat() if value is not None else None


def _b64(value: bytes | memoryview | None) -> str | None:
    return base64.b64encode(bytes(value)).decode() if value is not None else None


def _plain(value: Any) -> Any:
    return value


def _str(value: Any) -> str | None:
    return str(value) if value is not None else None


def _csv_plain(value: Any) -> Any:
    return "" if value is None else value


def _csv_bool(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def _csv_text(value: str | None) -> str:
    if value is None:
        return ""
    return "'" + value if value.startswith(FORMULA_START) else value


def _csv_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Kind:
    """How a column's database value becomes JSON and a CSV cell, and the type the docs name."""

    label: str
    to_json: Callable[[Any], Any] = _plain
    csv: Callable[[Any], Any] | None = None

    def to_csv(self, value: Any) -> Any:
        if self.csv is not None:
            return self.csv(value)
        return _csv_plain(self.to_json(value))


INT = Kind("integer", csv=_csv_plain)
FEN = Kind("integer (fen)", csv=_csv_plain)
BOOL = Kind("boolean", csv=_csv_bool)
TEXT = Kind("text", _str, csv=_csv_text)
DATE = Kind("date (YYYY-MM-DD)", _date)
DAY = Kind("date (YYYY-MM-DD, China time)", _local_day)
DATETIME = Kind("date-time (ISO 8601, +08:00)", _datetime)
B64 = Kind("base64", _b64)
UUID = Kind("UUID", _str)
JSON = Kind("JSON object", _plain, csv=_csv_json)


# --- datasets -----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    source: str
    kind: Kind
    description: str | Promise


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str | Promise
    description: str | Promise
    rows: Callable[[], QuerySet[Any]]
    columns: tuple[Column, ...]
    # The lookup `project=` filters on, and the date or date-time `since`/`until` filter on.
    project_lookup: str | None = None
    date_lookup: str | None = None
    date_is_datetime: bool = False
    fields: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(c.name for c in self.columns))


def _public_projects() -> QuerySet[FundraisingProject]:
    return FundraisingProject.objects.filter(status__in=PUBLIC_STATUSES)


def _donations() -> QuerySet[Donation]:
    return Donation.objects.filter(
        status__in=DONATION_STATUSES, refund_flagged=False, project__status__in=PUBLIC_STATUSES
    )


def _daily_totals() -> QuerySet[DailyTotal]:
    name = CoInitiator.objects.filter(pk=OuterRef("partner")).values("organisation_name")[:1]
    return DailyTotal.objects.filter(project__status__in=PUBLIC_STATUSES).annotate(
        partner_name=Coalesce(Subquery(name), Value(""))
    )


def _public_disbursement() -> Q:
    # A disbursement from a general fund has no project; one from a project's fund
    # is public with the project.
    return Q(status__in=DISBURSEMENT_STATUSES) & (
        Q(project__isnull=True) | Q(project__status__in=PUBLIC_STATUSES)
    )


def _disbursements() -> QuerySet[Disbursement]:
    return Disbursement.objects.filter(_public_disbursement())


def _disbursement_payments() -> QuerySet[Payment]:
    return Payment.objects.filter(disbursement__in=Disbursement.objects.filter(_public_disbursement()))


def _goods_moves() -> QuerySet[Move]:
    return Move.objects.all()


def _disclosures() -> QuerySet[Disclosure]:
    return Disclosure.objects.filter(status=DisclosureStatus.PUBLISHED)


def _checkpoints() -> QuerySet[Checkpoint]:
    return Checkpoint.objects.all()


def C(name: str, kind: Kind, description: str | Promise, source: str = "") -> Column:
    return Column(name=name, source=source or name, kind=kind, description=description)


_ID = C("id", INT, _("Stable identifier of the row; pages and exports are ordered by it."))
_PROJECT = C("project_id", INT, _("The fundraising project (see the projects dataset)."))

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            name="projects",
            title=_("Fundraising projects"),
            description=_("Every project whose page is public (open, closed or with its final report)."),
            rows=_public_projects,
            columns=(
                _ID,
                C("title", TEXT, _("Title.")),
                C("branch_id", INT, _("The organising branch.")),
                C("branch_name", TEXT, _("The organising branch's name."), "branch__name"),
                C("filing_number", TEXT, _("Filing number with the civil affairs department.")),
                C("filed_on", DATE, _("Filing date.")),
                C("start_date", DATE, _("First day of the fundraising period.")),
                C("end_date", DATE, _("Last day of the fundraising period.")),
                C("opened_on", DATE, _("Day it opened for donations.")),
                C("closed_on", DATE, _("Day it closed.")),
                C("final_report_published_on", DATE, _("Day its final report was published.")),
                C("target_fen", FEN, _("Target amount.")),
                C("raised_fen", FEN, _("Raised online so far, net of refunds.")),
                C("donation_count", INT, _("Online donations counted, net of full refunds.")),
                C("restricted", BOOL, _("Restricted (定向) funds.")),
                C("emergency", BOOL, _("Emergency appeal.")),
                C("status", TEXT, _("open, closed or final_report_published.")),
            ),
            project_lookup="pk",
            date_lookup="opened_on",
        ),
        Dataset(
            name="donations",
            title=_("Online donations"),
            description=_(
                "Each paid online donation as the project page publishes it: the donor only by "
                "the public name they chose (masked name or 爱心人士), never contacts."
            ),
            rows=_donations,
            columns=(
                _ID,
                _PROJECT,
                C("paid_on", DAY, _("Day it was paid."), "paid_at"),
                C("amount_fen", FEN, _("Amount given.")),
                C("refunded_fen", FEN, _("Amount refunded since.")),
                C("public_name", TEXT, _("The donor as published: masked name or 爱心人士.")),
                C("channel", TEXT, _("Payment channel.")),
                C("co_initiator_id", INT, _("The co-initiator whose link it came through, if any.")),
                C("status", TEXT, _("paid, partly_refunded or refunded.")),
                C("ledger_index", INT, _("Its entry in the transparency log (/ledger/).")),
            ),
            project_lookup="project",
            date_lookup="paid_at",
            date_is_datetime=True,
        ),
        Dataset(
            name="daily_totals",
            title=_("Daily donation totals"),
            description=_(
                "Online donations per project, day, channel and co-initiator: what the disclosure "
                "pages sum. Refunds count on the day they succeeded."
            ),
            rows=_daily_totals,
            columns=(
                _ID,
                _PROJECT,
                C("day", DATE, _("Day (China time).")),
                C("channel", TEXT, _("Payment channel.")),
                C("partner_id", INT, _("Co-initiator id, 0 for none."), "partner"),
                C("partner_name", TEXT, _("Co-initiating organisation, empty for none.")),
                C("received_count", INT, _("Donations received.")),
                C("received_fen", FEN, _("Amount received.")),
                C("refunded_count", INT, _("Donations fully refunded.")),
                C("refunded_fen", FEN, _("Amount refunded.")),
            ),
            project_lookup="project",
            date_lookup="day",
        ),
        Dataset(
            name="disbursements",
            title=_("Disbursements"),
            description=_(
                "Money approved for or paid to payee institutions, with its purpose and category. "
                "No bank account numbers."
            ),
            rows=_disbursements,
            columns=(
                _ID,
                C("number", TEXT, _("Disbursement number.")),
                C("project_id", INT, _("The project whose fund pays it; empty for a general fund.")),
                C("branch_id", INT, _("The paying branch.")),
                C("branch_name", TEXT, _("The paying branch's name."), "branch__name"),
                C("payee_name", TEXT, _("The payee institution."), "payee__name"),
                C("payee_kind", TEXT, _("Kind of institution (hospital, school…)."), "payee__kind"),
                C("related_party", BOOL, _("Related party (Charity Law Art 40).")),
                C("category", TEXT, _("charitable, management or fundraising.")),
                C("amount_fen", FEN, _("Amount approved.")),
                C("paid_fen", FEN, _("Amount paid so far.")),
                C("purpose", TEXT, _("Purpose.")),
                C("status", TEXT, _("approved, partly_paid, paid, signed_off or disputed.")),
                C("requested_on", DAY, _("Day it was requested."), "requested_at"),
                C("signed_off_on", DAY, _("Day the payee confirmed or disputed receipt."), "signed_off_at"),
            ),
            project_lookup="project",
            date_lookup="requested_at",
            date_is_datetime=True,
        ),
        Dataset(
            name="disbursement_payments",
            title=_("Disbursement payments"),
            description=_("Each bank transfer made against a disbursement."),
            rows=_disbursement_payments,
            columns=(
                _ID,
                C("disbursement_id", INT, _("The disbursement (see the disbursements dataset).")),
                C("disbursement_number", TEXT, _("The disbursement's number."), "disbursement__number"),
                C("project_id", INT, _("The project whose fund paid it."), "disbursement__project_id"),
                C("paid_on", DATE, _("Day of the transfer.")),
                C("amount_fen", FEN, _("Amount transferred.")),
                C("ledger_index", INT, _("Its entry in the transparency log.")),
            ),
            project_lookup="disbursement__project",
            date_lookup="paid_on",
        ),
        Dataset(
            name="goods_moves",
            title=_("Goods movements"),
            description=_(
                "Every change of stock: goods received, moved between warehouses, issued, written off."
            ),
            rows=_goods_moves,
            columns=(
                _ID,
                C("kind", TEXT, _("receive, transfer, issue or write_off.")),
                C("lot_number", TEXT, _("The lot."), "lot__number"),
                C("item_name", TEXT, _("Item."), "lot__item_name"),
                C("specification", TEXT, _("Specification."), "lot__specification"),
                C("unit", TEXT, _("Unit."), "lot__unit"),
                C("quantity", INT, _("Quantity moved.")),
                C(
                    "project_id",
                    INT,
                    _("The project the goods were given to, if any."),
                    "lot__intake__project_id",
                ),
                C("from_warehouse", TEXT, _("Warehouse the goods left."), "from_warehouse__code"),
                C("from_branch_name", TEXT, _("That warehouse's branch."), "from_warehouse__branch__name"),
                C("to_warehouse", TEXT, _("Warehouse the goods entered."), "to_warehouse__code"),
                C("to_branch_name", TEXT, _("That warehouse's branch."), "to_warehouse__branch__name"),
                C("at", DATETIME, _("When.")),
                C("ledger_index", INT, _("Its entry in the transparency log.")),
            ),
            project_lookup="lot__intake__project",
            date_lookup="at",
            date_is_datetime=True,
        ),
        Dataset(
            name="disclosures",
            title=_("Published disclosures"),
            description=_(
                "Every published version of every disclosure; a correction is a new version that "
                "names the version it corrects, and the old one stays."
            ),
            rows=_disclosures,
            columns=(
                _ID,
                C("series", UUID, _("Shared by all versions of one disclosure.")),
                C("version", INT, _("Version within the series, from 1.")),
                C("kind", TEXT, _("Kind of disclosure.")),
                C("branch_id", INT, _("The publishing branch.")),
                C("branch_name", TEXT, _("The publishing branch's name."), "branch__name"),
                C("project_id", INT, _("The project it is about, if any.")),
                C("period_start", DATE, _("First day of the period covered.")),
                C("period_end", DATE, _("Last day of the period covered.")),
                C("title", TEXT, _("Title.")),
                C("body", TEXT, _("Text.")),
                C("figures", JSON, _("Figures, {label: integer fen}.")),
                C("published_at", DATETIME, _("When it was published.")),
                C("corrects_version", INT, _("The version this one corrects, if any."), "corrects__version"),
                C("correction_note", TEXT, _("What the correction changed.")),
                C("ledger_index", INT, _("Its entry in the transparency log.")),
            ),
            project_lookup="project",
            date_lookup="published_at",
            date_is_datetime=True,
        ),
        Dataset(
            name="checkpoints",
            title=_("Transparency log checkpoints"),
            description=_(
                "Signed tree heads of the transparency log (/ledger/checkpoint serves the newest "
                "with witness cosignatures)."
            ),
            rows=_checkpoints,
            columns=(
                _ID,
                C("size", INT, _("Entries the checkpoint covers.")),
                C("root", B64, _("Merkle tree hash.")),
                C("note", TEXT, _("The signed checkpoint note, exactly as signed.")),
                C("created_at", DATETIME, _("When it was signed.")),
            ),
            date_lookup="created_at",
            date_is_datetime=True,
        ),
    )
}


def dataset_get(name: str) -> Dataset | None:
    return DATASETS.get(name)


# --- licence ------------------------------------------------------------------------


@dataclass(frozen=True)
class Licence:
    name: str
    url: str
    attribution: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "url": self.url, "attribution": self.attribution}


def licence() -> Licence:
    return Licence(
        name=settings.OPEN_DATA_LICENCE,
        url=settings.OPEN_DATA_LICENCE_URL,
        attribution=settings.OPEN_DATA_ATTRIBUTION,
    )


# --- filters ------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    project: int | None = None
    since: date | None = None
    until: date | None = None


def filters_check(dataset: Dataset, filters: Filters) -> None:
    """Refuse filters the dataset has no column for, or a period that ends before it starts."""
    errors: dict[str, str] = {}
    if filters.project is not None and dataset.project_lookup is None:
        errors["project"] = gettext("This dataset cannot be filtered by project.")
    if (filters.since is not None or filters.until is not None) and dataset.date_lookup is None:
        errors["since"] = gettext("This dataset cannot be filtered by date.")
    if filters.since is not None and filters.until is not None and filters.since > filters.until:
        errors["until"] = gettext("The end date is before the start date.")
    if errors:
        raise ValidationError(errors)


def filters_parse(dataset: Dataset, params: Mapping[str, str]) -> Filters:
    """Filters from query parameters (the CSV page URL); ValidationError names each bad one."""
    errors: dict[str, str] = {}
    project: int | None = None
    raw = params.get("project", "")
    if raw:
        if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**63:
            project = int(raw)
        else:
            errors["project"] = gettext("Give the project as a positive whole number.")
    days: dict[str, date | None] = {"since": None, "until": None}
    for key in days:
        raw = params.get(key, "")
        if raw:
            try:
                days[key] = date.fromisoformat(raw) if len(raw) == 10 else None
            except ValueError:
                days[key] = None
            if days[key] is None:
                errors[key] = gettext("Give the date as YYYY-MM-DD.")
    if errors:
        raise ValidationError(errors)
    filters = Filters(project=project, since=days["since"], until=days["until"])
    filters_check(dataset, filters)
    return filters


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=_china())


def _filtered(dataset: Dataset, filters: Filters) -> QuerySet[Any]:
    filters_check(dataset, filters)
    qs = dataset.rows()
    if filters.project is not None and dataset.project_lookup is not None:
        qs = qs.filter(**{dataset.project_lookup: filters.project})
    lookup = dataset.date_lookup
    if lookup is not None:
        # Days are China days: a date-time column is compared with local midnights.
        if filters.since is not None:
            since: date | datetime = _start_of(filters.since) if dataset.date_is_datetime else filters.since
            qs = qs.filter(**{f"{lookup}__gte": since})
        if filters.until is not None:
            if dataset.date_is_datetime:
                qs = qs.filter(**{f"{lookup}__lt": _start_of(filters.until + timedelta(days=1))})
            else:
                qs = qs.filter(**{f"{lookup}__lte": filters.until})
    return qs


def _rows(dataset: Dataset, filters: Filters) -> QuerySet[Any]:
    return _filtered(dataset, filters).order_by("pk").values_list(*(c.source for c in dataset.columns))


# --- JSON pages ---------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    # The `after` of the next page, None on the last page.
    next_after: int | None


def page_get(dataset: Dataset, filters: Filters, *, after: int = 0, limit: int = DEFAULT_LIMIT) -> Page:
    """One page of rows with ids greater than `after`; one query (limit + 1 rows tell if more follow)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(
            {"limit": gettext("The limit must be between 1 and %(max)d.") % {"max": MAX_LIMIT}}
        )
    rows = list(_rows(dataset, filters).filter(pk__gt=after)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    kinds = [(c.name, c.kind.to_json) for c in dataset.columns]
    items = [
        {name: convert(value) for (name, convert), value in zip(kinds, row, strict=True)} for row in rows
    ]
    return Page(items=items, next_after=rows[-1][0] if more else None)


# --- CSV ----------------------------------------------------------------------------


def stream_csv(name: str, filters: Filters | None = None, *, chunk_size: int = CSV_CHUNK) -> Iterator[bytes]:
    """The dataset `name` as UTF-8 CSV with a BOM and a header row, produced chunk by chunk.

    Memory stays that of one chunk of rows whatever the dataset's size. Raises
    KeyError for an unknown dataset and ValidationError for filters it refuses,
    before anything is produced.
    """
    dataset = DATASETS[name]
    filters = filters or Filters()
    filters_check(dataset, filters)
    return _csv_lines(dataset, filters, chunk_size)


def _csv_lines(dataset: Dataset, filters: Filters, chunk_size: int) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    # The BOM makes Excel read the file as UTF-8 rather than the system code page.
    buffer.write("\ufeff")
    writer.writerow(dataset.fields)
    cells = [c.kind.to_csv for c in dataset.columns]
    rows = _rows(dataset, filters).iterator(chunk_size=chunk_size)
    while chunk := list(islice(rows, chunk_size)):
        writer.writerows([cell(v) for cell, v in zip(cells, row, strict=True)] for row in chunk)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def csv_filename(name: str) -> str:
    return f"rendao-{name}-{timezone.localdate().isoformat()}.csv"
