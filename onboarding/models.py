"""The onboarding domain: tenants, their admins, their Microsoft configuration,
the checks that prove it works and the reminders that keep it working."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import models
from django.utils import timezone

from onboarding import vault
from onboarding.steps import STEP_BY_NUMBER, STEP_COUNT, Step

logger = logging.getLogger(__name__)
UTC = ZoneInfo("UTC")


def tenant_zone(name: str) -> ZoneInfo:
    """A tenant's time zone; a name the system does not know means UTC."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("Unknown time zone %r; using UTC", name)
        return UTC


def local_today(time_zone: str, now: datetime | None = None) -> date:
    """Today in a time zone: Entra counts a secret's days, and reminders their
    thresholds, from the customer's day, not the server's."""
    return (now or timezone.now()).astimezone(tenant_zone(time_zone)).date()


class Tenant(models.Model):
    """A customer organisation."""

    class Health(models.TextChoices):
        UNKNOWN = "unknown", "Not verified yet"
        HEALTHY = "healthy", "Healthy"
        DEGRADED = "degraded", "Partly working"
        FAILING = "failing", "Failing"
        EXPIRED = "expired", "Secret expired"

    class SetupMode(models.TextChoices):
        # The guide's way: the admin registers the app in Entra and copies its IDs.
        MANUAL = "manual", "Your own app, registered by hand"
        # The vendor's multi-tenant app: one admin consent, no app of the customer's.
        VENDOR = "vendor", "The vendor's app"
        # The customer's own app, registered by the portal with the admin's sign-in.
        AUTOMATIC = "automatic", "Your own app, registered by the portal"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    # How the admin connects: chosen on the start page ("" until then; a portal that
    # offers only the manual way never asks).
    setup_mode = models.CharField(max_length=16, choices=SetupMode.choices, blank=True)
    # The vendor's own customer reference (its CRM's or billing's id), set by support;
    # the operations app's API returns it so the vendor can match its records.
    customer_reference = models.CharField(
        max_length=100, blank=True, db_index=True, help_text="The vendor's own customer reference."
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    # The furthest wizard step reached (1-7); kept here so lists need no joins.
    onboarding_step = models.PositiveSmallIntegerField(default=1)
    health = models.CharField(max_length=16, choices=Health.choices, default=Health.UNKNOWN)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def setup_step(self) -> Step:
        return STEP_BY_NUMBER[self.onboarding_step]

    @property
    def setup_progress(self) -> str:
        """ "5 of 7": where the setup stands, as pages and exports show it."""
        return f"{self.onboarding_step} of {STEP_COUNT}"

    def local_today(self, now: datetime | None = None) -> date:
        return local_today(self.time_zone, now)

    @property
    def uses_vendor_app(self) -> bool:
        return self.setup_mode == self.SetupMode.VENDOR

    def recipients(self, *also: str) -> list[str]:
        """Who hears about this tenant (alerts, reminders, renewals): its active admins
        and its extra notification addresses, then `also`, each address once."""
        admins = self.memberships.filter(role=Membership.Role.ADMIN, user__is_active=True)
        addresses = [*admins.order_by("created_at", "pk").values_list("user__email", flat=True)]
        extra = self.notification_addresses.order_by("created_at", "pk")
        addresses += extra.values_list("email", flat=True)
        addresses += also
        seen: set[str] = set()
        unique = []
        for address in addresses:
            if address.lower() not in seen:
                seen.add(address.lower())
                unique.append(address)
        return unique


class Membership(models.Model):
    """A user's place in a tenant."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Administrator"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ADMIN)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_per_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant}"


class NotificationAddress(models.Model):
    """An extra address that receives a tenant's reminders (a shared IT mailbox)."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="notification_addresses"
    )
    email = models.EmailField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "email"], name="notification_address_unique")
        ]

    def __str__(self) -> str:
        return self.email


class AuditEvent(models.Model):
    """Append-only record of who did what. Never holds a secret."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too, so the record survives the user's deletion.
    actor_label = models.CharField(max_length=254, blank=True)
    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["tenant", "-at"], name="audit_tenant_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValueError("Audit events are append-only.")


class Invitation(models.Model):
    """A single-use invitation for an admin. Only a hash of its token is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Membership.Role.choices, default="admin")
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email} to {self.tenant}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at


