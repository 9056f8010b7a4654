import pytest
from django.core.exceptions import ImproperlyConfigured

from portal import env


def test_it_reads_booleans(monkeypatch):
    monkeypatch.setenv("X_FLAG", "yes")
    assert env.env_bool("X_FLAG", False) is True
    monkeypatch.setenv("X_FLAG", "off")
    assert env.env_bool("X_FLAG", True) is False


def test_it_rejects_a_non_boolean_naming_the_variable(monkeypatch):
    monkeypatch.setenv("PORTAL_DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="PORTAL_DEBUG='maybe'"):
        env.env_bool("PORTAL_DEBUG", False)


def test_it_uses_the_default_when_unset_or_blank(monkeypatch):
    monkeypatch.delenv("X_NUMBER", raising=False)
    assert env.env_int("X_NUMBER", 7) == 7
    monkeypatch.setenv("X_NUMBER", "  ")
    assert env.env_int("X_NUMBER", 7) == 7


@pytest.mark.parametrize("value", ["seven", "1.5", "0x10"])
def test_it_rejects_a_non_integer(monkeypatch, value):
    monkeypatch.setenv("X_NUMBER", value)
    with pytest.raises(ImproperlyConfigured, match="X_NUMBER"):
        env.env_int("X_NUMBER", 7)


def test_it_enforces_a_minimum(monkeypatch):
    monkeypatch.setenv("X_NUMBER", "0")
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        env.env_int("X_NUMBER", 7, minimum=1)


def test_it_rejects_an_unknown_choice(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "staging")
    with pytest.raises(ImproperlyConfigured, match="PORTAL_ENV='staging' is not one of"):
        env.env_choice("PORTAL_ENV", "development", {"development", "production"})


def test_it_reads_a_secret_from_a_file(monkeypatch, tmp_path):
    secret_file = tmp_path / "key"
    secret_file.write_text("s3cret-value\n")
    monkeypatch.delenv("X_SECRET", raising=False)
    monkeypatch.setenv("X_SECRET_FILE", str(secret_file))
    assert env.env_secret("X_SECRET") == "s3cret-value"


def test_it_refuses_both_a_secret_and_its_file(monkeypatch, tmp_path):
    monkeypatch.setenv("X_SECRET", "a")
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "key"))
    with pytest.raises(ImproperlyConfigured, match="only one of X_SECRET and X_SECRET_FILE"):
        env.env_secret("X_SECRET")


def test_it_names_an_unreadable_secret_file_without_its_content(monkeypatch, tmp_path):
    monkeypatch.delenv("X_SECRET", raising=False)
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match=r"X_SECRET_FILE=.*cannot be read"):
        env.env_secret("X_SECRET")


def test_it_splits_lists(monkeypatch):
    monkeypatch.setenv("X_LIST", "a.example, b.example,,")
    assert env.env_list("X_LIST", []) == ["a.example", "b.example"]
