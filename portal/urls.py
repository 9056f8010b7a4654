from django.contrib import admin
from django.urls import include, path

from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("readyz/", views.readyz, name="readyz"),
    path("accounts/", include("accounts.urls")),
    path("invitations/", include("onboarding.invitations.urls")),
    path("onboarding/", include("onboarding.urls")),
    path("checks/", include("onboarding.checks.urls")),
    path("support/", include("support.urls")),
    path("api/v1/", include("api.urls")),
    path("admin/", admin.site.urls),
]