class AppRegistration(models.Model):
    """The customer's Entra application: one per tenant."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="app_registration")
    client_id = models.UUIDField("Application (client) ID")
    # As entered: a GUID or a verified domain such as contoso.onmicrosoft.com.
    directory = models.CharField("Directory (tenant) ID", max_length=255)
    # The GUID that discovery resolved the directory to.
    directory_id = models.UUIDField(null=True, blank=True)
    # The application object's own ID (Essentials' "Object ID"): the `iss` of the proof
    # with which the app rolls its own certificate (Graph addKey). The app's token cannot
    # read it (that needs Application.Read.All), so the admin gives it, in step 1's
    # pasted Essentials or beside the Certificate ID in step 4.
    object_id = models.UUIDField("Object ID", null=True, blank=True)
    # When an admin confirmed the Authentication settings of the guide (wizard step 2).
    authentication_confirmed_at = models.DateTimeField(null=True, blank=True)
    # When a consent callback said consent was granted ("claimed": the callback is not
    # signed, so anyone holding a state could have sent it)...
    consent_granted_at = models.DateTimeField(null=True, blank=True)
    consent_granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # ...and when a passing check proved it: Graph read and sent mail with the app's token.
    consent_confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"App {self.client_id} in {self.directory}"

    @property
    def consent_state(self) -> str:
        """ "confirmed" (a passing check proved it with Microsoft), "claimed" (only the
        consent callback said so: it is not signed) or "" (not granted)."""
        if self.consent_confirmed_at is not None:
            return "confirmed"
        return "claimed" if self.consent_granted_at is not None else ""


class ConsentUse(models.Model):
    """A consent state or forwarded consent link, used once: the unique key (a hash,
    never the value) makes a second use fail however many requests race for it."""

    class Kind(models.TextChoices):
        STATE = "state", "Consent state"
        FORWARD = "forward", "Forwarded consent link"
        SIGN_IN_STATE = "signin", "Mailbox sign-in state"
        OWNER_LINK = "owner", "Mailbox owner's sign-in link"
        VENDOR_CONSENT = "vconsent", "Vendor app consent state"
        VENDOR_SIGN_IN = "vsignin", "Vendor app sign-in state"
        PROVISIONING = "provsign", "App registration sign-in state"

    key = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    used_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} used {self.used_at:%Y-%m-%d %H:%M}"


class ClientSecret(models.Model):
    """One credential of the app registration: a client secret (the guide's), or a
    certificate the portal made (its private key is then the value). The value is held
    only encrypted. `secret_id` is the credential's ID in Entra: the Secret ID, or the
    Certificate ID Entra shows once the certificate is uploaded."""

    class Kind(models.TextChoices):
        SECRET = "secret", "Client secret"
        CERTIFICATE = "certificate", "Certificate"

    class Status(models.TextChoices):
        PENDING = "pending", "Being verified"
        ACTIVE = "active", "Active"
        REJECTED = "rejected", "Failed verification"
        RETIRED = "retired", "Retired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    app = models.ForeignKey(AppRegistration, on_delete=models.CASCADE, related_name="secrets")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SECRET)
    secret_id = models.UUIDField("Secret ID")
    # A certificate's public part (PEM) and its SHA-1 thumbprint as Entra lists it.
    certificate_pem = models.TextField(blank=True)
    thumbprint = models.CharField(max_length=40, blank=True)
    # Ciphertext blob from onboarding.vault; never the plaintext.
    value_ciphertext = models.BinaryField(editable=False)
    value_key_id = models.CharField(max_length=32, db_index=True, editable=False)
    hint = models.CharField(max_length=3, help_text="First three characters, as Entra shows them.")
    expires_on = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    # When an admin said they deleted this (retired or rejected) secret in Entra: until
    # then it still takes one of the two places Entra allows the guide's account type.
    deleted_in_entra_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "expires_on"], name="secret_status_expiry")]

    def __str__(self) -> str:
        return f"Secret {self.hint}*** ({self.secret_id})"

    def set_value(self, plaintext: str) -> None:
        """Encrypt a new secret value into this row and keep its 3-character hint.

        The caller saves the row. The plaintext is never stored or kept on the instance.
        """
        if not plaintext:
            raise ValueError("A client secret value cannot be empty.")
        vault.seal(self, "value", plaintext)
        self.hint = plaintext[:3]

    @property
    def is_certificate(self) -> bool:
        return self.kind == self.Kind.CERTIFICATE

    def set_private_key(
        self, private_key_pem: str, *, certificate_pem: str, thumbprint: str
    ) -> None:
        """A certificate credential: its private key encrypted into this row, its public
        certificate and thumbprint (the hint is the thumbprint's start, as Entra lists
        it). The caller saves the row."""
        vault.seal(self, "value", private_key_pem)
        self.kind = self.Kind.CERTIFICATE
        self.certificate_pem = certificate_pem
        self.thumbprint = thumbprint
        self.hint = thumbprint[:3]

    def reveal(self) -> str:
        """The secret value (a certificate's private key PEM), only for the call to Microsoft.

        Raises vault.DecryptionError (and logs an alert naming the row) when the stored
        blob does not decrypt for this row; never returns the stored bytes or "".
        """
        return vault.reveal(self, "value")


class CertificateDraft(models.Model):
    """A certificate the portal made for an app, waiting for the admin to upload it in
    Entra (step 4). Its private key is held only encrypted and never leaves the portal;
    once the admin confirms the upload it becomes a ClientSecret of kind certificate."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    # None for the certificate of the PowerShell script (step 1), made before the app
    # exists: the script uploads it, and the pasted output names the app.
    app = models.ForeignKey(
        AppRegistration,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="certificate_drafts",
    )
    private_key_ciphertext = models.BinaryField(editable=False)
    private_key_key_id = models.CharField(max_length=32, db_index=True, editable=False)
    certificate_pem = models.TextField()
    thumbprint = models.CharField(max_length=40)
    expires_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Certificate {self.thumbprint} (not uploaded yet)"


class Mailbox(models.Model):
    """An address the operations app reads and sends from."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="mailboxes")
    address = models.EmailField()
    # The account's sign-in name in Entra when it is not the address (an alias, a
    # hybrid tenant): Graph's /users/{key} and the password sign-in need the UPN.
    upn = models.CharField("User principal name", max_length=254, blank=True)
    # The optional legacy password, encrypted by onboarding.vault.
    password_ciphertext = models.BinaryField(null=True, blank=True, editable=False)
    password_key_id = models.CharField(max_length=32, blank=True, db_index=True, editable=False)
    health = models.CharField(
        max_length=16, choices=Tenant.Health.choices, default=Tenant.Health.UNKNOWN
    )
    diagnosis_code = models.CharField(max_length=64, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "address"], name="mailbox_unique_per_tenant")
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def sign_in_name(self) -> str:
        """The key Microsoft knows the mailbox's account by: its UPN, else its address."""
        return self.upn or self.address

    @property
    def has_password(self) -> bool:
        return bool(self.password_ciphertext)

    def set_password(self, plaintext: str | None) -> None:
        """Encrypt a new legacy password into this row; None or "" removes it.

        The caller saves the row.
        """
        if plaintext:
            vault.seal(self, "password", plaintext)
        else:
            vault.clear(self, "password")

    def reveal_password(self) -> str | None:
        """The legacy password, only for the call to Microsoft; None when none is set.

        Raises vault.DecryptionError (and logs an alert naming the row) when a stored
        password does not decrypt for this row.
        """
        if self.password_ciphertext is None:
            return None
        return vault.reveal(self, "password")


class MailboxSignIn(models.Model):
    """The mailbox owner's own sign-in with Microsoft (delegated access): the refresh
    token Microsoft returned, held only as vault ciphertext bound to this row, and the
    account it belongs to. Written by onboarding.delegated only: its callback creates
    it, and each refresh replaces the token under a row lock (Microsoft rotates them).
    Access tokens are not kept here: they live in the shared encrypted msal cache."""

    # The consumer ("MSA") directory: personal Outlook.com accounts sign in there.
    CONSUMERS = "consumers"

    mailbox = models.OneToOneField(Mailbox, on_delete=models.CASCADE, related_name="sign_in")
    refresh_token_ciphertext = models.BinaryField(editable=False)
    refresh_token_key_id = models.CharField(max_length=32, db_index=True, editable=False)
    # "consumers" for a personal account, else the directory (tenant) GUID it signed in at.
    authority = models.CharField(max_length=64)
    # msal's home account id (uid.utid from client_info), the ID token's oid and
    # preferred_username: who signed in, to compare on every later sign-in.
    home_account_id = models.CharField(max_length=200)
    account_oid = models.CharField(max_length=64)
    username = models.CharField(max_length=254)
    # The Graph permissions Microsoft granted, space-separated, as in the token's scp.
    scopes = models.CharField(max_length=500)
    connected_at = models.DateTimeField(default=timezone.now)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The last refresh Microsoft answered: a personal account's refresh token ends after
    # 90 days without one (the keep-alive warns before that).
    refreshed_at = models.DateTimeField(default=timezone.now)
    # When the keep-alive last warned that the sign-in nears the inactivity limit (its
    # one writer: onboarding.delegated.keepalive); a refresh since starts a new period.
    idle_warned_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Sign-in of {self.username}"

    @property
    def personal(self) -> bool:
        return self.authority == self.CONSUMERS

    def set_refresh_token(self, plaintext: str) -> None:
        """Encrypt a refresh token into this row (the caller saves it)."""
        if not plaintext:
            raise ValueError("A refresh token cannot be empty.")
        vault.seal(self, "refresh_token", plaintext)

    def reveal_refresh_token(self) -> str:
        """The refresh token, only for the call to Microsoft (vault.DecryptionError else)."""
        return vault.reveal(self, "refresh_token")


class CheckRun(models.Model):
    """One verification of a mailbox: each step's outcome, as the live pages show it.

    At most one run per mailbox is running at a time (a partial unique index), so two
    workers can never check the same mailbox at once. `steps` is a list of
    {name, outcome, code, message, correlation_id, duration_ms, diagnosis_key}; it never
    holds a secret (Microsoft's messages never echo one).
    """

    class Trigger(models.TextChoices):
        WIZARD = "wizard", "Wizard"
        SCHEDULE = "schedule", "Scheduled re-check"
        SUPPORT = "support", "Support"
        RENEWAL = "renewal", "Secret renewal"
        ROLLOVER = "rollover", "Certificate rollover"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="check_runs")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A pending secret being verified before it becomes active (renewal); else the active one.
    secret = models.ForeignKey(
        ClientSecret, null=True, blank=True, on_delete=models.SET_NULL, related_name="check_runs"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When a transient failure is retried: shown on the live page.
    retry_at = models.DateTimeField(null=True, blank=True)
    steps = models.JSONField(default=list, blank=True)
    diagnosis_key = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=128, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["mailbox", "-created_at"], name="checkrun_mailbox_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox"],
                condition=models.Q(status="running"),
                name="checkrun_one_running_per_mailbox",
            )
        ]

    def __str__(self) -> str:
        return f"Check of {self.mailbox} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.PASSED, self.Status.FAILED)


