from django.urls import path

from onboarding.renewal import views

urlpatterns = [
    path("<uuid:tenant_id>/renew/", views.renew_secret, name="renew-secret"),
    path(
        "<uuid:tenant_id>/renew/<uuid:check_run_id>/",
        views.renew_status,
        name="renew-status",
    ),
    path("<uuid:tenant_id>/renew/secret-limit/", views.renew_limit, name="renew-limit"),
    path(
        "<uuid:tenant_id>/renew/secrets/<uuid:secret_pk>/deleted-in-entra/",
        views.secret_deleted,
        name="renew-secret-deleted",
    ),
]
