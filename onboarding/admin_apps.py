"""The admin app's configuration, in a module of its own: onboarding.apps must declare
only OnboardingConfig."""

from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """django.contrib.admin with the portal's site: superusers with a verified second
    factor only, every change audited (onboarding.admin_site)."""

    default_site = "onboarding.admin_site.PortalAdminSite"
