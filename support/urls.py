from django.urls import path

from support.views import checks, lists, service_accounts, tenants, two_factor, webhooks

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
        "tenants/<uuid:tenant_id>/customer-reference/",
        tenants.customer_reference_set,
        name="customer-reference",
    ),
    path("service-accounts/", service_accounts.service_account_list, name="service-accounts"),
    path(
        "service-accounts/new/",
        service_accounts.service_account_create,
        name="service-account-create",
    ),
    path(
        "service-accounts/<uuid:account_id>/rotate/",
        service_accounts.service_account_rotate,
        name="service-account-rotate",
    ),
    path(
        "service-accounts/<uuid:account_id>/revoke/",
        service_accounts.service_account_revoke,
        name="service-account-revoke",
    ),
    path(
        "service-accounts/<uuid:account_id>/keys/<uuid:key_id>/revoke/",
        service_accounts.service_key_revoke,
        name="service-key-revoke",
    ),
    path("webhooks/", webhooks.endpoint_list, name="webhooks"),
    path("webhooks/<uuid:endpoint_id>/", webhooks.endpoint_detail, name="webhook-detail"),
    path(
        "webhooks/<uuid:endpoint_id>/deliveries/<uuid:delivery_id>/replay/",
        webhooks.delivery_replay,
        name="webhook-replay",
    ),
    path("webhooks/<uuid:endpoint_id>/enable/", webhooks.endpoint_enable, name="webhook-enable"),
    path("webhooks/<uuid:endpoint_id>/disable/", webhooks.endpoint_disable, name="webhook-disable"),
    path(
        "invitations/<uuid:invitation_id>/resend/",
        tenants.invitation_resend,
        name="invitation-resend",
    ),
]
