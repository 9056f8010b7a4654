"""Who may open a tenant's wizard pages, and what every wizard page knows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from onboarding import wizard
from onboarding.models import AppRegistration, Membership, Tenant


def admin_tenant_or_404(request: HttpRequest, tenant_id: object) -> Tenant:
    """The tenant, if the signed-in user administers it. Staff get no exception."""
    return get_object_or_404(
        Tenant,
        pk=tenant_id,
        memberships__user=request.user,
        memberships__role=Membership.Role.ADMIN,
    )


def step_url(tenant: Tenant, step: wizard.Step) -> str:
    return reverse(f"onboarding:{step.url_name}", args=[tenant.pk])


@dataclass
class WizardPage:
    tenant: Tenant
    progress: wizard.Progress
    step: wizard.Step

    @property
    def app(self) -> AppRegistration | None:
        return AppRegistration.objects.filter(tenant=self.tenant).first()

    def context(self, **extra: Any) -> dict[str, Any]:
        number = self.step.number
        return {
            "tenant": self.tenant,
            "step": self.step,
            "steps": self.progress.items(number),
            "step_count": len(wizard.STEPS),
            "previous_step": wizard.STEP_BY_NUMBER.get(number - 1),
            "next_step": wizard.STEP_BY_NUMBER.get(number + 1),
            **extra,
        }

    def go_to(self, number: int) -> HttpResponse:
        """After saving: keep Tenant.onboarding_step current and move on."""
        wizard.record_progress(self.tenant)
        return redirect(step_url(self.tenant, wizard.STEP_BY_NUMBER[number]))


StepView = Callable[..., HttpResponse]


def wizard_step(number: int) -> Callable[[StepView], StepView]:
    """Sign-in, membership (404 otherwise) and the step being open yet."""

    def decorator(view: StepView) -> StepView:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, tenant_id: object, *args: Any, **kwargs: Any):
            tenant = admin_tenant_or_404(request, tenant_id)
            progress = wizard.progress_for(tenant)
            if not progress.is_reachable(number):
                resume = progress.resume_step
                if getattr(request, "htmx", False):
                    # A live fragment must not swap a whole page into itself.
                    return HttpResponseClientRedirect(step_url(tenant, resume))
                messages.info(request, f"Please finish “{resume.title}” first.")
                return redirect(step_url(tenant, resume))
            page = WizardPage(tenant, progress, wizard.STEP_BY_NUMBER[number])
            return view(request, page, *args, **kwargs)

        return wrapped

    return decorator


def posted(request: HttpRequest) -> Any:
    """The form data of a POST (even an empty one, which must still be validated)."""
    return request.POST if request.method == "POST" else None