class ReminderDispatch(models.Model):
    """One expiry reminder for one secret: created by the scan that claims it.

    The row is the claim: the unique constraint lets only one scan create it, and
    conditional updates on `status`, `attempts` and `lease_until` let only one
    worker send it (see onboarding/reminders.py and docs/reminders.md).
    """

    class Status(models.TextChoices):
        CLAIMED = "claimed", "Claimed, not sent yet"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Not needed any more"

    # No index of its own: the unique constraint's index starts with it.
    secret = models.ForeignKey(
        ClientSecret, on_delete=models.CASCADE, related_name="reminders", db_index=False
    )
    # Days before expiry: 30 ... 1, 0 on the day, -7, -14 ... weekly once expired.
    threshold = models.SmallIntegerField()
    # The expiry the reminder was about, so a renewed secret starts afresh.
    expires_on = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CLAIMED)
    claimed_at = models.DateTimeField(default=timezone.now)
    # While a sender holds the row; another may take it over only after this.
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Senders that took the row; also the fencing token of the current sender.
    attempts = models.PositiveSmallIntegerField(default=0)
    recipients = models.PositiveSmallIntegerField(default=0)
    # Why the last attempt failed: an exception's class name, never a secret.
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-claimed_at"]
        constraints = [
            # Ordered so that its index also answers "latest reminder for this expiry".
            models.UniqueConstraint(
                fields=["secret", "expires_on", "threshold"], name="reminder_once_per_threshold"
            )
        ]
        indexes = [models.Index(fields=["status", "lease_until"], name="reminder_status_lease")]

    def __str__(self) -> str:
        return f"Reminder {self.threshold}d for {self.secret_id} ({self.status})"


