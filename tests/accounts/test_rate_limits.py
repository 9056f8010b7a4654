import pytest
from django.core.cache import cache

from accounts import rate_limits

START = 1_800_000_000  # a whole hour: the tests never straddle two windows


@pytest.fixture
def clock(monkeypatch):
    now = [float(START)]
    monkeypatch.setattr(rate_limits, "_now", lambda: now[0])
    return now


def test_it_counts_within_a_window_and_starts_again_after_it(clock):
    assert [rate_limits.hit("t", "a@example.com", limit=2) for _ in range(3)] == [
        True,
        True,
        False,
    ]
    assert rate_limits.exhausted("t", "A@example.com", limit=2)  # case-folded
    assert rate_limits.hit("t", "b@example.com", limit=2)  # its own counter
    assert rate_limits.hit("other", "a@example.com", limit=2)  # its own scope
    clock[0] += 3599
    assert not rate_limits.hit("t", "a@example.com", limit=2)
    clock[0] += 1  # the next window
    assert not rate_limits.exhausted("t", "a@example.com", limit=2)
    assert rate_limits.hit("t", "a@example.com", limit=2)


def test_its_keys_hold_no_value_in_clear(clock, monkeypatch):
    keys = []
    real_add = cache.add

    def spy(key, *args, **kwargs):
        keys.append(key)
        return real_add(key, *args, **kwargs)

    monkeypatch.setattr(cache, "add", spy)
    rate_limits.hit("password-reset-address", "alice@acme.example", limit=3, window=60)
    (key,) = keys
    assert "alice" not in key
    assert "acme" not in key


def test_it_counts_in_the_file_cache_used_in_development(clock, settings, tmp_path):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path),
        }
    }
    assert [rate_limits.hit("t", "10.0.0.1", limit=2) for _ in range(3)] == [True, True, False]
    assert rate_limits.exhausted("t", "10.0.0.1", limit=2)
