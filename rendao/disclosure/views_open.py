"""The open data pages: /open/data/ describes every dataset; /open/data/<name>.csv streams one.

The CSV is produced chunk by chunk (rendao.disclosure.open_data.stream_csv), so a
million rows cost the memory of one chunk. Bad parameters answer in the API's
error shape, since the callers are scripts rather than people.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from rendao.api import error_response
from rendao.disclosure import open_data

CACHE_SECONDS = 60


@require_GET
def open_data_index(request: HttpRequest) -> HttpResponse:
    """GET /open/data/: the datasets, their fields, URLs and licence, with an example."""
    datasets = [
        {
            "dataset": d,
            "json_url": request.build_absolute_uri(reverse("api:open_dataset_page", args=[d.name])),
            "csv_url": request.build_absolute_uri(reverse("disclosure:open_data_csv", args=[d.name])),
        }
        for d in open_data.DATASETS.values()
    ]
    context = {
        "datasets": datasets,
        "licence": open_data.licence(),
        "index_url": request.build_absolute_uri(reverse("api:open_datasets")),
        "max_limit": open_data.MAX_LIMIT,
        "default_limit": open_data.DEFAULT_LIMIT,
    }
    response = render(request, "disclosure/open_data.html", context)
    patch_cache_control(response, public=True, max_age=CACHE_SECONDS)
    return response


@require_GET
def open_data_csv(request: HttpRequest, name: str) -> HttpResponse | StreamingHttpResponse:
    """GET /open/data/<name>.csv[?project=&since=&until=]: the whole dataset as CSV, streamed."""
    dataset = open_data.dataset_get(name)
    if dataset is None:
        return error_response(404, "not_found", _("There is no such dataset."))
    try:
        filters = open_data.filters_parse(dataset, request.GET)
    except ValidationError as exc:
        details = [
            {"loc": ["query", key], "message": message, "type": "value_error"}
            for key, messages in exc.message_dict.items()
            for message in messages
        ]
        return error_response(422, "validation_error", _("The request is not valid."), details)
    response = StreamingHttpResponse(
        open_data.stream_csv(name, filters), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{open_data.csv_filename(name)}"'
    patch_cache_control(response, public=True, max_age=CACHE_SECONDS)
    return response
