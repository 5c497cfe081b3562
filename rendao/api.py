"""The one JSON API, mounted at /api/v1/. Each app contributes its own router."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(
    title="rendao API",
    version="1",
    urls_namespace="api",
    description="The JSON API of rendao (人道). Public reads need no credentials; staff "
    "integrations use a personal access token as a Bearer token.",
)


@api.get("/health", auth=None, tags=["platform"], summary="Liveness check")
def health(request: object) -> dict[str, str]:
    return {"status": "ok"}
