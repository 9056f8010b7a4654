from django.urls import path

from onboarding.checks import views

app_name = "checks"

urlpatterns = [
    path("mailboxes/<uuid:mailbox_id>/", views.mailbox_check, name="mailbox-check"),
    path("runs/<uuid:check_run_id>/status/", views.check_status, name="check-status"),
]
