"""Everruns settings: one env-driven file, production-safe by default.

Every knob is read from the environment (see `.env.example` and the README's table).
Development conveniences are opt-in (`DEBUG=1`, which `make run` sets); nothing here
changes between dev, test and production except through the environment.
"""

import os
import secrets
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- helpers
def env(name: str, default: str = "") -> str:
    """A string setting; `NAME_FILE` (a path) wins over `NAME`, for Docker/K8s secrets."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = env(name, "")
    if raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = env(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """Turn `postgres://user:pass@host:port/name?opt=v` into a Django DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// URL (SQLite is the default without it)")
    options = dict(parse_qsl(parsed.query))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")) or "everruns",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        # Short-lived requests reuse connections; SSE streams close theirs while waiting.
        "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }


# --------------------------------------------------------------------------- core
DEBUG = env_bool("DEBUG", False)
# Commands that only read the code never sign, serve or store anything: CI runs them without secrets
# (`makemigrations --check`, the OpenAPI dump). They get a throwaway random key; everything else needs one.
OFFLINE_COMMANDS = {"makemigrations", "export_openapi"}
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production-0123456789"
    elif Path(sys.argv[0]).name == "manage.py" and sys.argv[1:2] and sys.argv[1] in OFFLINE_COMMANDS:
        SECRET_KEY = secrets.token_urlsafe(50)
    else:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off (set DEBUG=1 for local development)")

VERSION = "0.2.0"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Mount the whole API under an extra prefix (contract 1.1), e.g. "api" -> /api/v1/agents.
API_PREFIX = env("API_PREFIX", "").strip("/")

INSTALLED_APPS = [
    "apps.runtime.admin_site.EverrunsAdminConfig",  # django.contrib.admin with the Everruns site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks_db",
    "apps.core",
    "apps.accounts",
    "apps.capabilities",
    "apps.llm",
    "apps.harnesses",
    "apps.agents",
    "apps.sessions",
    "apps.files",
    "apps.healthchecks",
    "apps.runtime",
    "apps.idempotency",
    "apps.webhooks",
    "apps.schedules",
]

MIDDLEWARE = [
    "apps.core.middleware.RequestIdMiddleware",
    # Second, so it keeps (and replays) the response every inner layer produced (docs/automation.md).
    "apps.idempotency.middleware.IdempotencyKeyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "everruns.urls"
WSGI_APPLICATION = "everruns.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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

# --------------------------------------------------------------------------- database
DATA_DIR = Path(env("DATA_DIR", str(BASE_DIR / "var")))
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/ yet
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "everruns.sqlite3",
            # WAL lets the web server read while the worker writes; busy timeout rides out short locks.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

# --------------------------------------------------------------------------- auth
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# none | admin | full | external (contract 4.1). Safe by default: without DEBUG the default is `full`
# (credentials required); `none` (everyone is the anonymous admin) is the default only with DEBUG on,
# and `check --deploy` warns whenever it is chosen.
AUTH_MODE = env("AUTH_MODE", "none" if DEBUG else "full").strip().lower()
AUTH_JWT_SECRET = env("AUTH_JWT_SECRET") or SECRET_KEY
AUTH_JWT_ACCESS_TOKEN_LIFETIME = env_int("AUTH_JWT_ACCESS_TOKEN_LIFETIME", 900)
AUTH_JWT_REFRESH_TOKEN_LIFETIME = env_int("AUTH_JWT_REFRESH_TOKEN_LIFETIME", 2_592_000)
AUTH_ADMIN_EMAIL = env("AUTH_ADMIN_EMAIL")
AUTH_ADMIN_PASSWORD = env("AUTH_ADMIN_PASSWORD")
AUTH_DISABLE_PASSWORD = env_bool("AUTH_DISABLE_PASSWORD", False)
AUTH_DISABLE_SIGNUP = env_bool("AUTH_DISABLE_SIGNUP", False)

# --------------------------------------------------------------------------- security
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
# Contract 4.4 marks the auth cookies Secure; local plain-HTTP development needs them without it.
AUTH_COOKIE_SECURE = env_bool("AUTH_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env_bool("USE_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Silenced by default, on purpose: W008 (HTTP->HTTPS redirect) is the TLS-terminating proxy's job, and
# load-balancer probes hit /health over plain HTTP; W021 (HSTS preload) is an opt-in commitment.
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS", "security.W008,security.W021")

# Request bodies: the largest legal body is an agent import (3 MB of text) or an agent with a
# 1 MB prompt JSON-escaped (worst case ~6x for \uXXXX escapes); 8 MB keeps both legal.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BODY_BYTES", 8 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# --------------------------------------------------------------------------- i18n / static
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
# The web process serves /static/ itself (WhiteNoise): the admin's assets and Swagger UI's, which are
# bundled (drf-spectacular-sidecar) so the docs work offline. From STATIC_ROOT, filled by `collectstatic`
# (make run and the compose file run it); under DEBUG also straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = DEBUG

# --------------------------------------------------------------------------- DRF / OpenAPI
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.accounts.authentication.EverrunsAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.textsafety.StrictJSONParser"],
    "DEFAULT_PAGINATION_CLASS": None,
    "EXCEPTION_HANDLER": "apps.core.exception_handler.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "apps.core.negotiation.JSONFirstContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_RATES": {
        "auth": env("THROTTLE_AUTH_RATE", "10/min"),
    },
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SPECTACULAR_SETTINGS: dict[str, Any] = {
    "TITLE": "Everruns API",
    "DESCRIPTION": "Headless AI-agent execution platform (Everruns v1 HTTP API).",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/v1",
    "ENUM_NAME_OVERRIDES": {},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.idempotency.openapi.postprocess_idempotency",
    ],
}

