import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# kombu's filesystem transport (the embedded setup, `make run`) looks for new tasks once
# a second by default: up to a second before a worker starts a check the live page is
# waiting for. A folder listing ten times a second costs next to nothing. A
# `polling_interval` in CELERY_BROKER_TRANSPORT_OPTIONS wins; Redis pushes, so it
# never polls (bench/verify_latency_bench.py measures the difference).
FILE_BROKER_POLLING_SECONDS = 0.1


@app.on_after_configure.connect
def _poll_the_file_broker_quickly(sender: Celery, **_kwargs: Any) -> None:
    if str(sender.conf.broker_url or "").startswith("filesystem:"):
        options = dict(sender.conf.broker_transport_options or {})
        options.setdefault("polling_interval", FILE_BROKER_POLLING_SECONDS)
        sender.conf.broker_transport_options = options


@app.task(name="portal.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> None:
    """Beat's heartbeat (portal.readiness): the time a worker ran it."""
    from portal import readiness

    readiness.heartbeat()
