"""The Microsoft section of portal/settings.py, read afresh under different environments."""

import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

SETTINGS = Path(__file__).resolve().parents[2] / "portal" / "settings.py"
PRODUCTION = {
    "PORTAL_ENV": "production",
    "PORTAL_DEBUG": "false",
    "PORTAL_SECRET_KEY": "k" * 60,
    "PORTAL_ENCRYPTION_KEYS": "prod:" + "A" * 43 + "=",
    "PORTAL_BASE_URL": "https://portal.example.com",
}


def settings_with(monkeypatch, **environment):
    for name in (
        "MICROSOFT_CLOUD",
        "MICROSOFT_LOGIN_URL",
        "MICROSOFT_GRAPH_URL",
        "MICROSOFT_CA_BUNDLE",
        "MICROSOFT_EMULATOR_PORT",
        "PORTAL_ENV",
        "PORTAL_DEBUG",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_it_points_development_at_the_local_emulator(monkeypatch):
    loaded = settings_with(monkeypatch, MICROSOFT_EMULATOR_PORT="9443")
    assert loaded["MICROSOFT_LOGIN_URL"] == "https://127.0.0.1:9443"
    assert loaded["MICROSOFT_GRAPH_URL"] == "https://127.0.0.1:9443/graph"
    assert loaded["MICROSOFT_CA_BUNDLE"].endswith("emulator/ca.pem")


def test_it_points_production_at_the_global_cloud(monkeypatch):
    loaded = settings_with(monkeypatch, **PRODUCTION)
    assert loaded["MICROSOFT_LOGIN_URL"] == "https://login.microsoftonline.com"
    assert loaded["MICROSOFT_GRAPH_URL"] == "https://graph.microsoft.com"
    assert loaded["MICROSOFT_CA_BUNDLE"] == ""


@pytest.mark.parametrize(
    ("cloud", "login", "graph"),
    [
        ("usgov-gcchigh", "https://login.microsoftonline.us", "https://graph.microsoft.us"),
        ("usgov-dod", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
        (
            "china",
            "https://login.partner.microsoftonline.cn",
            "https://microsoftgraph.chinacloudapi.cn",
        ),
    ],
)
def test_it_knows_the_national_clouds(monkeypatch, cloud, login, graph):
    loaded = settings_with(monkeypatch, MICROSOFT_CLOUD=cloud)
    assert (loaded["MICROSOFT_LOGIN_URL"], loaded["MICROSOFT_GRAPH_URL"]) == (login, graph)


def test_it_lets_each_of_the_three_settings_be_overridden(monkeypatch):
    loaded = settings_with(
        monkeypatch,
        MICROSOFT_CLOUD="global",
        MICROSOFT_LOGIN_URL="https://login.example/",
        MICROSOFT_GRAPH_URL="https://graph.example",
        MICROSOFT_CA_BUNDLE="/etc/ca.pem",
    )
    assert (
        loaded["MICROSOFT_LOGIN_URL"],
        loaded["MICROSOFT_GRAPH_URL"],
        loaded["MICROSOFT_CA_BUNDLE"],
    ) == ("https://login.example", "https://graph.example", "/etc/ca.pem")


def test_it_refuses_the_emulator_in_production(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="MICROSOFT_CLOUD=emulator"):
        settings_with(monkeypatch, MICROSOFT_CLOUD="emulator", **PRODUCTION)


@pytest.mark.parametrize(
    "environment", [{"MICROSOFT_CLOUD": "mars"}, {"MICROSOFT_LOGIN_URL": "http://login.example"}]
)
def test_it_refuses_bad_microsoft_settings(monkeypatch, environment):
    with pytest.raises(ImproperlyConfigured):
        settings_with(monkeypatch, **environment)
