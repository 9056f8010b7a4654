"""The wizard's forms: each holds only its own step's fields."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format

from onboarding import microsoft, vault
from onboarding.checks import results
from onboarding.microsoft import admin_center
from onboarding.models import AppRegistration, Mailbox, Tenant
from onboarding.wizard.validators import (
    ERROR,
    GUID_RE,
    NOTICE,
    WARNING,
    Finding,
    is_personal_address,
    parse_entra_date,
    parse_essentials,
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


# Under Essentials the IDs come in this order: Application (client) ID, Object ID,
# Directory (tenant) ID. The Object ID (the app object's own ID) is never asked for.
ESSENTIALS_ORDER = (
    "Under Essentials the Application (client) ID comes first, then the Object ID "
    "(not needed here), then the Directory (tenant) ID."
)
SAME_ID_TWICE = (
    "Both fields hold the same ID. The Application (client) ID and the Directory (tenant) "
    "ID are two different lines. " + ESSENTIALS_ORDER
)
OBJECT_ID_PASTED = (
    "This is the Object ID. The Application (client) ID is the line above it, under "
    "Essentials on the app's Overview page."
)
SWAPPED = (
    "The two IDs are the wrong way round: this is the Application (client) ID, and the "
    "ID in the first field is your Directory (tenant) ID. Swap them."
)
NOT_A_DIRECTORY = (
    "Microsoft knows no directory with this ID. If you copied the Application (client) "
    "ID or the Object ID, take the Directory (tenant) ID instead: the third ID under "
    "Essentials on the app's Overview page."
)
ESSENTIALS_READ = (
    "We read the IDs from the Essentials text you pasted. Check them before you continue."
)


VENDOR_NO_PERSONAL = (
    "A personal Outlook.com, Hotmail or Live mailbox cannot be connected through the "
    "vendor's app, which serves work accounts only. Choose another way to connect on the "
    "start page (your own app), or enter a work mailbox."
)


class ModeForm(forms.Form):
    """The start page: how the admin connects (the modes this portal offers)."""

    mode = forms.ChoiceField(
        label="How do you want to connect?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose how you want to connect.",
            "invalid_choice": "Choose one of the ways listed.",
        },
    )

    def __init__(self, *args: Any, modes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mode"].choices = modes  # type: ignore[attr-defined]


class RegisterForm(forms.Form):
    # A pasted Essentials block is longer than an ID: the fields take it, and clean
    # reads the IDs out of it (so a browser's maxlength does not cut it first).
    client_id = forms.CharField(
        label="Application (client) ID",
        max_length=4000,
        help_text="On the app's Overview page, under Essentials, for example "
        "11111111-2222-3333-4444-555555555555. Not the Object ID, the line below it. "
        "You may also paste the whole Essentials block here.",
    )
    directory = forms.CharField(
        label="Directory (tenant) ID",
        max_length=4000,
        help_text="On the same page, below the Object ID. A verified domain such as "
        "contoso.onmicrosoft.com works too.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.from_essentials = False
        # The app's Object ID, when a pasted Essentials block names it with the client ID
        # (the certificate's automatic renewal needs it; step 4 asks for it otherwise).
        self.object_id = ""
        # The certificate's key ID on the app, printed by the portal's PowerShell script.
        self.certificate_id = ""
        self._object_ids: dict[str, str] = {}
        if self.is_bound:
            self._read_essentials()

    def _read_essentials(self) -> None:
        """Put the IDs of a pasted Essentials block into their fields (no JS needed)."""
        data = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict or a dict
        for name in ("client_id", "directory"):
            found = parse_essentials(str(self.data.get(name, "")))
            if "object_id" in found and "client_id" not in found:
                self._object_ids[name] = found["object_id"]
            if "client_id" in found or "directory_id" in found:
                if "client_id" in found:
                    self.object_id = found.get("object_id", "")
                    self.certificate_id = found.get("certificate_id", "")
                data["client_id"] = found.get("client_id", data.get("client_id", ""))
                data["directory"] = found.get("directory_id", data.get("directory", ""))
                self.from_essentials = True
                break
        self.data = data

    def clean_client_id(self) -> str:
        if "client_id" in self._object_ids:
            raise ValidationError(OBJECT_ID_PASTED, code="object_id")
        return validate_guid(
            self.cleaned_data["client_id"], name="Application (client) ID", where=OVERVIEW
        )

    def clean_directory(self) -> str:
        if "directory" in self._object_ids:
            raise ValidationError(
                "This is the Object ID. The Directory (tenant) ID is the line below it, "
                "under Essentials on the app's Overview page.",
                code="object_id",
            )
        return validate_directory(self.cleaned_data["directory"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        if cleaned["client_id"] == cleaned["directory"]:
            # Caught here, before Microsoft is asked anything.
            self.add_error("client_id", SAME_ID_TWICE)
            return cleaned
        directory_id = self._look_up(cleaned["directory"], client_id=cleaned["client_id"])
        if directory_id is None:
            return cleaned
        cleaned["directory_id"] = directory_id
        if cleaned["client_id"] == directory_id:
            self.add_error(
                "client_id",
                "This is the Directory (tenant) ID. The Application (client) ID is the first "
                "of the three IDs under Essentials on the Overview page.",
            )
        return cleaned

    def _look_up(self, directory: str, *, client_id: str) -> str | None:
        """The directory's ID, from Microsoft's public discovery document: an anonymous
        request that signs nobody in, so it leaves nothing in the sign-in logs."""
        try:
            directory_id = microsoft.discover_directory(directory).lower()
        except microsoft.MicrosoftError as exc:
            if exc.transient:
                raise ValidationError(UNREACHABLE, code="unreachable") from None
            self.add_error("directory", self._not_found(directory, client_id, exc.code))
            return None
        if not GUID_RE.match(directory_id):
            raise ValidationError(UNREACHABLE, code="unreachable")
        return directory_id

    @staticmethod
    def _not_found(directory: str, client_id: str, code: str) -> ValidationError:
        if not GUID_RE.match(directory):
            return ValidationError(NOT_FOUND, code=code)
        # A GUID that is no directory: usually the client ID or the Object ID. If the
        # client ID field holds a directory, the two were swapped.
        try:
            swapped = microsoft.discover_directory(client_id).lower() == client_id
        except microsoft.MicrosoftError:
            swapped = False
        if swapped:
            return ValidationError(SWAPPED, code="swapped")
        return ValidationError(NOT_A_DIRECTORY, code=code)


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


SECRET_ID_HELP = (
    "The Secret ID column, on the same row as the Value. Entra lists an app's secrets by "
    "this ID and by the first characters of the value only, so when the secret is to be "
    "renewed the portal can tell you which one to delete."
)
# Three values under one Secret ID: more than one correction of a mistyped value, so the
# Secret ID is most likely copied each time from an older row in Entra.
SAME_SECRET_ID_LIMIT = 3
SAME_SECRET_ID = (
    "Three different values have now been entered with this Secret ID, but in Entra each "
    "secret has its own Secret ID. Check that you copied the Secret ID from the row of the "
    "new secret, not of an older one."
)


class SecretForm(forms.Form):
    value = forms.CharField(
        label="Value",
        strip=False,
        max_length=1024,
        # The "Show value" button (static/js/portal.js) lets the admin check a paste.
        widget=forms.PasswordInput(
            render_value=False,
            attrs={**SECRET_INPUT.attrs, "data-show-toggle": "Show value"},
        ),
        help_text="The Value column, shown only right after you add the secret. It is "
        "encrypted when saved and never shown again; only its first three characters are.",
    )
    secret_id = forms.CharField(
        label="Secret ID",
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=SECRET_ID_HELP,
    )
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
        return credential_id(
            self.cleaned_data["secret_id"],
            self.app,
            name="Secret ID",
            where="the Secret ID column under Certificates & secrets",
            copy="the Secret ID column of the new secret",
            code="not_secret_id",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        findings = self._value_findings(cleaned)
        findings += self._expiry_findings(cleaned)
        findings += self._secret_id_findings(cleaned)
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

    def _secret_id_findings(self, cleaned: dict[str, Any]) -> list[Finding]:
        """A warning when this value would be the third different one under its Secret ID."""
        value, secret_id = cleaned.get("value"), cleaned.get("secret_id")
        if not value or not secret_id or self.errors:
            return []
        others: set[str] = set()
        for earlier in self.app.secrets.filter(secret_id=secret_id):
            try:
                earlier_value = earlier.reveal()  # compared here, never shown or logged
            except vault.DecryptionError:
                continue  # the vault has raised its alert; this row cannot be compared
            if earlier_value != value:
                others.add(earlier_value)
        if len(others) + 1 < SAME_SECRET_ID_LIMIT:
            return []
        return [Finding("same_secret_id", WARNING, SAME_SECRET_ID)]

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

    @property
    def secret_id_warnings(self) -> list[Finding]:
        return self.warnings_for("secret_id") if self.needs_confirmation else []


def _field_of(finding: Finding) -> str:
    if finding.code == "same_secret_id":
        return "secret_id"
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


class CertificateForm(forms.Form):
    """Step 4, certificate: the Certificate ID Entra lists once the portal's certificate
    is uploaded (the credential's ID, as the Secret ID is a secret's)."""

    certificate_id = forms.CharField(
        label="Certificate ID",
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="Entra lists it beside the uploaded certificate, under Certificates & "
        "secrets > Certificates, with the thumbprint shown above.",
    )

    object_id = forms.CharField(
        label="Object ID (optional, for automatic renewal)",
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="On the app's Overview page, under Essentials: the second ID, between the "
        "Application (client) ID and the Directory (tenant) ID. With it the portal renews "
        "the certificate by itself before it expires; without it you are reminded instead.",
    )

    def __init__(self, *args: Any, app: AppRegistration, **kwargs: Any) -> None:
        if app.object_id is not None:
            kwargs.setdefault("initial", {"object_id": str(app.object_id)})
        super().__init__(*args, **kwargs)
        self.app = app

    def clean_object_id(self) -> str:
        value = self.cleaned_data["object_id"].strip()
        if not value:
            return ""
        object_id = validate_guid(value, name="Object ID", where=OVERVIEW)
        if object_id == str(self.app.client_id).lower():
            raise ValidationError(
                "This is the Application (client) ID. The Object ID is the line below it, "
                "under Essentials on the app's Overview page.",
                code="client_id",
            )
        if object_id in (str(self.app.directory_id).lower(), self.app.directory.lower()):
            raise ValidationError(
                "This is the Directory (tenant) ID. The Object ID is the line above it, "
                "under Essentials on the app's Overview page.",
                code="directory_id",
            )
        return object_id

    def clean_certificate_id(self) -> str:
        return credential_id(
            self.cleaned_data["certificate_id"],
            self.app,
            name="Certificate ID",
            where="the Certificate ID column under Certificates & secrets > Certificates",
            copy="the Certificate ID column of the uploaded certificate",
            code="not_certificate_id",
        )


def credential_id(
    value: str, app: AppRegistration, *, name: str, where: str, copy: str, code: str
) -> str:
    """A credential's ID in Entra (a Secret ID, a Certificate ID): a GUID, and not the
    app's or the directory's own, which sit beside it on Entra's pages."""
    found = validate_guid(value, name=name, where=where)
    if found in (str(app.client_id), str(app.directory_id)):
        raise ValidationError(
            f"This is an ID of the app or of the directory. Copy {copy}.", code=code
        )
    return found


