from django.contrib import admin
from django.urls import include, path

from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("invitations/", include("onboarding.invitation_urls")),
    path("onboarding/", include("onboarding.urls")),
    path("checks/", include("onboarding.check_urls")),
    path("support/", include("support.urls")),
    path("admin/", admin.site.urls),
]
