from django.urls import path

from support import views

app_name = "support"

urlpatterns = [
    path("", views.tenant_list, name="tenant-list"),
    path("tenants/new/", views.tenant_create, name="tenant-create"),
    path("tenants/<uuid:tenant_id>/", views.tenant_detail, name="tenant-detail"),
    path("tenants/<uuid:tenant_id>/invite/", views.tenant_invite, name="tenant-invite"),
    path(
        "invitations/<uuid:invitation_id>/resend/",
        views.invitation_resend,
        name="invitation-resend",
    ),
]