# --------------------------------------------------------------------------- tasks / runtime
TASKS = {
    "default": {
        "BACKEND": env("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
RUNTIME_MAX_ITERATIONS = env_int("RUNTIME_MAX_ITERATIONS", 100)
RUNTIME_TOOL_TIMEOUT_SECS = env_int("RUNTIME_TOOL_TIMEOUT_SECS", 60)
RUNTIME_LLM_MAX_RETRIES = env_int("RUNTIME_LLM_MAX_RETRIES", 3)

# --------------------------------------------------------------------------- SSE
SSE_HEARTBEAT_INTERVAL_SECS = env_int("SSE_HEARTBEAT_INTERVAL_SECS", 30)
SSE_CYCLE_SECS = env_int("SSE_CYCLE_SECS", 300)

# --------------------------------------------------------------------------- LLM providers / secrets
# Base64 of 32 random bytes; several keys as "id1:key1,id2:key2" (first is used to encrypt).
ENCRYPTION_KEYS = env("ENCRYPTION_KEYS")
DEFAULT_OPENAI_API_KEY = env("DEFAULT_OPENAI_API_KEY")
DEFAULT_ANTHROPIC_API_KEY = env("DEFAULT_ANTHROPIC_API_KEY")
WEB_FETCH_ALLOW_PRIVATE = env_bool("WEB_FETCH_ALLOW_PRIVATE", False)

# --------------------------------------------------------------------------- logging
LOG_LEVEL = env("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.core.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [request_id=%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's default config gives "django" its own console handler under DEBUG; with propagation to
        # our root handler every line (e.g. DisallowedHost) would be printed twice, once without request id.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # Our exception handler logs every error with its request id; Django's own
        # "Internal Server Error" line would duplicate it without the id.
        "django.request": {"handlers": ["console"], "level": "CRITICAL", "propagate": False},
    },
}
CSRF_FAILURE_VIEW = "apps.core.exception_handler.csrf_failure"

# --------------------------------------------------------------------------- capabilities: web_fetch
# (WEB_FETCH_ALLOW_PRIVATE is above with the provider settings.) Contract 3.8: 1 s first byte, 30 s body.
WEB_FETCH_CONNECT_TIMEOUT_SECS = env_int("WEB_FETCH_CONNECT_TIMEOUT_SECS", 5)
WEB_FETCH_FIRST_BYTE_TIMEOUT_SECS = env_int("WEB_FETCH_FIRST_BYTE_TIMEOUT_SECS", 1)
WEB_FETCH_BODY_TIMEOUT_SECS = env_int("WEB_FETCH_BODY_TIMEOUT_SECS", 30)
WEB_FETCH_MAX_BYTES = env_int("WEB_FETCH_MAX_BYTES", 1_048_576)

# --------------------------------------------------------------------------- session filesystem
# Quotas (docs/files.md): exceeding one answers 400 "Input exceeds allowed limits".
FS_MAX_FILE_BYTES = env_int("FS_MAX_FILE_BYTES", 5 * 1024 * 1024)
FS_MAX_SESSION_BYTES = env_int("FS_MAX_SESSION_BYTES", 50 * 1024 * 1024)
FS_MAX_FILES = env_int("FS_MAX_FILES", 1000)  # files + directories per session
# grep guards: the regex runs with a deadline (the `regex` module's timeout), over bounded input.
FS_GREP_MAX_PATTERN_LENGTH = env_int("FS_GREP_MAX_PATTERN_LENGTH", 1000)
FS_GREP_MAX_SCAN_BYTES = env_int("FS_GREP_MAX_SCAN_BYTES", 20 * 1024 * 1024)
FS_GREP_MAX_LINE_LENGTH = env_int("FS_GREP_MAX_LINE_LENGTH", 10_000)
FS_GREP_MAX_MATCHES = env_int("FS_GREP_MAX_MATCHES", 1000)
FS_GREP_TIMEOUT_MS = env_int("FS_GREP_TIMEOUT_MS", 2000)
# read_file (agent tool) returns at most this many bytes of a file, marked truncated.
FS_TOOL_READ_MAX_BYTES = env_int("FS_TOOL_READ_MAX_BYTES", 256 * 1024)

# --------------------------------------------------------------------------- LLM catalogue (apps/llm)
# Timeout (seconds) of POST /v1/llm-providers/{id}/sync-models when it lists a provider's models.
LLM_SYNC_TIMEOUT_SECS = env_int("LLM_SYNC_TIMEOUT_SECS", 10)
# Our two "status" enums get their own OpenAPI names (other apps have "status" enums too).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "LlmStatusEnum": ["active", "disabled"],
        "SyncModelsStatusEnum": ["success", "not_supported"],
    }
)

