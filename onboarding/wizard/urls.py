from django.urls import path

from onboarding.wizard import views

step = "<uuid:tenant_id>/step"
urlpatterns = [
    path("<uuid:tenant_id>/", views.resume, name="resume"),
    path("<uuid:tenant_id>/start/", views.start, name="start"),
    path(f"{step}/1/", views.register, name="register"),
    path(f"{step}/1/script/", views.register_script, name="register-script"),
    path(f"{step}/2/", views.authentication, name="authentication"),
    path(f"{step}/3/", views.permissions, name="permissions"),
    path(f"{step}/3/consent/", views.consent_start, name="consent-start"),
    path(f"{step}/4/", views.secret, name="secret"),
    path(f"{step}/4/certificate/", views.certificate_create, name="certificate-create"),
    path(
        f"{step}/4/certificate/<uuid:draft_id>/download/",
        views.certificate_download,
        name="certificate-download",
    ),
    path(
        f"{step}/4/certificate/<uuid:draft_id>/",
        views.certificate_save,
        name="certificate-save",
    ),
    path(f"{step}/5/", views.mailbox, name="mailbox"),
    path(f"{step}/5/<uuid:mailbox_id>/", views.mailbox_edit, name="mailbox-edit"),
    path(f"{step}/5/<uuid:mailbox_id>/remove/", views.mailbox_remove, name="mailbox-remove"),
    path(f"{step}/6/", views.verify, name="verify"),
    path(f"{step}/6/status/", views.verify_status, name="verify-status"),
    path(f"{step}/7/", views.done, name="done"),
]
