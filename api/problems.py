"""Every API error as an RFC 9457 problem details body (`application/problem+json`).

{"type", "title", "status", "detail"} plus, where useful, `errors` (the fields of a bad
request) or `diagnosis` (what the portal knows about a connection that cannot be used).
The `type` URIs are stable names, documented in docs/api.md ("Errors"). Every 401 has
the same body, whatever was wrong with the key.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response

from api.authentication import INVALID_KEY

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:mailbox-portal:problem:"

# status -> (type slug, title): the title is the same for every problem of a type.
_BY_STATUS = {
    400: ("invalid-request", "The request is not valid"),
    401: ("unauthenticated", "A valid service key is needed"),
    403: ("forbidden", "This key may not do that"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("connection-unusable", "The connection cannot be used"),
    413: ("body-too-large", "The request body is too large"),
    415: ("unsupported-media-type", "Send JSON (Content-Type: application/json)"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal-error", "Something went wrong in the portal"),
    503: ("microsoft-unavailable", "Microsoft is not answering right now"),
}


class Problem(exceptions.APIException):
    """An error the API raises on purpose: a status, a detail and extra members."""

    def __init__(
        self, status_code: int, detail: str, *, slug: str = "", title: str = "", **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.slug = slug
        self.title = title
        self.extra = extra
        self.headers: dict[str, str] = {}


class BodyTooLarge(Problem):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request bodies may have at most {limit} bytes.")


def body(
    status_code: int, detail: str, *, slug: str = "", title: str = "", **extra: Any
) -> dict[str, Any]:
    default_slug, default_title = _BY_STATUS.get(status_code, ("error", "Error"))
    return {
        "type": TYPE_PREFIX + (slug or default_slug),
        "title": title or default_title,
        "status": status_code,
        "detail": detail,
        **extra,
    }


def response(status_code: int, detail: str, **extra: Any) -> Response:
    return Response(
        body(status_code, detail, **extra), status=status_code, content_type=CONTENT_TYPE
    )


def _detail_text(detail: Any) -> str:
    if isinstance(detail, (list, tuple)) and detail:
        return _detail_text(detail[0])
    if isinstance(detail, dict):
        return "; ".join(f"{k}: {_detail_text(v)}" for k, v in detail.items())
    return str(detail)


def _errors(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {
            str(field): [
                str(message) for message in (messages if isinstance(messages, list) else [messages])
            ]
            for field, messages in detail.items()
        }
    messages = detail if isinstance(detail, list) else [detail]
    return {"non_field_errors": [str(message) for message in messages]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception of an API view becomes a problem."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    headers: dict[str, str] = {}
    if isinstance(exc, Problem):
        result = response(
            exc.status_code, str(exc.detail), slug=exc.slug, title=exc.title, **exc.extra
        )
        headers.update(exc.headers)
    elif isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        # One body for every bad or missing key: it must not say which it was.
        result = response(401, INVALID_KEY)
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    elif isinstance(exc, exceptions.ValidationError):
        result = response(
            400, "Some parameters are not valid; see errors.", errors=_errors(exc.detail)
        )
    elif isinstance(exc, exceptions.ParseError):
        result = response(400, "The body is not valid JSON.", slug="malformed-body")
    elif isinstance(exc, exceptions.Throttled):
        wait = max(1, int(exc.wait or 1))
        result = response(
            429, f"This key made too many requests; try again in {wait} s.", retry_after=wait
        )
        headers["Retry-After"] = str(wait)
    elif isinstance(exc, exceptions.MethodNotAllowed):
        result = response(405, _detail_text(exc.detail))
    elif isinstance(exc, exceptions.APIException):
        result = response(exc.status_code, _detail_text(exc.detail))
    else:
        # Never the exception's text: it could quote a secret. The traceback is logged.
        logger.error("API view failed: %s", type(exc).__name__, exc_info=exc)
        result = response(500, "The portal could not answer; it has been logged.")
    for name, value in headers.items():
        result[name] = value
    return result


@csrf_exempt  # the API has no cookies: a POST to an unknown path is a 404 like a GET
def not_found_view(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown paths under /api/: a problem, not the portal's HTML 404 page."""
    return JsonResponse(
        body(404, "There is no such API path."), status=404, content_type=CONTENT_TYPE
    )
