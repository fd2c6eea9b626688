"""Django settings for Allô, read from environment variables (see README, "Configuration")."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from pythonjsonlogger.core import RESERVED_ATTRS


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PACKAGE_DIR = Path(__file__).resolve().parent.parent
# Embedded data (SQLite database, generated secret key) lives here; a user's working directory by default.
DATA_DIR = Path(os.environ.get("ALLO_DATA_DIR", Path.cwd() / "var")).resolve()

DEBUG = env_bool("ALLO_DEBUG", False)
# Served over HTTPS (behind a TLS proxy in production): secure cookies and HSTS.
HTTPS = env_bool("ALLO_HTTPS", not DEBUG)


def _secret_key() -> str:
    """The configured key, else one generated once and kept in the data directory (never a fixed default)."""
    configured = os.environ.get("ALLO_SECRET_KEY")
    if configured:
        return configured
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    try:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key
    except OSError as exc:  # read-only deployments must set the variable
        raise ImproperlyConfigured("ALLO_SECRET_KEY is not set and no key can be stored in ALLO_DATA_DIR") from exc


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("ALLO_CSRF_TRUSTED_ORIGINS", "")
# Reverse proxies whose X-Forwarded-For is believed (addresses or networks): the client is the
# rightmost address they did not add (allo.web.client).
ALLO_TRUSTED_PROXIES = env_list("ALLO_TRUSTED_PROXIES", "127.0.0.1,::1")
# Who may read /metrics without a token (addresses or networks; the client as those proxies report it)
ALLO_METRICS_ALLOW = env_list("ALLO_METRICS_ALLOW", "127.0.0.0/8,::1")

# Personal data (callers' numbers, notes) is purged after this many days.
RETENTION_DAYS = int(os.environ.get("ALLO_RETENTION_DAYS", "365"))

# E-mail (the fiches de liaison sent to partners' contacts): an SMTP server when ALLO_SMTP_HOST is set,
# else printed on the console (the demo).
EMAIL_HOST = os.environ.get("ALLO_SMTP_HOST", "")
EMAIL_BACKEND = ("django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
                 else "django.core.mail.backends.console.EmailBackend")
EMAIL_PORT = int(os.environ.get("ALLO_SMTP_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("ALLO_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("ALLO_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env_bool("ALLO_SMTP_STARTTLS", False)
EMAIL_USE_SSL = env_bool("ALLO_SMTP_SSL", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("ALLO_EMAIL_FROM", "Allô 3939 <ne-pas-repondre@allo.example>")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "widget_tweaks",
    "dsfr",
    "django_htmx",
    "csp",
    "simple_history",
    "axes",
    "allo.accounts",
    "allo.org",
    "allo.kb",
    "allo.web",
    "allo.portal",
    "allo.contact_centre",
    "allo.partners",
    "allo.history",
    "allo.forecast",
    "allo.voice",
    "allo.surges",
]

MIDDLEWARE = [
    "allo.web.metrics.MetricsMiddleware",  # first: counts and times every answer (docs/operations.md)
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "allo.web.logging.RequestLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "allo.accounts.access.AccessPolicyMiddleware",
    "axes.middleware.AxesMiddleware",  # last: answers a locked-out sign-in (django-axes' rule)
]

ROOT_URLCONF = "allo.project.urls"
ASGI_APPLICATION = "allo.project.asgi.application"
WSGI_APPLICATION = "allo.project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "allo.web.context_processors.site",
            ],
            "builtins": ["allo.web.templatetags.french_dates"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'allo.sqlite3'}",
        conn_max_age=int(os.environ.get("ALLO_DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web workers read while the router writes; the timeout absorbs short write bursts.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Web requests (a pool of threads), WebSocket consumers and the router's threads all reach the
    # database: a pool shares a bounded set of open connections among them (a new PostgreSQL
    # connection costs milliseconds; Django's ASGI handler used to open one per request).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2, "max_size": int(os.environ.get("ALLO_DB_POOL_SIZE", "10")), "timeout": 10}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# memory each web process gives its local copy of the shared page cache (allo.web.pagecache), least
# recently used out first
PAGE_CACHE_MB = int(os.environ.get("ALLO_PAGE_CACHE_MB", "64"))

REDIS_URL = os.environ.get("REDIS_URL", "")
# the shared page cache (allo.web.pagecache) without Redis: files every process of this data folder
# reads (a web worker, an `allo kb` command that changed the knowledge base), at most this many pages;
# past it Django's file cache drops a third of them at random
PAGE_CACHE_DIR = DATA_DIR / "cache" / "pages"
PAGE_CACHE_ENTRIES = int(os.environ.get("ALLO_PAGE_CACHE_ENTRIES", "3000"))


# A consumer waits for its next message with channels-redis' BZPOPMIN blocking 5 s (its brpop_timeout),
# then asks again. redis-py 8 made 5 s the default socket read timeout: the read raced the block and
# every idle WebSocket died after about 5 s with "TimeoutError: Timeout reading from ..." (channels_redis
# issue 422, still open with channels-redis 4.3.0; the fix proposed there passes socket_timeout). 15 s is
# three blocks: an idle read always completes, and a Redis that stops answering still fails the read.
CHANNEL_REDIS_SOCKET_TIMEOUT = 15


def redis_channel_layer(url: str, **config) -> dict:
    """The Channels layer on Redis at `url` (a function: tests build the same one on their own database)."""
    host = {"address": url, "socket_timeout": CHANNEL_REDIS_SOCKET_TIMEOUT, "socket_keepalive": True}
    return {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [host], **config}}


if REDIS_URL:
    CHANNEL_LAYERS = {"default": redis_channel_layer(REDIS_URL)}
    # rate limits, the portal's caches and the router's published wait estimate, across processes
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": "allo"},
              # public pages, shared by every web process (allo.web.pagecache); Redis' maxmemory bounds it
              "pages": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                        "KEY_PREFIX": "allo-pages"}}
else:  # one process: the embedded default
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
              "pages": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                        "LOCATION": str(PAGE_CACHE_DIR), "OPTIONS": {"MAX_ENTRIES": PAGE_CACHE_ENTRIES}}}

AUTH_USER_MODEL = "accounts.User"
# Why a version changed is free text (a correction's reason can be long), not simple-history's varchar(100).
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "staff-home"
LOGOUT_REDIRECT_URL = "home"

# Sign-in throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords in a row an account is
# locked for AXES_COOLOFF_TIME, whatever the address they come from (agents of one centre share an
# address, and an attacker changes his: the account is what a guesser aims at). A success clears
# the count. Only failures are stored (no log of every sign-in), in the database, across processes.
AUTHENTICATION_BACKENDS = ["allo.accounts.throttling.SignInThrottle", "django.contrib.auth.backends.ModelBackend"]
# ProConnect, the State's OpenID Connect sign-in for public agents (mozilla-django-oidc; docs/signin.md).
# Shown and accepted only when the client id, secret and issuer are all set. Endpoints come from the
# provider's discovery document, read on the first ProConnect sign-in (allo.accounts.proconnect).
PROCONNECT_ISSUER = os.environ.get("ALLO_PROCONNECT_ISSUER", "").rstrip("/")
PROCONNECT_DISCOVERY_URL = os.environ.get("ALLO_PROCONNECT_DISCOVERY_URL", "") or (
    f"{PROCONNECT_ISSUER}/.well-known/openid-configuration" if PROCONNECT_ISSUER else "")
PROCONNECT_ACR = os.environ.get("ALLO_PROCONNECT_ACR", "eidas1")  # asked for (acr_values) and checked
OIDC_RP_CLIENT_ID = os.environ.get("ALLO_PROCONNECT_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("ALLO_PROCONNECT_CLIENT_SECRET", "")
OIDC_RP_SIGN_ALGO = os.environ.get("ALLO_PROCONNECT_SIGN_ALGO", "RS256")  # ID token and userinfo (JWT)
OIDC_RP_SCOPES = "openid email given_name usual_name uid siret idp_id"
OIDC_STATE_SIZE = 64  # ProConnect wants state and nonce of at least 32 characters
OIDC_NONCE_SIZE = 64
OIDC_STORE_ID_TOKEN = True  # the id_token_hint of the logout at ProConnect
OIDC_CREATE_USER = False  # an identity is mapped to an existing account, never creates one
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATION_CALLBACK_URL = "proconnect-callback"


def proconnect_form_action(issuer: str) -> list[str]:
    """The provider's origin: the logout form's redirect to its end_session_endpoint (CSP form-action
    applies to a form's redirects)."""
    from urllib.parse import urlsplit

    parts = urlsplit(issuer)
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme and parts.netloc else []


AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_CALLABLE = "allo.accounts.throttling.locked_out"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "allo.web.client.client_ip_for_axes"
# axes warns that locking by account alone lets a guesser rotate addresses: that is the choice made
# above (an account is what is guessed), and the warning printed before every `allo` command.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# The manifest storage rewrites url() references inside CSS, which invalidates the DSFR's
# subresource-integrity hashes; our static files are served by ourselves, so SRI adds nothing.
DSFR_USE_INTEGRITY_CHECKSUMS = DEBUG

# Security: CSRF everywhere, secure cookies and HSTS over HTTPS, a strict CSP with nonces.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_AGE = 8 * 3600  # one working shift
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if HTTPS:
    SECURE_HSTS_SECONDS = int(os.environ.get("ALLO_HSTS_SECONDS", "31536000"))
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF, *proconnect_form_action(PROCONNECT_ISSUER)],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            # Uvicorn adds a terminal-coloured copy of its messages: not for JSON lines
            "reserved_attrs": [*RESERVED_ATTRS, "color_message"],
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    # API tokens never reach the logs (Uvicorn writes WebSocket paths with their ?token=...)
    "filters": {"secrets": {"()": "allo.web.logging.RedactSecrets"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": os.environ.get("ALLO_LOG_FORMAT", "json"),
                    "filters": ["secrets"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("ALLO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},  # not a line per sign-in; lockouts are warnings
        "weasyprint.progress": {"level": "WARNING"},  # not seven lines per PDF report (allo/reports/pdf.py)
        "fontTools": {"level": "WARNING"},  # its font subsetting, for each PDF report
    },
}
