from django.urls import path

from onboarding.vendor import views

urlpatterns = [
    path("<uuid:tenant_id>/step/3/vendor/", views.consent_start, name="vendor-consent-start"),
    path("vendor/consent/callback/", views.consent_callback, name="vendor-consent-callback"),
    path("vendor/sign-in/callback/", views.sign_in_callback, name="vendor-sign-in-callback"),
]
