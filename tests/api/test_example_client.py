"""examples/ops_client.py against a live portal (live_server) and the emulator: lists
the failing connections, gets a token, reads the newest message through Graph."""

from __future__ import annotations

import datetime
import json

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from examples import ops_client
from microsoft_emulator.scenarios import ready_directory
from onboarding.models import Mailbox, Tenant
from tests.api.conftest import seed_connection
from tests.onboarding.check_helpers import configure

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_reference_client_reads_mail_with_a_token(
    live_server, emulated_microsoft, acme, globex, make_key, monkeypatch, capsys
):
    box = configure(acme, ready_directory(emulated_microsoft))
    Mailbox.objects.filter(pk=box.pk).update(health=Tenant.Health.HEALTHY)
    seed_connection(globex, "ops@globex.example", health="failing", diagnosis="wrong_secret")
    monkeypatch.setenv("OPS_API_KEY", make_key("connections:read", "tokens:issue"))
    code = ops_client.main(
        ["--portal", live_server.url, "--graph-ca-bundle", str(emulated_microsoft.ca_path)]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "1 failing connection(s):" in out
    assert "Globex Freight: ops@globex.example (The client secret is wrong)" in out
    assert "Newest message: 'Welcome'" in out


def test_the_reference_client_names_the_problem(live_server, db, make_key):
    portal = ops_client.Portal(live_server.url, make_key("connections:read"))
    with pytest.raises(ops_client.ProblemError, match="403 This key may not do that"):
        portal.token("00000000-0000-0000-0000-000000000000")


def test_the_reference_client_checks_webhook_signatures():
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = json.dumps({"type": "connection.failing", "data": {"connection_id": "x"}}).encode()
    now = datetime.datetime.now(tz=datetime.UTC)
    signature = Webhook(secret).sign("msg_1", now, body.decode())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    assert ops_client.verify_webhook(secret, headers, body)["type"] == "connection.failing"
    with pytest.raises(WebhookVerificationError):
        ops_client.verify_webhook(secret, headers, body + b" ")
