"""The OpenAPI 3.1 schema and the docs page (vendored assets, the portal's CSP)."""

from __future__ import annotations

import pytest
import yaml
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_schema_is_openapi_3_1_with_the_key_scheme_and_problems():
    response = Client().get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"] == "3.1.0"
    assert schema["components"]["securitySchemes"]["serviceKey"]["scheme"] == "bearer"
    token = schema["paths"]["/api/v1/connections/{id}/token"]["post"]
    assert token["security"] == [{"serviceKey": []}]
    for status in ("401", "403", "404", "409", "429"):
        assert "Problem" in str(token["responses"][status])
    assert {"/api/v1/connections/", "/api/v1/connections/{id}/"} <= set(schema["paths"])
    assert not [p for p in schema["paths"] if "schema" in p or "docs" in p]


def test_the_schema_also_comes_as_yaml():
    response = Client().get("/api/v1/schema/")
    assert yaml.safe_load(response.content)["openapi"] == "3.1.0"


def test_the_docs_page_loads_only_the_portals_own_files_under_its_csp():
    client = Client()
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "http://" not in html
    assert "https://" not in html
    assert "<style>" not in html
    assert "<script>" not in html  # every script is a file: script-src 'self' allows it
    csp = page["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in script.content.decode()


def test_unknown_api_paths_are_problems_not_html(client):
    response = client.get("/api/v1/tenants/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404
