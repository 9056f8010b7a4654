"""The wizard's forms: each holds only its own step's fields."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format

from onboarding import microsoft
from onboarding.models import AppRegistration, Mailbox, Tenant
from onboarding.wizard.validators import (
    ERROR,
    GUID_RE,
    NOTICE,
    WARNING,
    Finding,
    parse_entra_date,
    secret_value_findings,
    validate_directory,
    validate_guid,
    validate_mailbox_address,
)

OVERVIEW = "the app's Overview page in Entra"
UNREACHABLE = (
    "Microsoft could not be reached to look up the directory. Nothing is wrong with what "
    "you entered; try again in a minute."
)
NOT_FOUND = (
    "Microsoft does not know this directory. Copy the Directory (tenant) ID from the app's "
    "Overview page, under Essentials, next to the Application (client) ID."
)
# Password fields are emptied after every try and never filled by the browser
# with the portal's own password.
SECRET_INPUT = forms.PasswordInput(
    render_value=False, attrs={"autocomplete": "new-password", "spellcheck": "false"}
)


class RegisterForm(forms.Form):
    client_id = forms.CharField(
        label="Application (client) ID",
        max_length=64,
        help_text="On the app's Overview page, for example 11111111-2222-3333-4444-555555555555.",
    )
    directory = forms.CharField(
        label="Directory (tenant) ID",
        max_length=255,
        help_text="On the same page. A verified domain such as contoso.onmicrosoft.com works too.",
    )

    def clean_client_id(self) -> str:
        return validate_guid(
            self.cleaned_data["client_id"], name="Application (client) ID", where=OVERVIEW
        )

    def clean_directory(self) -> str:
        return validate_directory(self.cleaned_data["directory"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        directory_id = self._look_up(cleaned["directory"])
        if directory_id is None:
            return cleaned
        cleaned["directory_id"] = directory_id
        if cleaned["client_id"] == directory_id:
            self.add_error(
                "client_id",
                "This is the Directory (tenant) ID. The Application (client) ID is the line "
                "above it on the Overview page.",
            )
        return cleaned

    def _look_up(self, directory: str) -> str | None:
        try:
            directory_id = microsoft.discover_directory(directory).lower()
        except microsoft.MicrosoftError as exc:
            if exc.transient:
                raise ValidationError(UNREACHABLE, code="unreachable") from None
            self.add_error("directory", ValidationError(NOT_FOUND, code=exc.code))
            return None
        if not GUID_RE.match(directory_id):
            raise ValidationError(UNREACHABLE, code="unreachable")
        return directory_id


class AuthenticationForm(forms.Form):
    confirmed = forms.BooleanField(
        label="I have set these values in Entra and clicked Save.",
        error_messages={"required": "Tick this once the settings are saved in Entra."},
    )


EXPIRY_CHOICES = [
    ("90", "90 days (3 months)"),
    ("180", "180 days (6 months), recommended"),
    ("365", "365 days (12 months)"),
    ("545", "545 days (18 months)"),
    ("730", "730 days (24 months)"),
    ("custom", "Custom, or the date in Entra's Expires column"),
]
MAX_MONTHS = 24


class SecretForm(forms.Form):
    value = forms.CharField(
        label="Value",
        strip=False,
        max_length=1024,
        widget=SECRET_INPUT,
        help_text="The Value column, shown only right after you add the secret. It is "
        "encrypted when saved and never shown again; only its first three characters are.",
    )
    secret_id = forms.CharField(label="Secret ID", max_length=64)
    expiry = forms.ChoiceField(
        label="Expires", choices=EXPIRY_CHOICES, initial="180", widget=forms.RadioSelect
    )
    expires_on = forms.CharField(
        label="Expiry date",
        required=False,
        max_length=40,
        help_text="Only for Custom: the date as Entra shows it, e.g. 5/27/2027 or 2027-05-27.",
    )
    acknowledged = forms.CharField(required=False, widget=forms.HiddenInput)
    save_anyway = forms.BooleanField(
        required=False, label="I have checked the warnings above: save it anyway."
    )

    def __init__(self, *args: Any, app: AppRegistration, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app, self.today = app, today
        self.warnings: list[Finding] = []
        self.notices: list[Finding] = []
        self.needs_confirmation = False

    def clean_secret_id(self) -> str:
        secret_id = validate_guid(
            self.cleaned_data["secret_id"],
            name="Secret ID",
            where="the Secret ID column under Certificates & secrets",
        )
        if secret_id in (str(self.app.client_id), str(self.app.directory_id)):
            raise ValidationError(
                "This is an ID of the app or of the directory. Copy the Secret ID column of "
                "the new secret.",
                code="not_secret_id",
            )
        return secret_id

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        findings = self._value_findings(cleaned)
        findings += self._expiry_findings(cleaned)
        for finding in findings:
            if finding.severity == ERROR:
                self.add_error(_field_of(finding), finding.message)
        self.notices = [f for f in findings if f.severity == NOTICE]
        self.warnings = [f for f in findings if f.severity == WARNING]
        if self.warnings and not self.errors:
            self._require_confirmation()
        return cleaned

    def _value_findings(self, cleaned: dict[str, Any]) -> list[Finding]:
        if "value" not in cleaned:
            return []
        value, findings = secret_value_findings(
            cleaned["value"],
            secret_id=cleaned.get("secret_id", ""),
            client_id=str(self.app.client_id),
            directory_id=str(self.app.directory_id),
        )
        if not value:
            self.add_error("value", "Paste the Value column here.")
        cleaned["value"] = value
        return findings

    def _expiry_findings(self, cleaned: dict[str, Any]) -> list[Finding]:
        choice = cleaned.get("expiry")
        if choice is None:
            return []
        if choice != "custom":
            cleaned["expires_on"] = self.today + timedelta(days=int(choice))
            return []
        if not cleaned.get("expires_on"):
            return [Finding("date_missing", ERROR, "Enter the date Entra shows as Expires.")]
        try:
            parsed = parse_entra_date(cleaned["expires_on"])
        except ValidationError as exc:
            return [Finding("date_format", ERROR, exc.messages[0])]
        cleaned["expires_on"] = parsed.value
        return _date_findings(parsed.value, parsed.ambiguous, self.today)

    def _require_confirmation(self) -> None:
        codes = sorted(f.code for f in self.warnings)
        seen = set(self.data.get("acknowledged", "").split(","))
        if self.cleaned_data.get("save_anyway") and set(codes) <= seen:
            return
        self.needs_confirmation = True
        # The next submission may only confirm the warnings shown on this one.
        data = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict when bound
        data["acknowledged"] = ",".join(codes)
        data["save_anyway"] = ""
        self.data = data
        self.add_error("save_anyway", "Check the warnings above, then tick this to save anyway.")

    def warnings_for(self, field: str) -> list[Finding]:
        return [f for f in self.warnings if _field_of(f) == field]

    @property
    def value_warnings(self) -> list[Finding]:
        return self.warnings_for("value") if self.needs_confirmation else []

    @property
    def expiry_warnings(self) -> list[Finding]:
        return self.warnings_for("expires_on") if self.needs_confirmation else []


def _field_of(finding: Finding) -> str:
    return "expires_on" if finding.code.startswith("date") else "value"


def _date_findings(expires_on: date, ambiguous: bool, today: date) -> list[Finding]:
    if expires_on <= today:
        return [
            Finding(
                "date_past",
                ERROR,
                "This date has passed, so the secret no longer works. Add a new client "
                "secret in Entra.",
            )
        ]
    if expires_on > add_months(today, MAX_MONTHS) + timedelta(days=1):
        return [
            Finding(
                "date_too_far",
                ERROR,
                "Entra lets a secret live at most 24 months. Check the date in the Expires column.",
            )
        ]
    if ambiguous:
        swapped = date(expires_on.year, expires_on.day, expires_on.month)
        return [
            Finding(
                "date_ambiguous",
                WARNING,
                f"Read as {date_format(expires_on, 'j F Y')} (month first, as Entra shows "
                f"dates in English). If you meant {date_format(swapped, 'j F Y')}, type "
                f"{swapped.isoformat()} instead.",
            )
        ]
    return []


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


PASSWORD_HELP = (
    "Only needed if the operations app signs in as this mailbox with its password (the "
    "older sign-in method). That sign-in also needs the delegated Microsoft Graph "
    "permission Mail.Read with admin consent (step 3: Add a permission, Delegated "
    "permissions); it fails when the account requires multi-factor authentication, and "
    "personal Outlook.com accounts cannot use it at all."
)


UPN_HELP = (
    "Only if the mailbox's account signs in with another name than this address (an "
    "alias, or a hybrid directory): Microsoft Graph finds a mailbox by that name only. "
    "Find it in the Microsoft Entra admin center > Users > the user > User principal name."
)
UPN_INVALID = (
    "Enter the user principal name as Entra shows it, e.g. dispatch@contoso.onmicrosoft.com."
)


class MailboxForm(forms.Form):
    address = forms.CharField(
        label="Mailbox address",
        max_length=254,
        help_text="The address the operations app reads and sends from, e.g. dispatch@contoso.com.",
    )
    upn = forms.CharField(
        label="User principal name (if different)",
        required=False,
        max_length=254,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
        help_text=UPN_HELP,
    )
    password = forms.CharField(
        label="Mailbox password (optional)",
        required=False,
        strip=False,
        max_length=256,
        widget=SECRET_INPUT,
        help_text=PASSWORD_HELP,
    )
    forget_password = forms.BooleanField(
        required=False, label="Remove the stored password for this mailbox"
    )

    def __init__(self, *args: Any, tenant: Tenant, mailbox: Mailbox | None, **kwargs: Any):
        if mailbox is not None:
            kwargs["initial"] = {"address": mailbox.address, "upn": mailbox.upn}
        super().__init__(*args, **kwargs)
        self.tenant, self.mailbox = tenant, mailbox
        if mailbox is None or not mailbox.has_password:
            del self.fields["forget_password"]
        else:
            self.fields["password"].help_text = (
                "A password is stored. Leave this empty to keep it. " + PASSWORD_HELP
            )

    def clean_address(self) -> str:
        address = validate_mailbox_address(self.cleaned_data["address"])
        others = Mailbox.objects.filter(tenant=self.tenant, address=address)
        if self.mailbox is not None:
            others = others.exclude(pk=self.mailbox.pk)
        if others.exists():
            raise ValidationError("This mailbox is already in your list.", code="duplicate")
        return address

    def clean_upn(self) -> str:
        """The sign-in name, lower-cased (Entra compares it so), or "" for none."""
        value = (self.cleaned_data.get("upn") or "").strip().lower()
        if not value:
            return ""
        try:
            return validate_mailbox_address(value)
        except ValidationError as problem:
            if problem.code == "personal":
                raise
            raise ValidationError(UPN_INVALID, code="invalid") from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password") and cleaned.get("forget_password"):
            self.add_error("password", "Either type a new password or remove it, not both.")
        if cleaned.get("upn") and cleaned.get("upn") == cleaned.get("address"):
            cleaned["upn"] = ""  # the same name twice: nothing to store
        return cleaned
