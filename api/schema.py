"""What drf-spectacular cannot see by itself: the key scheme (Authorization: Bearer)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ServiceKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ServiceKeyAuthentication"
    name = "serviceKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "mbp_live_<key id>_<secret>",
            "description": "A service key, created by support (shown once).",
        }


PROBLEM_MEDIA_TYPE = "application/problem+json"
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_COMMON = {
    "401": "Missing, malformed, unknown, expired or revoked key (always the same body)",
    "403": "The key's service account lacks the scope",
    "429": "The key's rate limit; wait Retry-After seconds",
}
_WITH_ID = {"404": "No such resource for this key (also one of a tenant it may not see)"}
_WITH_BODY = {
    "400": "The body or a parameter is not valid (see errors)",
    "413": "The body is too large",
    "415": "The body is not JSON",
}


def problem_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A postprocessing hook: every error of every operation is documented as a problem
    (application/problem+json, the Problem schema), and the errors every key-protected
    operation can give are listed even where a view did not name them."""
    for path, item in result.get("paths", {}).items():
        for _method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            extra: dict[str, str] = {}
            if operation.get("security"):
                extra.update(_COMMON)
            if "{" in path:
                extra.update(_WITH_ID)
            if "requestBody" in operation:
                extra.update(_WITH_BODY)
            for status, description in extra.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status[:1] in ("4", "5"):
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}
    return result
