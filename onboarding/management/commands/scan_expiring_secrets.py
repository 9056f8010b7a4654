from typing import Any

from django.core.management.base import BaseCommand

from onboarding import tasks


class Command(BaseCommand):
    help = (
        "Run the daily expiry scan now: claim the reminders that are due and queue their "
        "e-mails for the worker (with PORTAL_TASKS_EAGER=true, send them from this process)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        queued = tasks.scan_expiring_secrets()
        self.stdout.write(f"Queued {queued} reminder(s).")