class CertificateRollover(models.Model):
    """The portal rolling a certificate credential over by itself before it expires
    (onboarding.renewal.rollover): one row per credential replaced, whose unique `old` is
    the claim (of several scans only one creates it). The next key pair waits here,
    encrypted, until Graph's addKey has put its certificate on the app; it then becomes
    the `new` credential, proved by a check before it replaces `old`."""

    class Stage(models.TextChoices):
        CLAIMED = "claimed", "Starting"
        KEY_MADE = "key_made", "New key pair made"
        KEY_ADDED = "key_added", "New certificate added in Entra"
        PROVING = "proving", "Proving the new certificate"
        SWITCHED = "switched", "New certificate in use"
        DONE = "done", "Old certificate removed"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    app = models.ForeignKey(AppRegistration, on_delete=models.CASCADE, related_name="rollovers")
    old = models.OneToOneField(ClientSecret, on_delete=models.CASCADE, related_name="rollover")
    new = models.OneToOneField(
        ClientSecret, null=True, blank=True, on_delete=models.SET_NULL, related_name="rolled_from"
    )
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.CLAIMED)
    # The next key pair: the private key only as vault ciphertext bound to this row.
    private_key_ciphertext = models.BinaryField(null=True, blank=True, editable=False)
    private_key_key_id = models.CharField(max_length=32, blank=True, db_index=True, editable=False)
    certificate_pem = models.TextField(blank=True)
    thumbprint = models.CharField(max_length=40, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    check_run = models.ForeignKey(
        "CheckRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # One worker at a time advances a row: it holds the lease until it is done or lost.
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the old certificate may be removed in Entra (the grace period after switching).
    remove_after = models.DateTimeField(null=True, blank=True)
    diagnosis_key = models.CharField(max_length=64, blank=True)
    # Microsoft's error code or an exception's class name, never a secret.
    error_code = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["stage", "next_attempt_at"], name="rollover_stage_next")]

    def __str__(self) -> str:
        return f"Rollover of {self.old_id} ({self.stage})"

    @property
    def is_finished(self) -> bool:
        return self.stage in (self.Stage.DONE, self.Stage.FAILED)


