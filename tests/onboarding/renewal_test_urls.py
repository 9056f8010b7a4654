"""A URLconf with a stand-in for the wizard's secret step, for test_renewal_urls."""

from django.http import HttpResponse
from django.urls import include, path

from onboarding import renewal_urls
from portal import urls


def secret_step(request, tenant_id):
    return HttpResponse("the secret step")


onboarding = (
    [*renewal_urls.urlpatterns, path("<uuid:tenant_id>/step/4/", secret_step, name="secret")],
    "onboarding",
)
urlpatterns = [
    *[pattern for pattern in urls.urlpatterns if getattr(pattern, "namespace", "") != "onboarding"],
    path("wizard/", include(onboarding)),
]
