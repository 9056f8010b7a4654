from django.urls import path

from onboarding.renewal import views

urlpatterns = [
    path("<uuid:tenant_id>/renew/", views.renew_secret, name="renew-secret"),
    path(
        "<uuid:tenant_id>/renew/<uuid:check_run_id>/",
        views.renew_status,
        name="renew-status",
    ),
]