# --------------------------------------------------------------------------- agents / capabilities: OpenAPI enum names
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "AgentStatusEnum": "apps.agents.models.Agent.STATUSES",
        "CapabilityStatusEnum": "apps.capabilities.serializers.CAPABILITY_STATUSES",
        "CapabilityRiskLevelEnum": "apps.capabilities.serializers.RISK_LEVELS",
        "SessionToolTypeEnum": "apps.sessions.serializers.TOOL_TYPES",
    }
)

# ------------------------------------------------------------- agent runtime (apps/runtime, docs/runtime.md)
# A running turn refreshes Turn.heartbeat_at every RUNTIME_HEARTBEAT_SECS; one whose heartbeat is older than
# RUNTIME_TURN_LEASE_SECS belongs to a dead worker and is resumed elsewhere (checked every
# RUNTIME_RECOVERY_INTERVAL_SECS by each worker process).
RUNTIME_TURN_LEASE_SECS = env_int("RUNTIME_TURN_LEASE_SECS", 30)
RUNTIME_HEARTBEAT_SECS = env_int("RUNTIME_HEARTBEAT_SECS", 5)
RUNTIME_RECOVERY_INTERVAL_SECS = env_int("RUNTIME_RECOVERY_INTERVAL_SECS", 10)
# A queued turn with no task to run it (its enqueue was lost: the web process died right after the commit)
# is enqueued again by the sweep once it has waited this long.
RUNTIME_ENQUEUE_GRACE_SECS = env_int("RUNTIME_ENQUEUE_GRACE_SECS", 5)
# Transient provider errors are retried RUNTIME_LLM_MAX_RETRIES times, waiting base * 2^n seconds (capped).
RUNTIME_LLM_RETRY_BASE_SECS = float(env("RUNTIME_LLM_RETRY_BASE_SECS", "1.0"))
RUNTIME_LLM_RETRY_MAX_SECS = float(env("RUNTIME_LLM_RETRY_MAX_SECS", "20"))
RUNTIME_LLM_TIMEOUT_SECS = env_int("RUNTIME_LLM_TIMEOUT_SECS", 300)
RUNTIME_DELTA_BATCH_MS = env_int("RUNTIME_DELTA_BATCH_MS", 100)  # output.message.delta batching window
RUNTIME_CHECK_INTERVAL_MS = env_int("RUNTIME_CHECK_INTERVAL_MS", 100)  # cancel checks while streaming / in tools
RUNTIME_TOOL_MAX_PARALLEL = env_int("RUNTIME_TOOL_MAX_PARALLEL", 8)
# The simulated provider's default delays (per provider/model overrides: docs/runtime.md).
LLMSIM_LATENCY_MS = env_int("LLMSIM_LATENCY_MS", 0)
LLMSIM_CHUNK_DELAY_MS = env_int("LLMSIM_CHUNK_DELAY_MS", 0)

# --------------------------------------------------------------------------- sessions / SSE streams (docs/streaming.md)
# Streams of one web process that may read the database at the same time (each holds a connection
# only while it reads): a wake-up of many streams must not exceed PostgreSQL's max_connections.
SSE_DB_CONCURRENCY = env_int("SSE_DB_CONCURRENCY", 8)

