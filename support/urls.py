from django.urls import path

from support.views import checks, lists, tenants, two_factor

app_name = "support"

urlpatterns = [
    path("", lists.tenant_list, name="tenant-list"),
    path("export.csv", lists.tenant_export, name="tenant-export"),
    path("overview/", lists.overview_page, name="overview"),
    path("2fa/", two_factor.verify, name="two-factor"),
    path("2fa/setup/", two_factor.setup, name="two-factor-setup"),
    path("tenants/new/", tenants.tenant_create, name="tenant-create"),
    path("tenants/<uuid:tenant_id>/", tenants.tenant_detail, name="tenant-detail"),
    path("tenants/<uuid:tenant_id>/invite/", tenants.tenant_invite, name="tenant-invite"),
    path(
        "tenants/<uuid:tenant_id>/addresses/",
        tenants.notification_address_add,
        name="notification-address-add",
    ),
    path("tenants/<uuid:tenant_id>/notes/", tenants.note_add, name="note-add"),
    path(
        "tenants/<uuid:tenant_id>/mailboxes/<uuid:mailbox_id>/check/",
        checks.check_run,
        name="check-run",
    ),
    path(
        "tenants/<uuid:tenant_id>/checks/<uuid:run_id>/",
        checks.check_status,
        name="check-status",
    ),
    path(
        "invitations/<uuid:invitation_id>/resend/",
        tenants.invitation_resend,
        name="invitation-resend",
    ),
]