class VendorCredential(models.Model):
    """A certificate of the vendor's own multi-tenant app (vendor mode): the one
    credential with which the portal signs in to every customer directory that consented
    to that app. Its private key is held only as vault ciphertext bound to this row.
    Written by onboarding.vendor only: `manage.py vendor_certificate` makes the first one,
    the vendor's rollover the next ones (Graph addKey, as for a customer's certificate).
    A key given by file (PORTAL_VENDOR_APP_PRIVATE_KEY_FILE) has no row."""

    class Status(models.TextChoices):
        # Made; its certificate not on the vendor's app yet (uploaded by hand, or addKey).
        PENDING = "pending", "Waiting to be added to the app"
        # On the app; a rollover proves it with a token before it replaces the active one.
        ADDED = "added", "Added to the app, being proved"
        ACTIVE = "active", "In use"
        RETIRED = "retired", "Replaced"
        REMOVED = "removed", "Removed from the app"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The key's ID on the vendor's app (Entra's Certificate ID): removeKey names it.
    key_id = models.UUIDField("Certificate ID", null=True, blank=True)
    private_key_ciphertext = models.BinaryField(editable=False)
    private_key_key_id = models.CharField(max_length=32, db_index=True, editable=False)
    certificate_pem = models.TextField()
    thumbprint = models.CharField(max_length=40)
    expires_on = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    # After a rollover: when the replaced certificate may be removed from the app.
    remove_after = models.DateTimeField(null=True, blank=True)
    # One worker at a time rolls the credential over (onboarding.vendor.rollover).
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Microsoft's error code or an exception's class name of the last failed attempt.
    error_code = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Vendor certificate {self.thumbprint} ({self.status})"

    def set_private_key(self, private_key_pem: str) -> None:
        """Encrypt the private key into this row (saved first: the blob is bound to it)."""
        vault.seal(self, "private_key", private_key_pem)

    def reveal_private_key(self) -> str:
        return vault.reveal(self, "private_key")


class VendorNotice(models.Model):
    """One e-mail to support about the vendor app's credential: an expiry reminder (a
    threshold in days before expiry) or a stopped rollover. The unique key is the claim:
    of several hourly runs only one creates it, and so only one sends."""

    thumbprint = models.CharField(max_length=40)
    # "expiry:30", "expiry:0", "rollover:<error code>"...
    topic = models.CharField(max_length=160)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["thumbprint", "topic"], name="vendor_notice_once")
        ]

    def __str__(self) -> str:
        return f"Vendor notice {self.topic} for {self.thumbprint}"


