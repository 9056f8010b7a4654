"""Fixtures for the onboarding tests."""

from __future__ import annotations

import pytest

from onboarding.tasks import run_mailbox_check
from tests.onboarding.check_helpers import Broker


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> Broker:
    recorder = Broker()
    monkeypatch.setattr(run_mailbox_check, "apply_async", recorder.apply_async)
    return recorder
