from django.urls import path

from onboarding.provisioning import views

urlpatterns = [
    path("<uuid:tenant_id>/step/1/register/", views.start, name="provisioning-start"),
    path("provisioning/callback/", views.callback, name="provisioning-callback"),
    path(
        "provisioning/forwarded/<str:token>/",
        views.forwarded,
        name="provisioning-forwarded",
    ),
]
