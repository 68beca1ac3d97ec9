"""The JSON API under /api/v1/, described at /api/v1/openapi.json. It has no models of its own."""

from ninja import NinjaAPI, Schema

api = NinjaAPI(
    title="Mendwell API",
    version="1",
    urls_namespace="api",
    docs_url=None,
    description="Public and patient endpoints of a Mendwell clinic. Times are UTC (ISO 8601).",
)


class Health(Schema):
    status: str


@api.get("/health", response=Health, auth=None, tags=["meta"])
def health(request):  # type: ignore[no-untyped-def]
    return {"status": "ok"}