class ProvisioningRun(models.Model):
    """One attempt of the portal to register a tenant's own app in its directory with a
    signed-in admin's delegated token (onboarding.provisioning.workflow), which is never
    stored. `created` lists what the attempt made in the directory, each item recorded
    as soon as Graph answers, so that nothing the portal made goes unlisted: a failed
    attempt removes it, or names it for the next attempt (or the admin) to remove."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Registered"
        FAILED = "failed", "Failed, nothing left in the directory"
        LEFT_OVER = "left_over", "Failed, items left in the directory"
        CLEANED = "cleaned", "Left-over items removed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="provisioning_runs")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    directory_id = models.UUIDField()
    # Who signed in at Microsoft (the ID token's preferred_username).
    signed_in_as = models.CharField(max_length=254, blank=True)
    display_name = models.CharField(max_length=120)
    # "certificate" or "secret": what the admin asked for (a policy may turn a secret
    # into a certificate: `credential_note` says why).
    credential_kind = models.CharField(max_length=16)
    credential_note = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    # [{"kind": "application" | "service_principal" | "app_role_assignment" | "password",
    #   "id": ..., "label": ...}], in the order they were made.
    created = models.JSONField(default=list, blank=True)
    # The step that failed and Microsoft's code (never a secret or a token).
    failed_step = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=128, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Registration of {self.display_name} ({self.status})"


class MailboxScope(models.Model):
    """The tenant's own app limited to its mailboxes in Exchange Online (RBAC for
    Applications) instead of Entra's tenant-wide Mail.Read and Mail.Send: the admin runs
    the commands onboarding.scope.commands generates. Its presence makes the tenant
    "limited"; every check then also proves that an address outside the scope is
    refused (onboarding.scope.proof). Holds no secret: two IDs and two addresses."""

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, related_name="mailbox_scope", primary_key=True
    )
    # The Object ID on Entra's Enterprise applications page (the service principal's),
    # which New-ServicePrincipal needs; known when the portal registered the app.
    service_principal_object_id = models.UUIDField(
        "Enterprise application Object ID", null=True, blank=True
    )
    # A mailbox of the directory that the scope must not include (for example the
    # admin's own): a plain address, read by each check, which must be refused.
    probe_address = models.EmailField("Address outside the scope", blank=True)
    # Several mailboxes may be scoped by a mail-enabled group: its distinguished name.
    group = models.CharField("Group distinguished name", max_length=1024, blank=True)
    # When the admin said the commands were run: Exchange takes 30 minutes to 2 hours
    # to apply them, and the checks wait that long before a refusal counts.
    commands_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Mailbox scope of {self.tenant}"

    @property
    def complete(self) -> bool:
        """Both answers the commands and the scope proof need are given."""
        return self.service_principal_object_id is not None and bool(self.probe_address)
