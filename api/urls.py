"""/api/v1/: the operations app's API, its schema and its docs page."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.http import HttpResponseBase
from django.middleware.http import ConditionalGetMiddleware
from django.urls import include, path, re_path
from django.utils.decorators import decorator_from_middleware
from drf_spectacular.views import SpectacularAPIView

from api import docs, problems, views

app_name = "api"

# ETags on GETs: a hash of the body, and 304 for a matching If-None-Match (Django's
# ConditionalGetMiddleware, for these views only).
_conditional = decorator_from_middleware(ConditionalGetMiddleware)


def conditional(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    return cast(Callable[..., HttpResponseBase], _conditional(view))


urlpatterns = [
    path("connections/", conditional(views.ConnectionList.as_view()), name="connections"),
    path(
        "connections/<uuid:pk>/",
        conditional(views.ConnectionDetail.as_view()),
        name="connection",
    ),
    path("connections/<uuid:pk>/token", views.ConnectionToken.as_view(), name="token"),
    path(
        "connections/<uuid:pk>/credentials",
        views.ConnectionCredentials.as_view(),
        name="credentials",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs.DocsView.as_view(url_name="api:schema"), name="docs"),
]
urlpatterns += [
    path("webhooks/endpoints/", include("api.webhook_urls")),
    # Anything else under /api/v1/: a problem body, not the portal's HTML page.
    re_path(r"^.*$", problems.not_found_view),
]
