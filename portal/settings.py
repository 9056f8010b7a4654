"""The portal's one settings module: every knob comes from the environment.

Defaults serve `make run` (SQLite, a file-based broker, the local Microsoft
emulator, e-mail written to files under var/). PORTAL_ENV=production turns on
every protection and refuses to start without real secrets.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email

from portal.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_optional,
    env_secret,
    env_str,
)
from portal.keyring import KEYS_VARIABLE, Keyring, parse_keyring, read_keyring_file

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PORTAL_VAR_DIR", str(BASE_DIR / "var")))

PORTAL_ENV = env_choice("PORTAL_ENV", "development", {"development", "production"})
PRODUCTION = PORTAL_ENV == "production"
DEBUG = env_bool("PORTAL_DEBUG", not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("PORTAL_DEBUG=true is not allowed with PORTAL_ENV=production.")

_DEV_SECRET_KEY = "django-insecure-development-only-never-use-this-key-in-production"
SECRET_KEY = env_secret("PORTAL_SECRET_KEY") or ("" if PRODUCTION else _DEV_SECRET_KEY)
if PRODUCTION and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured(
        "PORTAL_SECRET_KEY (or PORTAL_SECRET_KEY_FILE) must be set to a random value of at "
        "least 50 characters in production."
    )

# --- Encryption of secret columns (onboarding.vault, docs/vault.md) -------------
# PORTAL_ENCRYPTION_KEYS (or PORTAL_ENCRYPTION_KEYS_FILE) lists key_id:base64key
# entries; the first encrypts, all decrypt. Parsed here so that a malformed list
# stops the start naming the entry's position. The keyring's repr shows key ids only.
# Development without the variables keeps its keys in var/encryption.keys, which
# `make run` creates (and the vault too, on first use).
ENCRYPTION_KEYS_DEV_FILE = VAR_DIR / "encryption.keys"
ENCRYPTION_KEYRING: Keyring | None = None
_encryption_keys = env_secret(KEYS_VARIABLE)
if _encryption_keys is not None:
    _keys_source = KEYS_VARIABLE + ("_FILE" if env_optional(f"{KEYS_VARIABLE}_FILE") else "")
    ENCRYPTION_KEYRING = parse_keyring(_encryption_keys, source=_keys_source)
elif PRODUCTION:
    raise ImproperlyConfigured(
        f"{KEYS_VARIABLE} (or {KEYS_VARIABLE}_FILE) must be set in production: a list of "
        "key_id:base64key entries that encrypt the stored secrets (see docs/vault.md)."
    )
elif ENCRYPTION_KEYS_DEV_FILE.exists():
    ENCRYPTION_KEYRING = read_keyring_file(ENCRYPTION_KEYS_DEV_FILE)
del _encryption_keys

ALLOWED_HOSTS = env_list("PORTAL_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("PORTAL_CSRF_TRUSTED_ORIGINS", [])
# The absolute address of the portal, used in e-mails and in the consent callback
# URL that the admin registers in Entra.
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if PRODUCTION:
    # Any Host header would be answered (and put into password reset links): name them.
    if "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "PORTAL_ALLOWED_HOSTS=* is not allowed in production: list the portal's host names."
        )
    # Every link in an e-mail (invitations, password resets) starts with it.
    if not PORTAL_BASE_URL.startswith("https://") or len(PORTAL_BASE_URL) <= len("https://"):
        raise ImproperlyConfigured(
            f"PORTAL_BASE_URL={PORTAL_BASE_URL!r} must be set to the portal's https:// address "
            "in production (https://portal.example.com)."
        )

INSTALLED_APPS = [
    "onboarding.admin_apps.PortalAdminConfig",  # django.contrib.admin, behind 2FA and audited
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "webhooks",
    "onboarding",
    "api",
    "support",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Above the sessions middleware, to see the session cookie it sets.
    "portal.middleware.NeverCachePrivatePagesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The idle and absolute limits of a sign-in (PORTAL_SESSION_IDLE_MINUTES / _HOURS).
    "accounts.sessions.SessionTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so that it sees the outcome of authentication in the views.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# Both URLs may carry a password, so both also come from a _FILE.
DATABASE_URL = env_secret("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A connection pool per process (Django's own, psycopg_pool): Celery closes the
    # database connection around every task, and a pooled close only hands it back,
    # where a new PostgreSQL connection costs a server process and milliseconds.
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them instead
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": env_int("PORTAL_DB_POOL_SIZE", 20, minimum=1),
        "timeout": 10,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # `make run` has the web server, the worker and beat writing one file at once.
    # WAL lets readers go on while one writes; IMMEDIATE takes the write lock when a
    # transaction starts (a deferred one that reads first and then wants to write gets
    # "database is locked" at once, without waiting); the timeout makes a writer wait
    # its turn for up to 20 s instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Support staff's authenticator apps show the codes under this name.
OTP_TOTP_ISSUER = "Mailbox portal"
# Seconds the first wrong code makes the next wait, doubling; support/two_factor.py
# caps the wait (MAX_THROTTLE_SECONDS) so nobody is locked out for hours.
OTP_TOTP_THROTTLE_FACTOR = 1
PASSWORD_RESET_TIMEOUT = env_int("PORTAL_PASSWORD_RESET_HOURS", 2, minimum=1) * 3600
INVITATION_VALID_DAYS = env_int("PORTAL_INVITATION_VALID_DAYS", 7, minimum=1)

# Rate limits per hour, counted in the cache (accounts/rate_limits.py): support's
# "Run a check now" per mailbox (each sends a test message from it), password-reset
# requests per address and per client IP, unknown invitation links per client IP.
SUPPORT_CHECKS_PER_HOUR = env_int("PORTAL_SUPPORT_CHECKS_PER_HOUR", 6, minimum=1)
PASSWORD_RESETS_PER_ADDRESS_HOUR = env_int("PORTAL_PASSWORD_RESETS_PER_ADDRESS_HOUR", 3, minimum=1)
PASSWORD_RESETS_PER_IP_HOUR = env_int("PORTAL_PASSWORD_RESETS_PER_IP_HOUR", 20, minimum=1)
INVITATION_GUESSES_PER_IP_HOUR = env_int("PORTAL_INVITATION_GUESSES_PER_IP_HOUR", 20, minimum=1)

# Brute-force protection: five failures for one user name from one address, then
# a cool-off. Keying on the pair means nobody can lock a user out by name alone.
AXES_FAILURE_LIMIT = env_int("PORTAL_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("PORTAL_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The locked-out page says how long to wait, in words; user names are case-folded.
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
AXES_VERBOSE = False
# Axes keeps only what the lockout needs. Its handler masks the tokens in paths
# (invitation and reset links); a user name that is not an address is kept as a
# keyed hash (it is usually a password in the wrong field); the form fields it
# copies into axes_accessattempt are masked; successful sign-ins are in the audit
# log, so axes' own access log is off.
AXES_HANDLER = "accounts.lockout.LockoutHandler"
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_SENSITIVE_PARAMETERS = [
    "username",
    "password",
    "password1",
    "password2",
    "otp_token",
    "token",
    "csrfmiddlewaretoken",
    "value",
    "secret_value",
    "mailbox_password",
]
# Behind reverse proxies the client's address comes from X-Forwarded-For, read
# through exactly this many trusted proxies (accounts/client_ip.py); 0 reads only
# REMOTE_ADDR. The lockout and the audit log use the same address.
PORTAL_TRUSTED_PROXY_COUNT = env_int("PORTAL_TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Outside production the files are served straight from the source folders.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Broker and cache ---------------------------------------------------------
REDIS_URL = env_secret("REDIS_URL")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
    # django-redis, not Django's own RedisCache: that builds a new redis client (and its
    # ~170 response callbacks) for every cache call and increments in two round trips,
    # together more than half of an API call's cost; django-redis reuses its clients
    # and increments atomically in one (a Lua script).
    CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    # kombu's filesystem transport: web, worker and beat share a folder, so the
    # embedded setup needs no broker server at all.
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Without this kombu writes its control exchange files into the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("PORTAL_TASK_SOFT_TIME_LIMIT", 120, minimum=1)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 30
CELERY_TASK_ALWAYS_EAGER = env_bool("PORTAL_TASKS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # /readyz/ reports how long ago this last ran: beat and a worker both alive.
    "beat-heartbeat": {
        "task": "portal.beat_heartbeat",
        "schedule": timedelta(seconds=60),
        "options": {"expires": 55},
    },
    "clear-expired-sessions": {
        "task": "accounts.tasks.sessions_clear_expired",
        "schedule": crontab(hour=3, minute=17),
        "options": {"expires": 3600},
    },
    # Hourly: each run enqueues the checks due in the coming hour; every verified mailbox
    # has its own slot in the PORTAL_RECHECK_HOURS period, so the load is even over it.
    "recheck-mailboxes": {
        "task": "onboarding.tasks.recheck_mailboxes",
        "schedule": crontab(minute=7),
        "options": {"expires": 1800},
    },
}

# --- Mailbox checks -------------------------------------------------------------
PORTAL_CHECK_MAX_ATTEMPTS = env_int("PORTAL_CHECK_MAX_ATTEMPTS", 4, minimum=1)
PORTAL_CHECK_FAILING_AFTER = env_int("PORTAL_CHECK_FAILING_AFTER", 2, minimum=1)
PORTAL_RECHECK_HOURS = env_int("PORTAL_RECHECK_HOURS", 6, minimum=1)
# A scheduled re-check proves the token, the permissions and the inbox read every
# PORTAL_RECHECK_HOURS; it sends a test message only when the last one sent is at least
# this many days old. A check someone asks for always sends.
PORTAL_RECHECK_SEND_DAYS = env_int("PORTAL_RECHECK_SEND_DAYS", 7, minimum=1)
# How long a certificate the portal makes for an app is valid (step 4), in days.
PORTAL_CERTIFICATE_DAYS = env_int("PORTAL_CERTIFICATE_DAYS", 365, minimum=30)
# The portal rolls such a certificate over by itself this many days before it expires
# (a new key pair added through Graph's addKey, proved, switched to); 0 turns it off,
# and the admins are then reminded of the expiry as for a client secret.
PORTAL_CERTIFICATE_ROLLOVER_DAYS = env_int("PORTAL_CERTIFICATE_ROLLOVER_DAYS", 30, minimum=0)
# How long the old certificate stays on the app after the switch (tokens it signed
# are still good), before the portal removes it with removeKey.
PORTAL_CERTIFICATE_ROLLOVER_GRACE_HOURS = env_int(
    "PORTAL_CERTIFICATE_ROLLOVER_GRACE_HOURS", 24, minimum=0
)
# How long after addKey the new certificate is first used: Entra replicates a new key
# within seconds to a few minutes, and a replica that has not seen it yet refuses it.
PORTAL_CERTIFICATE_ROLLOVER_SETTLE_SECONDS = env_int(
    "PORTAL_CERTIFICATE_ROLLOVER_SETTLE_SECONDS", 120, minimum=0
)
CELERY_BEAT_SCHEDULE["roll-over-certificates"] = {
    "task": "onboarding.tasks.roll_over_certificates",
    "schedule": timedelta(minutes=15),
    "options": {"expires": 600},
}

# --- The vendor's own multi-tenant app (vendor mode) ----------------------------
# Its Application (client) ID; empty turns vendor mode off (the start page then offers
# the customer's own app only). README "The vendor's app" lists its Entra settings.
PORTAL_VENDOR_APP_ID = env_str("PORTAL_VENDOR_APP_ID", "").strip().lower()
_GUID = r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"
if PORTAL_VENDOR_APP_ID and not re.fullmatch(_GUID, PORTAL_VENDOR_APP_ID):
    raise ImproperlyConfigured(
        "PORTAL_VENDOR_APP_ID must be the app's Application (client) ID, a GUID."
    )
# Its name as admins see it on Microsoft's consent page (the app's display name).
PORTAL_VENDOR_APP_NAME = env_str("PORTAL_VENDOR_APP_NAME", "Mail connector")
# The app's Object ID and the vendor's own directory: with both, the portal rolls the
# app's certificate over by itself (Graph addKey, proved by a token in that directory).
PORTAL_VENDOR_APP_OBJECT_ID = env_str("PORTAL_VENDOR_APP_OBJECT_ID", "").strip().lower()
if PORTAL_VENDOR_APP_OBJECT_ID and not re.fullmatch(_GUID, PORTAL_VENDOR_APP_OBJECT_ID):
    raise ImproperlyConfigured("PORTAL_VENDOR_APP_OBJECT_ID must be the app's Object ID, a GUID.")
PORTAL_VENDOR_DIRECTORY = env_str("PORTAL_VENDOR_DIRECTORY", "").strip()
# The app's certificate given by the operator (PEM, or a _FILE each). Unset: the key is
# made and kept by the portal's vault (manage.py vendor_certificate), and rolled over.
PORTAL_VENDOR_APP_PRIVATE_KEY = env_secret("PORTAL_VENDOR_APP_PRIVATE_KEY") or ""
PORTAL_VENDOR_APP_CERTIFICATE = env_secret("PORTAL_VENDOR_APP_CERTIFICATE") or ""
if bool(PORTAL_VENDOR_APP_PRIVATE_KEY) != bool(PORTAL_VENDOR_APP_CERTIFICATE):
    raise ImproperlyConfigured(
        "Set both PORTAL_VENDOR_APP_PRIVATE_KEY(_FILE) and "
        "PORTAL_VENDOR_APP_CERTIFICATE(_FILE), or neither."
    )
# The vendor's provisioning app: a multi-tenant public client (no credential) that a
# customer's admin signs in to, so that the portal registers the customer's own app with
# the admin's delegated token (used once, never stored). Empty turns that way off.
PORTAL_PROVISIONING_APP_ID = env_str("PORTAL_PROVISIONING_APP_ID", "").strip().lower()
if PORTAL_PROVISIONING_APP_ID and not re.fullmatch(_GUID, PORTAL_PROVISIONING_APP_ID):
    raise ImproperlyConfigured("PORTAL_PROVISIONING_APP_ID must be a GUID.")
CELERY_BEAT_SCHEDULE["watch-vendor-credential"] = {
    "task": "onboarding.tasks.watch_vendor_credential",
    "schedule": timedelta(hours=1),
    "options": {"expires": 1800},
}
# Where test messages go: "" sends each from the mailbox to itself; an address sends
# them there instead (outside the inbox the operations app reads).
PORTAL_CHECK_SEND_TO = env_str("PORTAL_CHECK_SEND_TO", "")
if PORTAL_CHECK_SEND_TO:
    try:
        validate_email(PORTAL_CHECK_SEND_TO)
    except ValidationError:
        raise ImproperlyConfigured(
            f"PORTAL_CHECK_SEND_TO={PORTAL_CHECK_SEND_TO!r} is not an e-mail address."
        ) from None

# --- The operations app's API (api/, webhooks/) -----------------------------------
# Requests per service key (429 with Retry-After past it): N/s, N/min, N/hour or N/day.
PORTAL_API_RATE_PER_KEY = env_str("PORTAL_API_RATE_PER_KEY", "600/min")
if not re.fullmatch(r"[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)", PORTAL_API_RATE_PER_KEY):
    raise ImproperlyConfigured(
        f"PORTAL_API_RATE_PER_KEY={PORTAL_API_RATE_PER_KEY!r}: use N/s, N/min, N/hour or N/day."
    )
# The legacy hand-off (POST /api/v1/connections/{id}/credentials): off unless the vendor
# needs it; the token endpoint keeps the client secret inside the portal.
PORTAL_API_CREDENTIAL_EXPORT = env_bool("PORTAL_API_CREDENTIAL_EXPORT", False)
# The largest request body the API reads (413 past it); its bodies are a few fields.
PORTAL_API_MAX_BODY_BYTES = env_int("PORTAL_API_MAX_BODY_BYTES", 16384, minimum=1024)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ServiceKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.KeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"key": PORTAL_API_RATE_PER_KEY},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Mailbox portal: the operations app's API",
    "DESCRIPTION": "Connection status, Microsoft Graph tokens on demand and the legacy "
    "credential hand-off for the vendor's operations app. See docs/api.md.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # The docs page's assets come from drf-spectacular-sidecar (static files), no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"HealthEnum": "onboarding.models.Tenant.Health"},
    # Every error documented as an RFC 9457 problem (application/problem+json).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.problem_responses",
    ],
}

# Webhooks (webhooks/, docs/api.md "Webhooks"). Seconds to wait after each failed
# attempt: Standard Webhooks' recommended schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
# 10 h: eight attempts over about a day), each wait jittered by up to a tenth so that
# the deliveries queued for an endpoint that comes back do not all arrive at once.
_webhook_retries = env_list(
    "PORTAL_WEBHOOK_RETRY_SECONDS", ["5", "300", "1800", "7200", "18000", "36000", "36000"]
)
if not all(item.isdigit() and int(item) > 0 for item in _webhook_retries):
    raise ImproperlyConfigured(
        "PORTAL_WEBHOOK_RETRY_SECONDS must list whole numbers of seconds above 0, "
        "such as 5,300,1800."
    )
WEBHOOK_RETRY_SCHEDULE = tuple(int(item) for item in _webhook_retries)
# Connect and read timeout of one attempt; a slow receiver is a failed attempt.
WEBHOOK_TIMEOUT_SECONDS: float = env_int("PORTAL_WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
# An endpoint is disabled (and support e-mailed) when every attempt of an event failed,
# or after this many failures in a row spread over at least this many hours.
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("PORTAL_WEBHOOK_DISABLE_AFTER_FAILURES", 20, minimum=1)
WEBHOOK_DISABLE_AFTER_HOURS = env_int("PORTAL_WEBHOOK_DISABLE_AFTER_HOURS", 24, minimum=1)
# After a rotation the old signing secret signs too, for this long.
WEBHOOK_SECRET_OVERLAP_HOURS = env_int("PORTAL_WEBHOOK_SECRET_OVERLAP_HOURS", 24, minimum=0)
WEBHOOK_MAX_ENDPOINTS_PER_ACCOUNT = env_int("PORTAL_WEBHOOK_MAX_ENDPOINTS", 10, minimum=1)
# The sweeper re-sends deliveries overdue by this much (their task was lost).
WEBHOOK_SWEEP_GRACE_SECONDS = env_int("PORTAL_WEBHOOK_SWEEP_GRACE_SECONDS", 60, minimum=1)
# Plain http endpoints: for the emulator and local receivers only, never in production.
WEBHOOK_ALLOW_HTTP = env_bool("PORTAL_WEBHOOK_ALLOW_HTTP", not PRODUCTION)
# Addresses an endpoint may use although they are private or loopback (a local
# receiver in development or tests, such as 127.0.0.1). Empty by default.
WEBHOOK_ALLOWED_ADDRESSES = frozenset(env_list("PORTAL_WEBHOOK_ALLOW_ADDRESSES", []))
if PRODUCTION and (WEBHOOK_ALLOW_HTTP or WEBHOOK_ALLOWED_ADDRESSES):
    raise ImproperlyConfigured(
        "PORTAL_WEBHOOK_ALLOW_HTTP and PORTAL_WEBHOOK_ALLOW_ADDRESSES are not allowed in "
        "production: webhook endpoints there are public https:// addresses."
    )
del _webhook_retries
CELERY_BEAT_SCHEDULE["webhooks-sweep"] = {
    "task": "webhooks.tasks.sweep",
    "schedule": timedelta(minutes=1),
    "options": {"expires": 50},
}
# Delivered and given-up events are kept this long (support's list, replays), then pruned.
WEBHOOK_RETENTION_DAYS = env_int("PORTAL_WEBHOOK_RETENTION_DAYS", 30, minimum=1)
CELERY_BEAT_SCHEDULE["webhooks-prune"] = {
    "task": "webhooks.tasks.prune",
    "schedule": crontab(hour=3, minute=41),
    "options": {"expires": 3600},
}

# --- The operations app ---------------------------------------------------------
# Which of the operations app's own sign-in methods this vendor uses. The wizard asks
# the customer only for the Entra settings these need, each with its reason and risk:
#   interactive: its browser sign-in (localhost redirect URIs, implicit-grant tokens,
#                work and personal accounts);
#   password:    its sign-in with the mailbox password (public client flows, the
#                delegated Mail.Read permission, the password on step 5).
# The default keeps every setting of the customer setup guide. "none" asks for none.
_SIGN_IN_METHODS = {"interactive", "password"}
OPERATIONS_SIGN_IN = frozenset(
    method
    for method in env_list("PORTAL_OPERATIONS_SIGN_IN", sorted(_SIGN_IN_METHODS))
    if method != "none"
)
if not OPERATIONS_SIGN_IN <= _SIGN_IN_METHODS:
    raise ImproperlyConfigured(
        "PORTAL_OPERATIONS_SIGN_IN="
        f"{','.join(sorted(OPERATIONS_SIGN_IN))!r} lists an unknown method; use any of "
        "interactive, password (comma-separated), or none."
    )

# --- E-mail -------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str("PORTAL_FROM_EMAIL", "Mailbox portal <portal@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SUPPORT_EMAIL = env_str("PORTAL_SUPPORT_EMAIL", "support@localhost")
_email_backend = env_choice(
    "PORTAL_EMAIL_BACKEND", "smtp" if PRODUCTION else "file", {"smtp", "file", "console"}
)
_EMAIL_BACKEND_MODULES = {"smtp": "smtp", "file": "filebased", "console": "console"}
EMAIL_BACKEND = f"django.core.mail.backends.{_EMAIL_BACKEND_MODULES[_email_backend]}.EmailBackend"
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = env_str("PORTAL_SMTP_HOST", "localhost")
EMAIL_PORT = env_int("PORTAL_SMTP_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("PORTAL_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env_secret("PORTAL_SMTP_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("PORTAL_SMTP_STARTTLS", True)
EMAIL_TIMEOUT = 30

# --- Security -----------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("PORTAL_SESSION_HOURS", 12, minimum=1) * 3600
# Idle sign-ins end too (accounts/sessions.py keeps both limits from the sign-in).
SESSION_IDLE_TIMEOUT = env_int("PORTAL_SESSION_IDLE_MINUTES", 60, minimum=1) * 60
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("PORTAL_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("PORTAL_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- cookies: the browser keeps them only if Secure, for Path=/ and without a
    # Domain, so no other host (a sibling subdomain) can set or shadow them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SESSION_COOKIE_PATH = "/"
    CSRF_COOKIE_PATH = "/"
    SESSION_COOKIE_DOMAIN = None
    CSRF_COOKIE_DOMAIN = None
    if env_bool("PORTAL_BEHIND_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The container health check calls this over plain HTTP from inside.
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", *env_list("PORTAL_CSP_FORM_ACTION", [])],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# Every handler carries the redaction filter (portal/log_redaction.py), which masks
# secret-shaped values whatever logger they come from. Django's own default handlers
# are replaced here so that none of them goes around it.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "portal.log_redaction.RedactSecrets"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        },
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_secrets"],
        },
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("PORTAL_LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["mail_admins"], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # Celery keeps a handler it finds on its task logger instead of adding its own.
        "celery.task": {"handlers": ["console"], "propagate": False},
    },
}
# The worker keeps the handlers above (with their filter) instead of replacing them.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Microsoft ------------------------------------------------------------------
# Only three things differ between Microsoft's clouds and the local emulator: the
# login URL, the Graph URL and the CA bundle. MICROSOFT_CLOUD picks a named pair of
# hosts; MICROSOFT_LOGIN_URL / MICROSOFT_GRAPH_URL / MICROSOFT_CA_BUNDLE override it.
MICROSOFT_CLOUDS = {
    "global": ("https://login.microsoftonline.com", "https://graph.microsoft.com"),
    "usgov-gcchigh": ("https://login.microsoftonline.us", "https://graph.microsoft.us"),
    "usgov-dod": ("https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
    "china": (
        "https://login.partner.microsoftonline.cn",
        "https://microsoftgraph.chinacloudapi.cn",
    ),
}
MICROSOFT_EMULATOR_PORT = env_int("MICROSOFT_EMULATOR_PORT", 8443, minimum=1)
MICROSOFT_CLOUD = env_choice(
    "MICROSOFT_CLOUD", "global" if PRODUCTION else "emulator", {*MICROSOFT_CLOUDS, "emulator"}
)
if MICROSOFT_CLOUD == "emulator":
    if PRODUCTION:
        raise ImproperlyConfigured("MICROSOFT_CLOUD=emulator is not allowed in production.")
    _emulator = f"https://127.0.0.1:{MICROSOFT_EMULATOR_PORT}"
    _login_url, _graph_url = _emulator, f"{_emulator}/graph"
    _ca_bundle = str(VAR_DIR / "emulator" / "ca.pem")
else:
    (_login_url, _graph_url), _ca_bundle = MICROSOFT_CLOUDS[MICROSOFT_CLOUD], ""
MICROSOFT_LOGIN_URL = env_str("MICROSOFT_LOGIN_URL", _login_url).rstrip("/")
MICROSOFT_GRAPH_URL = env_str("MICROSOFT_GRAPH_URL", _graph_url).rstrip("/")
# A PEM file of CAs to trust for both hosts; empty means the CAs that requests ships.
MICROSOFT_CA_BUNDLE = env_str("MICROSOFT_CA_BUNDLE", _ca_bundle)
MICROSOFT_HTTP_TIMEOUT = env_int("MICROSOFT_HTTP_TIMEOUT", 20, minimum=1)
# The Entra admin center the wizard's deep links open; the emulator serves the same
# #view/... addresses.
ENTRA_ADMIN_URL = env_str(
    "PORTAL_ENTRA_ADMIN_URL",
    _login_url if MICROSOFT_CLOUD == "emulator" else "https://entra.microsoft.com",
).rstrip("/")
for _name, _url in (
    ("MICROSOFT_LOGIN_URL", MICROSOFT_LOGIN_URL),
    ("MICROSOFT_GRAPH_URL", MICROSOFT_GRAPH_URL),
):
    if not _url.startswith("https://"):
        raise ImproperlyConfigured(f"{_name}={_url!r} must be an https:// URL.")

# --- Periodic work --------------------------------------------------------------
# Each entry expires before its next run so that a stopped worker never finds a
# backlog of identical jobs. Entries are added by the modules that own the work.
CELERY_TIMEZONE = "UTC"


def _env_int_upto(name: str, default: int, maximum: int) -> int:
    value = env_int(name, default, minimum=0)
    if value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is above the maximum of {maximum}.")
    return value


def _env_days(name: str, default: list[str]) -> tuple[int, ...]:
    """Whole, non-negative numbers of days, largest first, without repeats."""
    days = set()
    for item in env_list(name, default):
        if not item.isdigit():
            raise ImproperlyConfigured(
                f"{name} has {item!r}; use whole numbers of days before expiry, such as 30,7,0."
            )
        days.add(int(item))
    if not days:
        raise ImproperlyConfigured(f"{name} must name at least one day.")
    return tuple(sorted(days, reverse=True))


# Expiry reminders (onboarding/reminders.py, docs/reminders.md): days before a client
# secret expires on which the tenant's admins hear about it; weekly once expired.
REMINDER_DAYS = _env_days("PORTAL_REMINDER_DAYS", ["30", "14", "7", "3", "1", "0"])
# Times of day in UTC.
REMINDER_SCAN_TIME = (
    _env_int_upto("PORTAL_REMINDER_SCAN_HOUR", 6, 23),
    _env_int_upto("PORTAL_REMINDER_SCAN_MINUTE", 0, 59),
)
REMINDER_DIGEST_TIME = (
    _env_int_upto("PORTAL_REMINDER_DIGEST_HOUR", 7, 23),
    _env_int_upto("PORTAL_REMINDER_DIGEST_MINUTE", 0, 59),
)
# A claimed reminder whose sender died is sent by another worker after this lease.
# It must outlast the hard task time limit, or a slow (not dead) sender could be
# overtaken and the reminder sent twice.
REMINDER_LEASE_MINUTES = env_int("PORTAL_REMINDER_LEASE_MINUTES", 15, minimum=1)
if REMINDER_LEASE_MINUTES * 60 <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"PORTAL_REMINDER_LEASE_MINUTES={REMINDER_LEASE_MINUTES} must be longer than the task "
        f"time limit of {CELERY_TASK_TIME_LIMIT} seconds."
    )
REMINDER_MAX_ATTEMPTS = env_int("PORTAL_REMINDER_MAX_ATTEMPTS", 5, minimum=1)

CELERY_BEAT_SCHEDULE["scan-expiring-secrets"] = {
    "task": "onboarding.tasks.scan_expiring_secrets",
    "schedule": crontab(hour=REMINDER_SCAN_TIME[0], minute=REMINDER_SCAN_TIME[1]),
    "options": {"expires": 23 * 3600},
}
# Daily: owners' sign-ins near Microsoft's 90-day inactivity limit (checks not running).
CELERY_BEAT_SCHEDULE["warn-idle-sign-ins"] = {
    "task": "onboarding.tasks.warn_idle_sign_ins",
    "schedule": crontab(hour=REMINDER_SCAN_TIME[0], minute=(REMINDER_SCAN_TIME[1] + 5) % 60),
    "options": {"expires": 23 * 3600},
}
CELERY_BEAT_SCHEDULE["send-reminder-digest"] = {
    "task": "onboarding.tasks.send_reminder_digest",
    "schedule": crontab(hour=REMINDER_DIGEST_TIME[0], minute=REMINDER_DIGEST_TIME[1]),
    "options": {"expires": 23 * 3600},
}
