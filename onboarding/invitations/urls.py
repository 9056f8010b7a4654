"""Invitation links, included at /invitations/ (apart from the wizard's URLs)."""

from django.urls import path

from onboarding.invitations import views

app_name = "invitations"

urlpatterns = [
    path("<str:token>/", views.accept, name="accept"),
]