PASSWORD_HELP = (
    "Legacy: Sign-in with Microsoft above replaces it. Only needed if the operations app "
    "signs in as this mailbox with its password (the older sign-in method, which Microsoft "
    "recommends against: the app handles the password itself). That sign-in also needs "
    "the delegated Microsoft Graph "
    "permission Mail.Read with admin consent (step 3: Add a permission, Delegated "
    "permissions); it fails when the account requires multi-factor authentication, and "
    "personal Outlook.com accounts cannot use it at all."
)

PASSWORD_NOT_NEEDED_REMOVE = "Remove the stored mailbox password (not needed)"
PASSWORD_NOT_NEEDED = (
    "The operations app here does not sign in with the mailbox password, so the portal "
    "does not use the one stored earlier. Tick this to delete it."
)


UPN_HELP = (
    "Only if the mailbox's account signs in with another name than this address (an "
    "alias, or a hybrid directory): Microsoft Graph finds a mailbox by that name only. "
    "Find it in the Microsoft Entra admin center > Users > the user > User principal name."
)
PERSONAL_UPN = (
    "A personal Microsoft account signs in with its own address: leave this empty and "
    "enter the address above."
)
UPN_INVALID = (
    "Enter the user principal name as Entra shows it, e.g. dispatch@contoso.onmicrosoft.com."
)
OTHER_DIRECTORY = (
    "{domain} belongs to another Microsoft 365 directory than your app's (step 1), so the "
    "app cannot reach this mailbox. Check the address, or the Directory (tenant) ID in step 1."
)
UNKNOWN_DOMAIN = (
    "{domain} is not a verified domain of any Microsoft 365 directory, so Microsoft will "
    "not find this mailbox. Check how the domain is spelled; your organisation's domains "
    "are listed in the Microsoft 365 admin center under Settings > Domains."
)


