from django.urls import path

from onboarding.consent import views

# Fixed addresses: the admin registers the callback in Entra, so it cannot carry the
# tenant; the state does.
urlpatterns = [
    path("consent/callback/", views.consent_callback, name="consent-callback"),
    path("consent/forwarded/<str:token>/", views.consent_forwarded, name="consent-forwarded"),
]
