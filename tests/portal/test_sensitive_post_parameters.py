"""Every view that takes a secret, a password or a sign-in code hides it from error
reports: an exception in it (or in a middleware after it) mails Django's error page
to the admins, and that page lists the POST data."""

from __future__ import annotations

import uuid

import pytest
from django.views.debug import SafeExceptionReporterFilter

ANY_ID = uuid.uuid4()

# (URL, the POST fields that carry the secret)
VIEWS = [
    (f"/onboarding/{ANY_ID}/step/4/", ["value"]),
    (f"/onboarding/{ANY_ID}/step/5/", ["password"]),
    (f"/onboarding/{ANY_ID}/step/5/{ANY_ID}/", ["password"]),
    (f"/onboarding/{ANY_ID}/renew/", ["value"]),
    ("/invitations/some-token/", ["password", "password1", "password2"]),
    ("/accounts/login/", ["password"]),
    ("/accounts/password-reset/MQ/set-password/", ["new_password1", "new_password2"]),
    ("/support/2fa/", ["token"]),
    ("/support/2fa/setup/", ["token"]),
]


@pytest.mark.parametrize(("path", "fields"), VIEWS, ids=[v[0] for v in VIEWS])
def test_the_secret_never_reaches_an_error_report(client, db, path, fields):
    data = dict.fromkeys(fields, "hunter2-the-real-secret")
    response = client.post(path, {**data, "harmless": "kept"})
    request = response.wsgi_request
    assert response.status_code != 405, "the view takes no POST: fix the list"
    assert request.resolver_match is not None, f"{path} is no URL: fix the list"
    marked = getattr(request, "sensitive_post_parameters", None)
    assert marked is not None, f"{path} is not marked sensitive_post_parameters"
    reported = SafeExceptionReporterFilter().get_post_parameters(request)
    for field in fields:
        assert reported[field] != "hunter2-the-real-secret", (path, field)
    if marked != "__ALL__":
        assert reported["harmless"] == "kept"
