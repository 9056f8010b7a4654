from django.urls import path

from onboarding.views import consent, mailboxes, renewal, steps

app_name = "onboarding"

step = "<uuid:tenant_id>/step"
urlpatterns = [
    path("<uuid:tenant_id>/", steps.resume, name="resume"),
    path(f"{step}/1/", steps.register, name="register"),
    path(f"{step}/2/", steps.authentication, name="authentication"),
    path(f"{step}/3/", steps.permissions, name="permissions"),
    path(f"{step}/3/consent/", consent.consent_start, name="consent-start"),
    path(f"{step}/4/", steps.secret, name="secret"),
    path(f"{step}/5/", mailboxes.mailbox, name="mailbox"),
    path(f"{step}/5/<uuid:mailbox_id>/", mailboxes.mailbox_edit, name="mailbox-edit"),
    path(f"{step}/5/<uuid:mailbox_id>/remove/", mailboxes.mailbox_remove, name="mailbox-remove"),
    path(f"{step}/6/", steps.verify, name="verify"),
    path(f"{step}/6/status/", steps.verify_status, name="verify-status"),
    path(f"{step}/7/", steps.done, name="done"),
    path("<uuid:tenant_id>/renew/", renewal.renew_secret, name="renew-secret"),
    path(
        "<uuid:tenant_id>/renew/<uuid:check_run_id>/",
        renewal.renew_status,
        name="renew-status",
    ),
    # Fixed addresses: the admin registers the callback in Entra, so it cannot carry
    # the tenant; the state does.
    path("consent/callback/", consent.consent_callback, name="consent-callback"),
    path("consent/forwarded/<str:token>/", consent.consent_forwarded, name="consent-forwarded"),
]
