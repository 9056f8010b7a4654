from django.urls import path

from onboarding.delegated import views

mailbox = "<uuid:tenant_id>/step/5/<uuid:mailbox_id>"
# The callback is one fixed address (registered in Entra in step 2); the state says
# which mailbox it is about. The owner's link carries its own signed token.
urlpatterns = [
    path(f"{mailbox}/connect/", views.connect_start, name="connect-start"),
    path(f"{mailbox}/connect/send/", views.connect_send, name="connect-send"),
    path(f"{mailbox}/connect/remove/", views.connect_remove, name="connect-remove"),
    path("connect/callback/", views.connect_callback, name="connect-callback"),
    path("connect/<str:token>/", views.connect_owner, name="connect-owner"),
]
