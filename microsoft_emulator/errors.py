"""Microsoft's error shapes: the identity platform's AADSTS JSON and Graph's error object.

Message starts follow Microsoft's (MICROSOFT.md §3 and §4); the rest of each text is
as close to the real one as was known when written.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from microsoft_emulator.state import GRAPH_APP_ID


@dataclass(frozen=True)
class Aadsts:
    error: str
    status: int
    text: str
    suberror: str = ""
    # Further fields after suberror, as recorded (AADSTS50055's password_change_url).
    extra: tuple[tuple[str, str], ...] = ()
    # A Conditional Access claims challenge comes last (AADSTS50079).
    claims: bool = False


AADSTS: dict[int, Aadsts] = {
    90002: Aadsts(
        "invalid_tenant",
        400,
        "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and "
        "are signing into the correct cloud. Check with your subscription administrator, this "
        "may happen if there are no active subscriptions for the tenant.",
    ),
    900023: Aadsts(
        "invalid_request",
        400,
        "Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid "
        "external domain.",
    ),
    900144: Aadsts(
        "invalid_request", 400, "The request body must contain the following parameter: '{name}'."
    ),
    # "is not", as Microsoft sends it (tests/recordings/token_grant_not_supported_on_common);
    # the docs' "isn't" is their house style. The status of this one is not verified.
    9001023: Aadsts(
        "invalid_request",
        400,
        "The grant type is not supported over the /common or /consumers endpoints. Please use "
        "the /organizations or tenant-specific endpoint.",
    ),
    70003: Aadsts(
        "unsupported_grant_type", 400, "The app requested an unsupported grant type '{grant}'."
    ),
    700016: Aadsts(
        "unauthorized_client",
        400,
        "Application with identifier '{client_id}' was not found in the directory "
        "'{directory}'. This can happen if the application has not been installed by the "
        "administrator of the tenant or consented to by any user in the tenant. You may have "
        "sent your authentication request to the wrong tenant.",
    ),
    # A personal account's code or refresh token for an app that does not (or no longer)
    # takes personal accounts: tests/recordings/token_client_not_enabled_for_consumers.json.
    # The status is not shown there: 401 as Entra's other invalid_client answers (not
    # verified).
    70002: Aadsts(
        "invalid_client",
        401,
        "The client does not exist or is not enabled for consumers. If you are the "
        "application developer, configure a new application through the App Registrations "
        "in the Azure Portal at https://go.microsoft.com/fwlink/?linkid=2083908.",
    ),
    # The app is registered in this directory but its service principal (enterprise
    # application) is gone: tests/recordings/token_missing_service_principal.json.
    7000229: Aadsts(
        "invalid_client",
        401,
        "The client application {client_id} is missing service principal in the tenant "
        "{tenant_id}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119",
    ),
    7000215: Aadsts(
        "invalid_client",
        401,
        "Invalid client secret provided. Ensure the secret being sent in the request is the "
        "client secret value, not the client secret ID, for a secret added to app "
        "'{client_id}'.",
    ),
    7000222: Aadsts(
        "invalid_client",
        401,
        "The provided client secret keys for app '{client_id}' are expired. Visit the Azure "
        "portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider "
        "using certificate credentials for added security: https://aka.ms/certCreds.",
    ),
    7000216: Aadsts(
        "invalid_client",
        401,
        "'client_assertion', 'client_secret' or 'request' is required for the "
        "'client_credentials' grant type.",
    ),
    # 401 for both, as captured: tests/recordings/token_public_client_flows_disabled and
    # token_client_is_public.
    7000218: Aadsts(
        "invalid_client",
        401,
        "The request body must contain the following parameter: 'client_assertion' or "
        "'client_secret'.",
    ),
    700025: Aadsts(
        "invalid_client",
        401,
        "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
    ),
    # Certificate credentials. 700024 and 700027 in the words Entra sends (tests/
    # recordings/token_assertion_expired, token_assertion_key_not_found*,
    # token_assertion_bad_signature); 700021, 700023 and 50027 as the Azure SDK for Java's
    # troubleshooting guide quotes them (token_assertion_errors_documented), with
    # invalid_client and 401 as Entra's other client-credential refusals (not verified).
    700024: Aadsts(
        "invalid_client",
        401,
        "Client assertion is not within its valid time range. Current time: {now}, assertion "
        "valid from {valid_from}, expiry time of assertion {expiry}. Review the documentation "
        "at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
    ),
    700027: Aadsts(
        "invalid_client",
        401,
        "{lead} [Reason - {reason}, {detail}Please visit the Azure Portal, Graph Explorer or "
        "directly use MS Graph to see configured keys for app Id '{client_id}'. Review the "
        "documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the "
        "corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/"
        "application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as "
        "'https://graph.microsoft.com/beta/applications/{client_id}'].",
    ),
    700021: Aadsts(
        "invalid_client",
        401,
        "Client assertion application identifier doesn't match 'client_id' parameter. Review "
        "the documentation at https://learn.microsoft.com/azure/active-directory/develop/"
        "active-directory-certificate-credentials",
    ),
    700023: Aadsts(
        "invalid_client",
        401,
        "Client assertion audience claim does not match Realm issuer. Review the documentation "
        "at https://learn.microsoft.com/azure/active-directory/develop/"
        "active-directory-certificate-credentials.",
    ),
    50027: Aadsts("invalid_client", 401, "JWT token is invalid or malformed."),
    1002012: Aadsts(
        "invalid_scope",
        400,
        "The provided value for scope {scope} is not valid. Client credential flows must have "
        "a scope value with /.default suffixed to the resource identifier (application ID URI).",
    ),
    500011: Aadsts(
        "invalid_resource",
        400,
        "The resource principal named {resource} was not found in the tenant named "
        "{directory}. This can happen if the application has not been installed by the "
        "administrator of the tenant or consented to by any user in the tenant. You might have "
        "sent your authentication request to the wrong tenant.",
    ),
    # The password grant's refusals, as recorded (tests/recordings/token_password_*.json).
    50034: Aadsts(
        "invalid_grant",
        400,
        "The user account {{EUII Hidden}} does not exist in the {directory} directory. To sign "
        "into this application, the account must be added to the directory.",
        "bad_token",
    ),
    50126: Aadsts(
        "invalid_grant",
        400,
        "Error validating credentials due to invalid username or password.",
    ),
    # unauthorized_client, as Microsoft's HDInsight doc shows it; the words are the newer
    # ones msal-python's test logs quote (token_password_account_locked_message).
    50053: Aadsts(
        "unauthorized_client",
        400,
        "The account is locked, you've tried to sign in too many times with an incorrect user "
        "ID or password.",
    ),
    50055: Aadsts(
        "user_password_expired",
        400,
        "Password is expired.",
        "user_password_expired",
        (("password_change_url", "https://portal.microsoftonline.com/ChangePassword.aspx"),),
    ),
    50057: Aadsts("invalid_grant", 400, "The user account is disabled."),
    50076: Aadsts(
        "invalid_grant",
        400,
        "Due to a configuration change made by your administrator, or because you moved to a "
        "new location, you must use multi-factor authentication to access '{resource}'.",
        "basic_action",
    ),
    # MFA required and not registered yet: interaction_required with a claims challenge.
    50079: Aadsts(
        "interaction_required",
        400,
        "Due to a configuration change made by your administrator, or because you moved to a "
        "new location, you must enroll in multi-factor authentication to access '{resource}'.",
        claims=True,
    ),
    53003: Aadsts(
        "interaction_required",
        400,
        "Access has been blocked by Conditional Access policies. The access policy does not "
        "allow token issuance.",
        "message_only",
    ),
    # Only the words are documented (reference-error-codes.md); error and status are a guess.
    530035: Aadsts(
        "invalid_grant",
        400,
        "Access has been blocked by security defaults. This is due to the request using legacy "
        "auth or being deemed unsafe by security defaults policies.",
    ),
    65001: Aadsts(
        "invalid_grant",
        400,
        "The user or administrator has not consented to use the application with ID "
        "'{client_id}' named '{name}'. Send an interactive authorization request for this user "
        "and resource.",
        "consent_required",
    ),
    70000: Aadsts("invalid_grant", 400, "Provided grant is invalid or malformed."),
    54005: Aadsts(
        "invalid_grant",
        400,
        "OAuth2 Authorization code was already redeemed, please retry with a new valid code or "
        "use an existing refresh token.",
    ),
    70008: Aadsts(
        "invalid_grant",
        400,
        "The provided authorization code or refresh token has expired due to inactivity. Send "
        "a new interactive authorization request for this user and resource.",
    ),
    # tests/recordings/token_refresh_revoked_password_change.json
    50173: Aadsts(
        "invalid_grant",
        400,
        "The provided grant has expired due to it being revoked, a fresh auth token is needed. "
        "The user might have changed or reset their password. The grant was issued on "
        "'{issued}' and the TokensValidFrom date (before which tokens are not valid) for this "
        "user is '{valid_from}'.",
    ),
    # tests/recordings/token_refresh_inactive.json
    700082: Aadsts(
        "invalid_grant",
        400,
        "The refresh token has expired due to inactivity. The token was issued on {issued} "
        "and was inactive for {inactive}.",
    ),
    501481: Aadsts(
        "invalid_grant",
        400,
        "The Code_Verifier does not match the code_challenge supplied in the authorization "
        "request.",
    ),
    50148: Aadsts(
        "invalid_grant",
        400,
        "The code_verifier provided does not match the code_challenge supplied in the "
        "authorization request for PKCE.",
    ),
    # Shown on the sign-in page or sent to the app's redirect URI, never as token JSON.
    50011: Aadsts(
        "invalid_request",
        400,
        "The redirect URI '{redirect_uri}' specified in the request does not match the redirect "
        "URIs configured for the application '{client_id}'. Make sure the redirect URI sent in "
        "the request matches one added to your application in the Azure portal. Navigate to "
        "https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
    ),
    50020: Aadsts(
        "access_denied",
        400,
        # idp: 'live.com' for a personal account, 'https://sts.windows.net/{tid}/' for a
        # work account (tests/recordings/adminconsent_other_directory.json).
        "User account '{upn}' from identity provider '{idp}' does not exist in tenant "
        "'{directory}' and cannot access the application '{client_id}'({name}) in that tenant. "
        "The account needs to be added as an external user in the tenant first. Sign out and "
        "sign in again with a different Azure Active Directory user account.",
    ),
    65004: Aadsts("access_denied", 400, "User declined to consent to access the app."),
    90094: Aadsts("access_denied", 400, "The grant requires admin permission."),
    700051: Aadsts(
        "unsupported_response_type",
        400,
        "response_type 'token' is not enabled for the application.",
    ),
    700054: Aadsts(
        "unsupported_response_type",
        400,
        "response_type 'id_token' is not enabled for the application.",
    ),
    700020: Aadsts(
        "invalid_request",
        400,
        "The request is not valid for the application's 'userAudience' configuration.",
    ),
}


def aad_timestamp(now: datetime) -> str:
    return now.strftime("%Y-%m-%d %H:%M:%SZ")


# Not frozen: contextlib sets __traceback__ on exceptions it re-raises, which a frozen
# dataclass refuses. eq=False keeps exceptions hashable by identity.
@dataclass(eq=False)
class AadError(Exception):
    """One AADSTS error, raised by the grant logic and rendered by the views."""

    code: int
    params: tuple[tuple[str, str], ...] = ()
    error: str = ""

    @property
    def spec(self) -> Aadsts:
        return AADSTS[self.code]

    @property
    def status(self) -> int:
        return self.spec.status

    def text(self) -> str:
        values = {"resource": GRAPH_APP_ID, **dict(self.params)}
        return f"AADSTS{self.code}: " + self.spec.text.format(**values)

    def body(self, *, login_base: str, correlation_id: str, now: datetime) -> dict[str, object]:
        trace_id = str(uuid.uuid4())
        stamp = aad_timestamp(now)
        body: dict[str, object] = {
            "error": self.error or self.spec.error,
            # One space before "Trace ID", "Correlation ID" and "Timestamp", as Microsoft's
            # JSON has them since about 2024 (tests/recordings/discovery_tenant_not_found,
            # token_missing_service_principal, both 2025); older captures and the docs show
            # CR LF, which the redirects of the interactive pages still carry.
            "error_description": (
                f"{self.text()} Trace ID: {trace_id} Correlation ID: {correlation_id}"
                f" Timestamp: {stamp}"
            ),
            "error_codes": [self.code],
            "timestamp": stamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"{login_base}/error?code={self.code}",
        }
        if self.spec.suberror:
            body["suberror"] = self.spec.suberror
        body.update(self.spec.extra)
        if self.spec.claims:
            body["claims"] = claims_challenge(str(uuid.uuid4()))
        return body


def claims_challenge(policy_id: str) -> str:
    """The claims challenge of a Conditional Access refusal, a JSON string naming the policy,
    in the recorded shape (tests/recordings/token_password_mfa_registration_required)."""
    challenge = {"access_token": {"polids": {"essential": True, "values": [policy_id]}}}
    return json.dumps(challenge, separators=(",", ":"))


def aad(code: int, error: str = "", **params: str) -> AadError:
    return AadError(code, tuple(params.items()), error)


@dataclass(eq=False)
class GraphError(Exception):
    status: int
    code: str
    message: str
    retry_after: int = 0
    # Fields some errors add to innerError (TooManyRequests: code, message, status), and
    # whether there is an innerError at all (ApplicationThrottled has none).
    inner: tuple[tuple[str, str], ...] = ()
    inner_error: bool = True

    def body(self, *, request_id: str, client_request_id: str, now: datetime) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.inner_error:
            error["innerError"] = {
                **dict(self.inner),
                "date": now.strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": client_request_id,
            }
        return {"error": error}


# Graph's throttling answer in its documented words (tests/recordings/
# graph_throttled_documented), and Outlook's per-mailbox one, which comes with no
# innerError (graph_messages_application_throttled) and Retry-After 1.
def too_many_requests(retry_after: int) -> GraphError:
    return GraphError(
        429,
        "TooManyRequests",
        "Please retry again later.",
        retry_after,
        inner=(("code", "429"), ("message", "Please retry after"), ("status", "429")),
    )


MAILBOX_THROTTLED = GraphError(
    429,
    "ApplicationThrottled",
    "Application is over its MailboxConcurrency limit.",
    1,
    inner_error=False,
)


ACCESS_DENIED = GraphError(
    403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
)
RAOP_DENIED = GraphError(
    403,
    "ErrorAccessDenied",
    "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy "
    "settings.",
)
# A user without an Exchange Online mailbox, in Graph's current words (iyear/E5SubBot#39;
# "REST API is not yet supported for this mailbox." is the older message), and the
# other answer seen for such users (microsoftgraph/microsoft-graph-docs#4598, #5143).
NO_MAILBOX = GraphError(
    404,
    "MailboxNotEnabledForRESTAPI",
    "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
)
MAILBOX_NOT_DISCOVERED = GraphError(404, "ResourceNotFound", "Resource could not be discovered.")
# addKey/removeKey with a proof Graph does not accept (tests/recordings/
# graph_addkey_proof_malformed.json).
PROOF_REFUSED = GraphError(
    401, "Authentication_MissingOrMalformed", "Access Token missing or malformed."
)
INSUFFICIENT_PRIVILEGES = GraphError(
    403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
)


def invalid_user(key: str) -> GraphError:
    return GraphError(404, "ErrorInvalidUser", f"The requested user '{key}' is invalid.")


def token_rejected(message: str) -> GraphError:
    return GraphError(401, "InvalidAuthenticationToken", message)


def not_found(key: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{key}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )
