"""Invitation links, included at /invitations/ (apart from the wizard's onboarding/urls.py)."""

from django.urls import path

from onboarding import invitation_views

app_name = "invitations"

urlpatterns = [
    path("<str:token>/", invitation_views.accept, name="accept"),
]
