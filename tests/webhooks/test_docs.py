"""The signature check that docs/api.md shows the operations app's developers works on
a real delivery, drops a duplicate, and refuses an altered body."""

from __future__ import annotations

import re
from pathlib import Path

from django.db import transaction

from tests.webhooks.conftest import CONNECTION
from webhooks import outbox

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def snippet() -> str:
    section = DOCS.read_text(encoding="utf-8").split("### Verifying a webhook", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found is not None, "docs/api.md shows no Python signature check"
    return found.group(1)


def test_the_documented_signature_check_works(
    receiver, endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox.record("connection.failing", tenant_id=CONNECTION, connection_id=CONNECTION, data={})
    [request] = receiver.received
    handled: list[tuple[str, dict]] = []
    seen: set[str] = set()
    namespace = {
        "WEBHOOK_SECRET": endpoint[1],
        "already_processed": seen.__contains__,
        "remember_processed": seen.add,
        "handle": lambda kind, data: handled.append((kind, data)),
    }
    exec(
        compile(snippet(), str(DOCS), "exec"), namespace
    )  # our own docs, as a reader would paste them
    receive = namespace["receive"]
    assert receive(request.body, request.headers) == 204
    assert receive(request.body, request.headers) == 204  # a retry: dropped
    assert [kind for kind, _ in handled] == ["connection.failing"]
    assert handled[0][1]["connection_id"] == str(CONNECTION)
    assert receive(request.body.replace(b"failing", b"healthy"), request.headers) == 400
