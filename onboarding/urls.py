"""The customer-facing pages, one URL namespace ("onboarding") for the wizard, its
consent round trip and secret renewal; each package keeps its own list."""

from onboarding.consent import urls as consent_urls
from onboarding.delegated import urls as delegated_urls
from onboarding.provisioning import urls as provisioning_urls
from onboarding.renewal import urls as renewal_urls
from onboarding.vendor import urls as vendor_urls
from onboarding.wizard import urls as wizard_urls

app_name = "onboarding"

urlpatterns = [
    *wizard_urls.urlpatterns,
    *renewal_urls.urlpatterns,
    *consent_urls.urlpatterns,
    *delegated_urls.urlpatterns,
    *vendor_urls.urlpatterns,
    *provisioning_urls.urlpatterns,
]
