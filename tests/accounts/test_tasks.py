from datetime import timedelta

from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.tasks import sessions_clear_expired


def test_it_deletes_only_expired_sessions(db):
    expired, current = SessionStore(), SessionStore()
    expired.create()
    current.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )
    assert sessions_clear_expired.delay().get() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [current.session_key]
