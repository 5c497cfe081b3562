"""The open data router: every public dataset as keyset-paginated JSON (issue 7).

`GET /open/datasets` lists the datasets, their fields and the licence;
`GET /open/datasets/{name}?after=&limit=` answers one page ordered by id, with
the URL of the next page. Pages carry an ETag (a conditional request answers 304)
and may be cached publicly for a minute. The same data as CSV, streamed, is at
/open/data/<name>.csv (rendao.disclosure.views_open).
"""

# No `from __future__ import annotations` here: ninja reads the operations'
# annotations at import (see rendao/core/api.py).

import hashlib
import json
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode
from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError as SchemaError

from rendao.core.api import errors
from rendao.disclosure import open_data

router = Router(tags=["open data"])

CACHE_SECONDS = 60
# Ids are 64-bit: a larger number would overflow the database's integer, not just find nothing.
BIGINT_MAX = 2**63 - 1


class LicenceOut(Schema):
    name: str = Field(description="The licence the data is published under.")
    url: str
    attribution: str = Field(description="How to credit the source.")


class FieldOut(Schema):
    name: str
    type: str
    description: str


class DatasetOut(Schema):
    name: str
    title: str
    description: str
    json_url: str
    csv_url: str
    filters: list[str] = Field(description="Filters the dataset accepts besides after and limit.")
    fields: list[FieldOut]


class DatasetsOut(Schema):
    licence: LicenceOut
    datasets: list[DatasetOut]


class PageQuery(Schema):
    after: int = Field(
        0, ge=0, le=BIGINT_MAX, description="Answer rows whose id is greater than this (the cursor)."
    )
    limit: int = Field(
        open_data.DEFAULT_LIMIT, ge=1, le=open_data.MAX_LIMIT, description="Rows per page (1–1000)."
    )
    project: int | None = Field(
        None, ge=1, le=BIGINT_MAX, description="Only rows of this project, where there is one."
    )
    since: date | None = Field(None, description="Only rows on or after this day (China time).")
    until: date | None = Field(None, description="Only rows on or before this day (China time).")


class PageOut(Schema):
    dataset: str
    licence: LicenceOut
    items: list[dict[str, Any]] = Field(
        description="Rows in id order; the fields are listed by /open/datasets."
    )
    next: str | None = Field(description="The next page's URL; null on the last page.")


def _filters_of(dataset: open_data.Dataset) -> list[str]:
    names = []
    if dataset.project_lookup is not None:
        names.append("project")
    if dataset.date_lookup is not None:
        names.extend(["since", "until"])
    return names


def _cached_json(request: HttpRequest, body: dict[str, Any]) -> HttpResponse:
    """The body as JSON with a strong ETag of its bytes; 304 when the client has them already."""
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(content, content_type="application/json; charset=utf-8")
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=CACHE_SECONDS)
    return response


@router.get(
    "/datasets",
    auth=None,
    url_name="open_datasets",
    response={200: DatasetsOut, **errors()},
    summary="The open datasets, their fields and licence",
)
def datasets(request: HttpRequest) -> HttpResponse:
    body = {
        "licence": open_data.licence().as_dict(),
        "datasets": [
            {
                "name": d.name,
                "title": str(d.title),
                "description": str(d.description),
                "json_url": request.build_absolute_uri(reverse("api:open_dataset_page", args=[d.name])),
                "csv_url": request.build_absolute_uri(reverse("disclosure:open_data_csv", args=[d.name])),
                "filters": _filters_of(d),
                "fields": [
                    {"name": c.name, "type": c.kind.label, "description": str(c.description)}
                    for c in d.columns
                ],
            }
            for d in open_data.DATASETS.values()
        ],
    }
    return _cached_json(request, body)


@router.get(
    "/datasets/{name}",
    auth=None,
    url_name="open_dataset_page",
    response={200: PageOut, **errors(404, 422)},
    summary="One page of an open dataset",
)
def dataset_page(request: HttpRequest, name: str, query: Query[PageQuery]) -> HttpResponse:
    """Rows with id greater than `after`, in id order; follow `next` until it is null."""
    dataset = open_data.dataset_get(name)
    if dataset is None:
        raise Http404
    filters = open_data.Filters(project=query.project, since=query.since, until=query.until)
    try:
        page = open_data.page_get(dataset, filters, after=query.after, limit=query.limit)
    except ValidationError as exc:
        # Located in the query, as the schema's own errors are.
        raise SchemaError(
            [
                {"loc": ["query", key], "msg": message, "type": "value_error"}
                for key, messages in exc.message_dict.items()
                for message in messages
            ]
        ) from exc
    next_url = None
    if page.next_after is not None:
        params = {"after": str(page.next_after)}
        if "limit" in request.GET:
            params["limit"] = str(query.limit)
        if query.project is not None:
            params["project"] = str(query.project)
        if query.since is not None:
            params["since"] = query.since.isoformat()
        if query.until is not None:
            params["until"] = query.until.isoformat()
        next_url = request.build_absolute_uri(request.path) + "?" + urlencode(sorted(params.items()))
    body = {
        "dataset": dataset.name,
        "licence": open_data.licence().as_dict(),
        "items": page.items,
        "next": next_url,
    }
    return _cached_json(request, body)
