"""Mendwell settings: one module, read from environment variables.

The embedded default (no variables set) runs on one machine with SQLite, the database task
queue, the in-memory channel layer and console email. ``DJANGO_ENV=production`` turns on every
production safeguard and refuses to start without the secrets it needs.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MENDWELL_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str | None = None) -> str:
    """Return the variable, the default, or fail loudly when neither exists."""
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Set the environment variable {name}.")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# "test" is set by clinic/test_settings.py, the module pytest uses.
DJANGO_ENV = env_str("DJANGO_ENV", "development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be development, test or production.")
PRODUCTION = DJANGO_ENV == "production"


def required_in_production(name: str, dev_default: str) -> str:
    if PRODUCTION and not os.environ.get(name):
        raise ImproperlyConfigured(
            f"{name} is required when DJANGO_ENV=production. See the README's table of environment variables."
        )
    return os.environ.get(name) or dev_default


SECRET_KEY = required_in_production(
    "SECRET_KEY", "development-only-secret-key-never-used-in-production-0123456789abcdef"
)
# Off unless asked for: the demo shows the product's own 404/403/500 pages, never Django's
# debug pages with every URL listed. DEBUG=1 turns them on for development.
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", required_in_production("ALLOWED_HOSTS", "127.0.0.1,localhost"))
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CLINIC_NAME = env_str("CLINIC_NAME", "Mendwell")
# The public "Our outcomes" page (the registry's latest snapshot); 0 shows a plain notice instead.
OUTCOMES_PUBLIC = env_bool("OUTCOMES_PUBLIC", True)

# Field encryption keys live apart from SECRET_KEY so either can rotate without the other.
# Newest first; older keys still decrypt until `manage.py rotate_encryption_keys` has run.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")
# The embedded run keeps its key in a git-ignored file that `manage.py create_local_key` makes
# (`make run` calls it); importing settings never creates files.
FIELD_ENCRYPTION_KEY_FILE = VAR_DIR / "field_encryption.key"
if not FIELD_ENCRYPTION_KEYS:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is required when DJANGO_ENV=production: one or more Fernet "
            "keys, newest first, separated by commas."
        )
    if FIELD_ENCRYPTION_KEY_FILE.exists():
        FIELD_ENCRYPTION_KEYS = [
            line.strip() for line in FIELD_ENCRYPTION_KEY_FILE.read_text().splitlines() if line.strip()
        ]
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        Fernet(_key.encode())
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64-encoded "
            "bytes; make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        ) from None

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "clinic",
    "clinic.audit",
    "clinic.accounts",
    "clinic.content",
    "clinic.scheduling",
    "clinic.intake",
    "clinic.visits",
    "clinic.measures",
    "clinic.register",
    "clinic.care",
    "clinic.outcomes",
    "clinic.portal",
    "clinic.api",
]

MIDDLEWARE = [
    "clinic.middleware.RequestIdMiddleware",
    "clinic.api.guard.ApiBodyGuard",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "clinic.middleware.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "clinic.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "csp.middleware.CSPMiddleware",
    "clinic.middleware.NoStoreMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"
ASGI_APPLICATION = "clinic.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "clinic" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.clinic",
            ],
        },
    },
]

# Database: SQLite in WAL mode by default. Write transactions are taken IMMEDIATE so that
# two writers queue on the lock at BEGIN instead of failing half-way with "database is locked".
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'mendwell.sqlite3'}")
# Kept connections (DB_CONN_MAX_AGE seconds, checked before reuse) save the connect and its
# PRAGMAs. The WSGI entry (clinic/wsgi.py) keeps them for 600 s unless told otherwise; everything
# else (the ASGI process, the worker, manage.py) opens one per request or task: under daphne a
# kept SQLite connection was seen holding an old read snapshot, so a cache write failed.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        # A database cache needs no other service, yet is shared by every process: rate limits
        # and used-TOTP markers must hold across the web process and a restart.
        # Bounded (clinic.cache): no value over 512 KB, 32 MB and 5,000 rows in all.
        else {
            "BACKEND": "clinic.cache.BoundedDatabaseCache",
            "LOCATION": "mendwell_cache",
            "OPTIONS": {
                "MAX_ENTRIES": env_int("CACHE_MAX_ENTRIES", 5000),
                "MAX_ENTRY_BYTES": env_int("CACHE_MAX_ENTRY_BYTES", 512 * 1024),
                "MAX_TOTAL_BYTES": env_int("CACHE_MAX_TOTAL_BYTES", 32 * 1024 * 1024),
            },
        }
    )
}

# Background work: the database queue by default, RQ on Redis when TASKS_BACKEND=rq.
TASKS_BACKEND = env_str("TASKS_BACKEND", "database")
if TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
elif TASKS_BACKEND == "rq":
    INSTALLED_APPS.append("django_rq")
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0"}}
    # django-tasks' jobs need its job class; a forking worker costs about a second per task, so
    # workers run tasks in their own process (several workers give the parallelism).
    RQ = {"JOB_CLASS": "django_tasks_rq.Job", "WORKER_CLASS": "rq.SimpleWorker"}
elif TASKS_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
else:
    raise ImproperlyConfigured("TASKS_BACKEND must be database, rq or immediate.")

CHANNEL_LAYERS = {
    "default": (
        # The socket timeout must outlast channels-redis' own 5-second wait for a message, or
        # an idle call's websocket dies with "Timeout reading from Redis".
        {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}]},
        }
        if REDIS_URL
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}

# Email
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{CLINIC_NAME} <no-reply@mendwell.example>")

# Accounts
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
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
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:home"
ACCOUNT_ADAPTER = "clinic.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{CLINIC_NAME}] "
# Failed sign-ins: a cool-off, never a permanent lock. Five failures for one account within
# fifteen minutes pause further tries for that account; an address gets twenty a minute.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env_str("LOGIN_FAILED_RATE", "20/m/ip,5/15m/key"),
}
MFA_ADAPTER = "clinic.accounts.adapter.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = CLINIC_NAME
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION

# Sessions: encrypted at rest (clinic.sessions); 30 minutes idle, 12 hours at most
# (clinic.middleware.SessionTimeoutMiddleware).
SESSION_ENGINE = "clinic.sessions"
SESSION_IDLE_TIMEOUT = timedelta(minutes=env_int("SESSION_IDLE_MINUTES", 30))
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=env_int("SESSION_ABSOLUTE_HOURS", 12))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

SECURE = env_bool("SECURE_COOKIES", PRODUCTION)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
# Health probes come over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", PRODUCTION) else None
)
# The same client address for allauth's rate limits: the proxy's one X-Forwarded-For entry.
ALLAUTH_TRUSTED_PROXY_COUNT = 1 if SECURE_PROXY_SSL_HEADER else 0
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy: no inline script anywhere; media and websockets to ourselves.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        # 'self' covers ws:// and wss:// to this host in current browsers.
        "connect-src": ["'self'"],
        "media-src": ["'self'", "blob:", "mediastream:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# Static files
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
# Hashed names (collectstatic writes them), so WhiteNoise serves them with year-long cache
# lifetimes; `make run` collects them. With DEBUG=1 files are served from the source tree.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Video visits
VISIT_OPENS_BEFORE = timedelta(minutes=env_int("VISIT_OPENS_MINUTES_BEFORE", 10))
VISIT_CLOSES_AFTER = timedelta(minutes=env_int("VISIT_CLOSES_MINUTES_AFTER", 30))
VIDEO_PROVIDER = env_str("VIDEO_PROVIDER", "builtin")
if VIDEO_PROVIDER not in {"builtin", "jitsi"}:
    raise ImproperlyConfigured("VIDEO_PROVIDER must be builtin or jitsi.")
# ICE servers for the built-in room: STUN/TURN URLs separated by commas. With TURN_SECRET set,
# every participant gets time-limited TURN credentials (coturn's REST form).
ICE_URLS = env_list("ICE_URLS")
TURN_URLS = env_list("TURN_URLS")
TURN_SECRET = env_str("TURN_SECRET", "")
TURN_TTL_SECONDS = env_int("TURN_TTL_SECONDS", 3600)
JITSI_DOMAIN = env_str("JITSI_DOMAIN", "")
JITSI_APP_ID = env_str("JITSI_APP_ID", "")
JITSI_APP_SECRET = env_str("JITSI_APP_SECRET", "")
if VIDEO_PROVIDER == "jitsi" and not (JITSI_DOMAIN and JITSI_APP_ID and JITSI_APP_SECRET):
    raise ImproperlyConfigured("VIDEO_PROVIDER=jitsi needs JITSI_DOMAIN, JITSI_APP_ID and JITSI_APP_SECRET.")

# An acute urgent item nobody acknowledges within this time is escalated to every clinician and
# staff member (clinic.intake.tasks).
URGENT_ESCALATE_AFTER = timedelta(minutes=env_int("URGENT_ESCALATE_MINUTES", 15))

# Treatment plans (clinic.care): a PDMP check counts for this many days after the day it was made
# (state rules differ: the clinic sets its own, at least as strict as its states'), and the
# dashboard lists a plan this many days before its legal basis or PDMP check lapses.
CARE_PDMP_MAX_AGE_DAYS = env_int("CARE_PDMP_MAX_AGE_DAYS", 90)
CARE_LAPSE_WARNING_DAYS = env_int("CARE_LAPSE_WARNING_DAYS", 14)

# Crisis help: the country whose numbers are shown when we know nothing else.
DEFAULT_COUNTRY = env_str("DEFAULT_COUNTRY", "US")
# Contact form: submissions per address per hour.
CONTACT_RATE = env_str("CONTACT_RATE", "5/h")
# Free-time requests per address that may compute starts (after a schedule change); answers from
# the precomputed starts are never limited.
SLOT_COMPUTE_RATE = env_str("SLOT_COMPUTE_RATE", "30/m")
# Public pages as served to a visitor without cookies, kept in each web process
# (clinic.middleware.PublicPageCacheMiddleware). 0 turns it off.
PUBLIC_PAGE_SECONDS = env_int("PUBLIC_PAGE_SECONDS", 60)
PUBLIC_PAGE_ENTRIES = 200

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if VIDEO_PROVIDER == "jitsi":
    # The Jitsi room is an iframe from the clinic's own Jitsi server, driven by its script.
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"].append(f"https://{JITSI_DOMAIN}")
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["frame-src"] = [f"https://{JITSI_DOMAIN}"]

if PRODUCTION:
    # Let `check --deploy` see the real values and never fall back to a default key.
    if SECRET_KEY.startswith("development-only"):
        raise ImproperlyConfigured("SECRET_KEY must be set to a real secret in production.")
