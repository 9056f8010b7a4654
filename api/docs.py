"""The API's docs page: Swagger UI from drf-spectacular-sidecar's vendored files (no CDN),
in the split form whose start-up script is a file of its own, so the portal's CSP
(script-src 'self', style-src 'self', no inline code) needs no exception."""

from __future__ import annotations

from drf_spectacular.views import SpectacularSwaggerSplitView


class DocsView(SpectacularSwaggerSplitView):
    # drf-spectacular's template with its inline <style> moved to a static file.
    template_name = "api/swagger_ui.html"
    title = "Operations app API"
