"""Bodies the API does not read are refused before anything reads them.

The API takes JSON only, up to Django's upload limit. Checked here, in a middleware, because
later is too late: the CSRF check parses a form body, and a body read as a form cannot be read
again as JSON (Django's ``RawPostDataException``), while a body over the limit raises as soon
as anyone touches it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

PREFIX = "/api/"
WITH_BODY = {"POST", "PUT", "PATCH"}


def refusal(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


class ApiBodyGuard:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(PREFIX) and request.method in WITH_BODY:
            refused = self.check(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    @staticmethod
    def check(request: HttpRequest) -> JsonResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return refusal(400, "bad_length", "The Content-Length header is not a number.")
        chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
        if length == 0 and not chunked:
            return None  # no body: an empty payload, whatever the type says
        if request.content_type != "application/json":
            return refusal(415, "unsupported_media_type", "Send JSON (Content-Type: application/json).")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return refusal(413, "too_large", f"The request body is larger than {limit} bytes.")
        return None
