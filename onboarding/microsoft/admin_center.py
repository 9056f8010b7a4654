"""Links into the Entra admin center, and what the wizard has the admin set there.

Deep links follow the admin center's own addresses (entra.microsoft.com/#view/...);
settings.ENTRA_ADMIN_URL points them at another admin center when needed.

What the admin sets depends on settings.OPERATIONS_SIGN_IN, the operations app's own
sign-in methods this vendor uses (`asks()`): the portal itself needs only the consent
callback URI, the application permissions and a client secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

_REGISTERED_APPS = "#view/Microsoft_AAD_RegisteredApps"
# The labels of Register an application's "Supported account types" (entra-docs
# supported-accounts-validation.md; the admin center says "Entra ID tenant").
ACCOUNT_TYPE_ANY = (
    "Accounts in any organizational directory (Any Microsoft Entra ID tenant - Multitenant) "
    "and personal Microsoft accounts (e.g. Skype, Xbox)"
)
ACCOUNT_TYPE_SINGLE = "Accounts in this organizational directory only (Single tenant)"
# The customer guide's account type (every sign-in method of the operations app).
ACCOUNT_TYPE = ACCOUNT_TYPE_ANY
# Redirect URIs from the guide, for the operations app's own interactive sign-in.
GUIDE_REDIRECT_URIS = ("https://localhost", "http://localhost")
# The application permissions the portal checks and the operations app uses.
GRAPH_PERMISSIONS = ("Mail.Read", "Mail.Send")
# The password sign-in reads mail as the signed-in mailbox: a delegated permission.
DELEGATED_PERMISSIONS = ("Mail.Read",)


@dataclass(frozen=True)
class Asks:
    """Which of the guide's Entra settings this deployment asks the admin for."""

    interactive: bool  # work and personal accounts, localhost URIs, implicit-grant tokens
    password: bool  # public client flows, delegated Mail.Read, the mailbox password

    @property
    def account_type(self) -> str:
        return ACCOUNT_TYPE_ANY if self.interactive else ACCOUNT_TYPE_SINGLE

    @property
    def delegated_permissions(self) -> tuple[str, ...]:
        return DELEGATED_PERMISSIONS if self.password else ()

    def web_redirect_uris(self, consent_callback_url: str, *portal: str) -> list[str]:
        """Every Web redirect URI to register; the portal's consent callback always, and
        its other callbacks (`portal`: the mailbox owner's sign-in)."""
        guide = GUIDE_REDIRECT_URIS if self.interactive else ()
        return [*guide, consent_callback_url, *portal]

    def permissions_text(self) -> str:
        """The Graph permissions in one line, as the forwarded consent page lists them."""
        text = ", ".join(GRAPH_PERMISSIONS) + " (application)"
        if self.delegated_permissions:
            text += "; " + ", ".join(self.delegated_permissions) + " (delegated)"
        return text


def asks() -> Asks:
    methods = settings.OPERATIONS_SIGN_IN
    return Asks(interactive="interactive" in methods, password="password" in methods)


def _base() -> str:
    return str(settings.ENTRA_ADMIN_URL)


def app_list_url() -> str:
    return f"{_base()}/{_REGISTERED_APPS}/ApplicationsListBlade"


def new_registration_url() -> str:
    blade = "CreateApplicationBlade/quickStartType~/null/isMSAApp~/false"
    return f"{_base()}/{_REGISTERED_APPS}/{blade}"


def app_page_url(client_id: object, page: str) -> str:
    """page: Overview, Authentication, CallAnAPI (API permissions) or Credentials."""
    return f"{_base()}/{_REGISTERED_APPS}/ApplicationMenuBlade/~/{page}/appId/{client_id}"


def web_redirect_uris(consent_callback_url: str, *portal: str) -> list[str]:
    """Every Web redirect URI to register for this deployment (see asks())."""
    return asks().web_redirect_uris(consent_callback_url, *portal)