# ------------------------------------------------ LLM provider address policy (apps/llm, docs/llm.md)
# Off: a provider base_url that resolves to a private, loopback or link-local address (localhost, RFC 1918,
# 169.254.169.254, ...) is refused at call time (model sync and turns). Turn on for self-hosted models
# (Ollama/vLLM on the private network) when every organization admin is trusted.
LLM_ALLOW_PRIVATE_BASE_URLS = env_bool("LLM_ALLOW_PRIVATE_BASE_URLS", False)

# ------------------------------------------------ authentication cache (apps/accounts, docs/auth.md)
# Seconds a worker process reuses a successful API-key / JWT lookup (user, membership, organization)
# instead of querying again; 0 disables, at most 5. Revocation by API/admin applies at once in the
# process that handled it and within this many seconds in the other worker processes.
AUTH_CACHE_SECONDS = float(env("AUTH_CACHE_SECONDS", "2"))

# ------------------------------------------------ sessions: message limits, DB pool (apps/sessions, docs/streaming.md)
# One posted message (POST /v1/sessions/{id}/messages): more -> 400 "Input exceeds allowed limits".
SESSION_MESSAGE_MAX_PARTS = env_int("SESSION_MESSAGE_MAX_PARTS", 100)
SESSION_MESSAGE_MAX_TEXT_BYTES = env_int("SESSION_MESSAGE_MAX_TEXT_BYTES", 256 * 1024)  # all text parts, UTF-8
SESSION_MESSAGE_MAX_IMAGE_BYTES = env_int("SESSION_MESSAGE_MAX_IMAGE_BYTES", 6 * 1024 * 1024)  # base64/url chars
SESSION_MESSAGE_MAX_METADATA_BYTES = env_int("SESSION_MESSAGE_MAX_METADATA_BYTES", 64 * 1024)  # metadata + tags
# A session's own configuration (system_prompt, tools, initial_files, hints, capabilities) as JSON, and its
# secrets (PUT .../storage/secrets: count per session, bytes per value): more -> 400 "Input exceeds allowed limits".
SESSION_CONFIG_MAX_BYTES = env_int("SESSION_CONFIG_MAX_BYTES", 2 * 1024 * 1024)
SESSION_SECRETS_MAX_COUNT = env_int("SESSION_SECRETS_MAX_COUNT", 100)
SESSION_SECRET_MAX_BYTES = env_int("SESSION_SECRET_MAX_BYTES", 16 * 1024)
# PostgreSQL connection pool per process (0 = off: one persistent connection per thread, DB_CONN_MAX_AGE).
# gunicorn.conf.py turns it on for web processes: 2 workers x 768 threads must never open more connections
# than PostgreSQL's max_connections (the cause of "too many clients" 500s under load).
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 0)
if DB_POOL_MAX_SIZE > 0 and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections; Django requires 0 with a pool
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": min(2, DB_POOL_MAX_SIZE),
        "max_size": DB_POOL_MAX_SIZE,
        # A request waits this long for a free connection before failing.
        "timeout": env_int("DB_POOL_TIMEOUT_SECS", 10),
    }

# --------------------------------------------------------------------------- automation (docs/automation.md)
# Idempotency-Key: first responses are kept this long per (organization, credential, key).
IDEMPOTENCY_TTL_SECS = env_int("IDEMPOTENCY_TTL_SECS", 86_400)
# A repeat of a request still in flight is 409 until then; after it, the first one counts as crashed.
IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECS = env_int("IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECS", 60)

# Webhooks: delivery timeout, retry back-off (seconds after attempt 1, 2, ...: ~27 h in all), auto-disable.
WEBHOOK_TIMEOUT_SECS = env_int("WEBHOOK_TIMEOUT_SECS", 10)
WEBHOOK_RETRY_DELAYS_SECS = [int(v) for v in env_list("WEBHOOK_RETRY_DELAYS_SECS", "5,300,1800,7200,18000,36000,36000")]
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 50)
# A pending delivery this far past its due time lost its task: the worker loop queues it again.
WEBHOOK_SWEEP_GRACE_SECS = env_int("WEBHOOK_SWEEP_GRACE_SECS", 300)
WEBHOOK_SECRET_ROTATION_GRACE_SECS = env_int("WEBHOOK_SECRET_ROTATION_GRACE_SECS", 86_400)
# Destinations on private/loopback networks (tests, development, an internal receiver); off in production.
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", False)

# Durable schedules: the shortest interval, and the most missed runs one catch-up replays when max_catch_up is unset.
SCHEDULE_MIN_INTERVAL_SECS = env_int("SCHEDULE_MIN_INTERVAL_SECS", 60)
SCHEDULE_MAX_CATCH_UP = env_int("SCHEDULE_MAX_CATCH_UP", 10)
