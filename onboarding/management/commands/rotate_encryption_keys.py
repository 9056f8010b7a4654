"""Re-encrypt every stored secret under the active key, or show rows per key id.

    manage.py rotate_encryption_keys [--batch-size N]   # idempotent, resumable
    manage.py rotate_encryption_keys --status            # rows per key id per column

Each batch is one transaction, so the command can be stopped at any moment and
run again; see docs/vault.md for the whole procedure of adding and retiring a key.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onboarding import vault


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the active (first) encryption key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--status",
            action="store_true",
            help="Only show how many rows each key id holds, per secret column.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Rows re-encrypted per transaction (default 500).",
        )

    def handle(self, *args: Any, status: bool, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        self.verbosity = int(options.get("verbosity", 1))
        ring = vault.current_keyring()
        if status:
            self.show_status(ring)
            return
        failed = remaining = 0
        for column in vault.SECRET_COLUMNS:
            report = self.rotate(column, ring, batch_size)
            failed += len(report.failed)
            remaining += report.remaining - len(report.failed)
        if remaining:
            self.stdout.write(
                f"{remaining} rows are still under another key (written by others meanwhile); "
                "run the command again."
            )
        if failed:
            raise CommandError(
                f"{failed} rows could not be decrypted (see the ALERT log lines); "
                "they were left as they are."
            )

    def rotate(
        self, column: vault.SecretColumn, ring: vault.Keyring, batch_size: int
    ) -> vault.RotationReport:
        def progress(report: vault.RotationReport) -> None:
            if self.verbosity >= 2:
                self.stdout.write(f"  {column}: {report.rotated} rows so far")

        report = vault.rotate_column(column, ring, batch_size=batch_size, progress=progress)
        self.stdout.write(
            f"{column}: {report.rotated} rows re-encrypted under key {ring.active_key_id} "
            f"in {report.batches} batch{'' if report.batches == 1 else 'es'}."
        )
        return report

    def show_status(self, ring: vault.Keyring) -> None:
        self.stdout.write(f"Active key: {ring.active_key_id}. Keyring: {', '.join(ring.key_ids)}.")
        self.stdout.write(f"{'COLUMN':<36} {'KEY ID':<32} {'ROWS':>8}")
        totals: dict[str, int] = dict.fromkeys(ring.key_ids, 0)
        for column, counts in vault.key_counts().items():
            if not counts:
                self.stdout.write(f"{column:<36} {'-':<32} {0:>8}")
            for key_id, rows in counts.items():
                self.stdout.write(f"{column:<36} {key_id or '(blank)':<32} {rows:>8}")
                totals[key_id] = totals.get(key_id, 0) + rows
        for key_id, rows in totals.items():
            self.stdout.write(self.verdict(ring, key_id, rows))

    @staticmethod
    def verdict(ring: vault.Keyring, key_id: str, rows: int) -> str:
        if key_id == ring.active_key_id:
            return f"Key {key_id}: active, {rows} rows."
        if key_id not in ring.key_ids:
            return (
                f"Key {key_id or '(blank)'}: {rows} rows under a key that is NOT in the "
                "keyring; they cannot be decrypted."
            )
        if rows:
            return f"Key {key_id}: {rows} rows left; run rotate_encryption_keys before retiring it."
        return f"Key {key_id}: no rows left; it can be retired (removed from the key list)."
