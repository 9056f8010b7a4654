"""What every wizard page knows, and the decorator that opens one: sign-in, the
tenant's membership (404 otherwise) and the step being open yet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect

from onboarding.access import admin_tenant_or_404
from onboarding.models import AppRegistration, Tenant
from onboarding.progress import Progress, progress_for, record_progress
from onboarding.steps import STEP_BY_NUMBER, STEP_COUNT, Step, step_path


@dataclass
class WizardPage:
    tenant: Tenant
    progress: Progress
    step: Step

    @property
    def app(self) -> AppRegistration | None:
        return AppRegistration.objects.filter(tenant=self.tenant).first()

    def context(self, **extra: Any) -> dict[str, Any]:
        number = self.step.number
        return {
            "tenant": self.tenant,
            "step": self.step,
            "steps": self.progress.items(number),
            "step_count": STEP_COUNT,
            "previous_step": self._neighbour(number, -1),
            "next_step": self._neighbour(number, +1),
            **extra,
        }

    def _neighbour(self, number: int, direction: int) -> Step | None:
        """The step before or after, passing over those this setup mode does not need."""
        number += direction
        while self.progress.is_skipped(number):
            number += direction
        return STEP_BY_NUMBER.get(number)

    def go_to(self, number: int) -> HttpResponse:
        """After saving: keep Tenant.onboarding_step current and move on."""
        record_progress(self.tenant)
        return redirect(step_path(self.tenant.pk, number))


StepView = Callable[..., HttpResponse]
ENTRA_TAB_OPENER_POLICY = "same-origin-allow-popups"


def wizard_step(number: int) -> Callable[[StepView], StepView]:
    """Sign-in, membership (404 otherwise) and the step being open yet."""

    def decorator(view: StepView) -> StepView:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, tenant_id: object, *args: Any, **kwargs: Any):
            tenant = admin_tenant_or_404(request.user, tenant_id)
            progress = progress_for(tenant)
            if progress.is_skipped(number):  # not part of this tenant's setup mode
                return redirect(step_path(tenant.pk, progress.resume_step.number))
            if not progress.is_reachable(number):
                resume = progress.resume_step
                if getattr(request, "htmx", False):
                    # A live fragment must not swap a whole page into itself.
                    return HttpResponseClientRedirect(step_path(tenant.pk, resume.number))
                messages.info(request, f"Please finish “{resume.title}” first.")
                return redirect(step_path(tenant.pk, resume.number))
            page = WizardPage(tenant, progress, STEP_BY_NUMBER[number])
            response = view(request, page, *args, **kwargs)
            # The steps' Entra links reuse one named tab (onboarding/_external.html);
            # "same-origin" would cut every tab this page opens off from it, so each
            # link would open another. Pages opening this one are still cut off.
            response.headers.setdefault("Cross-Origin-Opener-Policy", ENTRA_TAB_OPENER_POLICY)
            return response

        return wrapped

    return decorator


def posted(request: HttpRequest) -> Any:
    """The form data of a POST (even an empty one, which must still be validated)."""
    return request.POST if request.method == "POST" else None
