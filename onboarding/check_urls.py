from django.urls import path

from onboarding import check_views

app_name = "checks"

urlpatterns = [
    path("mailboxes/<uuid:mailbox_id>/", check_views.mailbox_check, name="mailbox-check"),
    path("runs/<uuid:check_run_id>/status/", check_views.check_status, name="check-status"),
]
