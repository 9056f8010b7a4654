"""manage.py create_service_key NAME --scope connections:read --scope tokens:issue
[--tenant <id or exact name>]... [--expires-days N] [--public-jwk FILE]

Creates a service account and its first key, and prints the key once: it is stored
only as a hash and cannot be shown again.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from api import handoff, keys
from api.models import SCOPES
from onboarding.models import Tenant


class Command(BaseCommand):
    help = "Create a service account for the operations app and print its key once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="What the account is for, e.g. 'Operations app (prod)'.")
        parser.add_argument(
            "--scope",
            action="append",
            default=[],
            choices=sorted(SCOPES),
            help="A scope; repeat for several.",
        )
        parser.add_argument(
            "--tenant",
            action="append",
            default=[],
            help="Restrict to this tenant (id or exact name); repeat. None: every tenant.",
        )
        parser.add_argument("--expires-days", type=int, default=None)
        parser.add_argument(
            "--public-jwk", type=Path, default=None, help="A file with the RSA public JWK."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["scope"]:
            raise CommandError("Give at least one --scope.")
        tenants = [self._tenant(value) for value in options["tenant"]]
        days = options["expires_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-days must be 1 or more.")
        jwk = None
        if options["public_jwk"] is not None:
            try:
                jwk = json.loads(options["public_jwk"].read_text())
                handoff.public_key(jwk)
            except (OSError, ValueError) as exc:
                raise CommandError(f"--public-jwk: {exc}") from None
        issued = keys.create_account(
            name=options["name"],
            scopes=options["scope"],
            tenants=tenants,
            expires_at=timezone.now() + timedelta(days=days) if days else None,
            public_jwk=jwk,
        )
        self.stdout.write(
            f"Service account {issued.key.account.name!r} ({issued.key.account_id}) created.\n"
            "Its key, shown this once (only a hash is stored):\n\n"
            f"    {issued.value}\n"
        )

    def _tenant(self, value: str) -> Tenant:
        try:
            found = Tenant.objects.filter(pk=uuid.UUID(value)).first()
        except ValueError:
            matches = list(Tenant.objects.filter(name=value)[:2])
            found = matches[0] if len(matches) == 1 else None
        if found is None:
            raise CommandError(f"No single tenant matches {value!r}.")
        return found
