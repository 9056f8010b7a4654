"""The ONLY way out to Microsoft: the identity platform through msal, and Graph.

Every failure leaves this package as a MicrosoftError, which never carries a secret.
Callers use the names below (`microsoft.acquire_app_token(...)`), and tests patch
them here or run the emulator, nothing deeper.

- identity.py: directory discovery, the admin consent URL, tokens (msal)
- graph.py: the mail calls of a check, and an app rolling its own certificate
- http.py: the one HTTP session, and Microsoft's error shapes
- signin.py: the mailbox owner's own sign-in (auth code with PKCE, refresh tokens)
- token_store.py: msal's token caches shared across worker processes
- admin_center.py: links into the Entra admin center, for the wizard's pages
- provisioning.py: registering the customer's app for them with the admin's delegated token
"""

from onboarding.microsoft.errors import (
    AppCredential,
    AppToken,
    DelegatedToken,
    InboxMessage,
    MicrosoftError,
)
from onboarding.microsoft.graph import add_key, read_inbox, remove_key, send_test_message
from onboarding.microsoft.identity import (
    acquire_app_token,
    admin_consent_url,
    discover_directory,
    forget_clients,
    sign_in_with_password,
    token_roles,
)
from onboarding.microsoft.provisioning import (
    GRAPH_APP_ROLES,
    MAIL_ROLES,
    ROLES_THAT_GRANT_APP_ROLES,
    CreatedApplication,
    CredentialPolicy,
    FoundApplication,
    NewPassword,
    add_password,
    app_management_policies,
    assign_app_role,
    create_application,
    create_service_principal,
    delete_application,
    find_applications,
    graph_service_principal,
    signed_in_roles,
)

__all__ = [
    "GRAPH_APP_ROLES",
    "MAIL_ROLES",
    "ROLES_THAT_GRANT_APP_ROLES",
    "AppCredential",
    "AppToken",
    "CreatedApplication",
    "CredentialPolicy",
    "DelegatedToken",
    "FoundApplication",
    "InboxMessage",
    "MicrosoftError",
    "NewPassword",
    "acquire_app_token",
    "add_key",
    "add_password",
    "admin_consent_url",
    "app_management_policies",
    "assign_app_role",
    "create_application",
    "create_service_principal",
    "delete_application",
    "discover_directory",
    "find_applications",
    "forget_clients",
    "graph_service_principal",
    "read_inbox",
    "remove_key",
    "send_test_message",
    "sign_in_with_password",
    "signed_in_roles",
    "token_roles",
]
