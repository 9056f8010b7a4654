"""The vendor app's certificate, kept by the portal's vault (README "The vendor's app").

    manage.py vendor_certificate make --out vendor-app.cer   # a key pair; upload the .cer
    manage.py vendor_certificate activate --certificate-id <Certificate ID from Entra>
    manage.py vendor_certificate status

Only the public certificate is ever written out; the private key stays in the vault.
After the first one, the portal rolls the certificate over by itself (Graph addKey),
given PORTAL_VENDOR_APP_OBJECT_ID and PORTAL_VENDOR_DIRECTORY.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from onboarding.models import VendorCredential
from onboarding.vendor import credential, rollover


class Command(BaseCommand):
    help = "Make, activate or show the vendor app's certificate (vendor mode)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        make = sub.add_parser("make", help="Make a key pair; write its public certificate.")
        make.add_argument("--out", required=True, help="Where to write the .cer (PEM).")
        make.add_argument("--days", type=int, default=None, help="Validity in days.")
        make.add_argument(
            "--unless-active",
            action="store_true",
            help="Write the certificate in use instead when there is one (make run).",
        )
        activate = sub.add_parser("activate", help="The uploaded certificate is in use.")
        activate.add_argument(
            "--certificate-id", required=True, help="Its Certificate ID, as Entra lists it."
        )
        activate.add_argument(
            "--if-pending", action="store_true", help="Do nothing when none waits (make run)."
        )
        sub.add_parser("status", help="Show the certificate in use.")
        sub.add_parser("retry", help="Start a stopped rollover over.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not credential.enabled():
            raise CommandError("Set PORTAL_VENDOR_APP_ID first: vendor mode is off.")
        if settings.PORTAL_VENDOR_APP_CERTIFICATE and options["action"] != "status":
            raise CommandError(
                "PORTAL_VENDOR_APP_CERTIFICATE(_FILE) is set: the operator's files are used, "
                "and the vault keeps no vendor certificate."
            )
        getattr(self, f"_{options['action']}")(options)

    def _make(self, options: dict[str, Any]) -> None:
        in_use = credential.in_use()
        if options["unless_active"] and in_use is not None:
            Path(options["out"]).write_text(in_use.certificate_pem, encoding="utf-8")
            self.stdout.write(
                f"The certificate in use ({in_use.thumbprint}) is in {options['out']}."
            )
            return
        pending = VendorCredential.objects.filter(status=VendorCredential.Status.PENDING).first()
        row = pending or credential.make(days=options["days"])
        Path(options["out"]).write_text(row.certificate_pem, encoding="utf-8")
        self.stdout.write(
            f"Certificate {row.thumbprint}, valid until {row.expires_on:%Y-%m-%d}, written to "
            f"{options['out']}.\nUpload it to the app {credential.client_id()} in Entra "
            "(Certificates & secrets > Certificates > Upload certificate), then run:\n"
            "  manage.py vendor_certificate activate --certificate-id <its Certificate ID>"
        )

    def _activate(self, options: dict[str, Any]) -> None:
        try:
            key_id = str(uuid.UUID(options["certificate_id"]))
        except ValueError:
            raise CommandError("The Certificate ID is a GUID, as Entra lists it.") from None
        row = VendorCredential.objects.filter(status=VendorCredential.Status.PENDING).first()
        if row is None:
            if options["if_pending"]:
                return
            raise CommandError("No certificate waits to be activated: run make first.")
        credential.added(row, key_id=key_id)
        credential.activate(row)
        self.stdout.write(f"Certificate {row.thumbprint} ({key_id}) is in use.")

    def _retry(self, options: dict[str, Any]) -> None:
        restarted = rollover.retry()
        self.stdout.write(f"{restarted} stopped rollover(s) start over at the next run.")

    def _status(self, options: dict[str, Any]) -> None:
        in_use = credential.in_use()
        if in_use is None:
            raise CommandError("The vendor's app has no certificate in use.")
        self.stdout.write(
            f"In use: {in_use.thumbprint}, from {in_use.source}, "
            f"expires {in_use.expires_on:%Y-%m-%d}."
        )