def directory_of_domain(domain: str) -> str:
    """The directory (tenant) ID that has `domain` as a verified domain, from Microsoft's
    OpenID discovery; MicrosoftError AADSTS90002 when no directory has it."""
    return microsoft.discover_directory(domain).lower()


class MailboxForm(forms.Form):
    address = forms.CharField(
        label="Mailbox address",
        max_length=254,
        # type=email for the phone keyboard with the @; the checks are the portal's own
        # (validate_mailbox_address), as the form is sent with novalidate.
        widget=forms.EmailInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
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
    # The domains a warning was shown for, so that "save anyway" confirms only those.
    acknowledged = forms.CharField(required=False, widget=forms.HiddenInput)
    save_anyway = forms.BooleanField(required=False, label="The address is right: save it anyway.")

    def __init__(self, *args: Any, tenant: Tenant, mailbox: Mailbox | None, **kwargs: Any):
        if mailbox is not None:
            kwargs["initial"] = {"address": mailbox.address, "upn": mailbox.upn}
        super().__init__(*args, **kwargs)
        self.tenant, self.mailbox = tenant, mailbox
        self.warnings: list[Finding] = []
        self.needs_confirmation = False
        # The password exists only for the operations app's password (ROPC) sign-in
        # (settings.OPERATIONS_SIGN_IN): without it, the portal neither asks for one
        # nor uses one stored before (the check skips its step).
        self.asks_password = admin_center.asks().password
        stored = mailbox is not None and mailbox.has_password
        if not self.asks_password:
            del self.fields["password"]
            if stored:
                # Kept unless removed (the vendor may turn the method back on), but an
                # unused credential is a liability: offer to remove it.
                self.fields["forget_password"].label = PASSWORD_NOT_NEEDED_REMOVE
                self.fields["forget_password"].help_text = PASSWORD_NOT_NEEDED
            else:
                del self.fields["forget_password"]
        elif not stored:
            del self.fields["forget_password"]
        else:
            self.fields["password"].help_text = (
                "A password is stored. Leave this empty to keep it. " + PASSWORD_HELP
            )

    @property
    def test_message(self) -> dict[str, Any]:
        """What the first check sends once this mailbox is saved (onboarding.checks.
        results.test_message), stated before the Save button; the sender is whatever
        address is typed, so the page describes it generically."""
        return results.test_message(Mailbox(address=""))

    def clean_address(self) -> str:
        address = validate_mailbox_address(self.cleaned_data["address"])
        others = Mailbox.objects.filter(tenant=self.tenant, address=address)
        if self.mailbox is not None:
            others = others.exclude(pk=self.mailbox.pk)
        if others.exists():
            raise ValidationError("This mailbox is already in your list.", code="duplicate")
        if self.tenant.uses_vendor_app and is_personal_address(address):
            # The vendor's app takes work accounts of any directory, not personal ones.
            raise ValidationError(VENDOR_NO_PERSONAL, code="personal")
        return address

    def clean_upn(self) -> str:
        """The sign-in name, lower-cased (Entra compares it so), or "" for none."""
        value = (self.cleaned_data.get("upn") or "").strip().lower()
        if not value:
            return ""
        try:
            value = validate_mailbox_address(value)
        except ValidationError:
            raise ValidationError(UPN_INVALID, code="invalid") from None
        if is_personal_address(value):
            raise ValidationError(PERSONAL_UPN, code="personal")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned.setdefault("password", "")  # none asked for: none to store
        if cleaned.get("password") and cleaned.get("forget_password"):
            self.add_error("password", "Either type a new password or remove it, not both.")
        if cleaned.get("upn") and cleaned.get("upn") == cleaned.get("address"):
            cleaned["upn"] = ""  # the same name twice: nothing to store
        if not self.errors:
            self.warnings = self._domain_findings(cleaned)
            if self.warnings:
                self._require_confirmation()
        return cleaned

    def _domain_findings(self, cleaned: dict[str, Any]) -> list[Finding]:
        """A warning for each domain of the address and sign-in name that is not one of
        the app's directory. Microsoft's anonymous OpenID discovery answers that (the
        lookup step 1 makes for the directory): no permission is needed and nothing
        appears in the customer's sign-in logs."""
        app = getattr(self.tenant, "app_registration", None)
        if app is None or app.directory_id is None:
            return []
        names = [cleaned.get("upn") or "", cleaned["address"]]
        # A personal account is in no organisation's directory: nothing to look up.
        names = [name for name in names if name and not is_personal_address(name)]
        domains = dict.fromkeys(name.rpartition("@")[2] for name in names)
        known = self._known_domains(app)
        findings = []
        for domain in domains:
            if domain in known:
                continue
            try:
                found = directory_of_domain(domain)
            except microsoft.MicrosoftError as exc:
                if exc.transient:
                    continue  # no verdict, and the check in step 6 will tell
                findings.append(
                    Finding(f"domain:{domain}", WARNING, UNKNOWN_DOMAIN.format(domain=domain))
                )
                continue
            if found != str(app.directory_id).lower():
                findings.append(
                    Finding(f"domain:{domain}", WARNING, OTHER_DIRECTORY.format(domain=domain))
                )
        return findings

    def _known_domains(self, app: AppRegistration) -> set[str]:
        """Domains with no need to ask: the one typed as the directory in step 1, and
        those of the mailboxes already in the list (looked up, or confirmed, before)."""
        known = {app.directory.lower()} if "." in app.directory else set()
        for address, upn in self.tenant.mailboxes.values_list("address", "upn"):
            known.update(name.rpartition("@")[2] for name in (address, upn) if name)
        return known

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
        self.add_error("save_anyway", "Check the warning above, then tick this to save anyway.")
