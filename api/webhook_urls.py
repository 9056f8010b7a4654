"""Webhook endpoint management, included by api/urls.py at `webhooks/endpoints/`."""

from __future__ import annotations

from django.urls import path

from api import webhook_views

urlpatterns = [
    path("", webhook_views.EndpointList.as_view(), name="webhook-endpoints"),
    path("<uuid:pk>/", webhook_views.EndpointDetail.as_view(), name="webhook-endpoint"),
    path(
        "<uuid:pk>/rotate-secret",
        webhook_views.EndpointRotateSecret.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
]
