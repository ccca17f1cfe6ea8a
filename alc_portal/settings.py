"""Settings for ALC Portal, read from the environment.

Production runs with DEBUG off and must be given SECRET_KEY, ALLOWED_HOSTS, PORTAL_URL,
DATABASE_URL, REDIS_URL, EMAIL_URL (or EMAIL_HOST, or an anymail EMAIL_BACKEND) and
DEFAULT_FROM_EMAIL; a missing or malformed value stops start-up with a message naming the variable.
`.env.example` lists every variable. `make run` and `make test` set DEBUG=1 and start an
embedded PostgreSQL and Redis when DATABASE_URL / REDIS_URL are unset.
"""

from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def _required(name: str, read):
    """Read a variable that production cannot run without, naming it if it is missing or bad."""
    if not env.str(name, default="").strip():
        raise ImproperlyConfigured(f"Set the environment variable {name} (see .env.example).")
    try:
        return read(name)
    except (ImproperlyConfigured, ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"The environment variable {name} is not valid: {exc}") from None


def _bool(name: str, default: bool) -> bool:
    """A yes/no variable. Anything but the usual spellings is an error, not a silent False."""
    value = env.str(name, default=str(default)).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"The environment variable {name} must be 1/0 or true/false.")


def _number(name: str, default, kind=int, minimum=0):
    """A whole (or, with kind=float, decimal) number of at least `minimum`, or its default."""
    raw = env.str(name, default="").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"The environment variable {name} must be a number, not {raw!r}."
        ) from None
    if value < minimum:
        raise ImproperlyConfigured(f"The environment variable {name} must be at least {minimum}.")
    return value


def _address(name: str, value: str) -> str:
    """An email address, bare or with a display name ("ALC Portal <portal@example.org>")."""
    try:
        validate_email(parseaddr(value)[1])
    except ValidationError:
        raise ImproperlyConfigured(
            f"The environment variable {name} must be an email address, not {value!r}."
        ) from None
    return value.strip()


DEBUG = _bool("DEBUG", default=False)

if DEBUG:
    # Only ever used on a developer's machine: production has no default secret.
    SECRET_KEY = env.str("SECRET_KEY", default="development-only-key-never-used-in-production")
    SECRET_KEY_FALLBACKS = [k.strip() for k in env.list("SECRET_KEY_FALLBACKS", default=[]) if k]
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
    PORTAL_URL = env.str("PORTAL_URL", default="http://127.0.0.1:8000")
else:
    SECRET_KEY = _required("SECRET_KEY", env.str)
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "The environment variable SECRET_KEY is too short: use at least 50 random characters."
        )
    # Earlier keys, while links and sessions signed with them should still work (see
    # docs/security.md, "Rotating the secret key").
    SECRET_KEY_FALLBACKS = [
        key.strip() for key in env.list("SECRET_KEY_FALLBACKS", default=[]) if key.strip()
    ]
    if any(len(key) < 50 for key in SECRET_KEY_FALLBACKS):
        raise ImproperlyConfigured(
            "The environment variable SECRET_KEY_FALLBACKS must list earlier keys of at least 50 "
            "characters each, separated by commas."
        )
    ALLOWED_HOSTS = [host.strip() for host in _required("ALLOWED_HOSTS", env.list) if host.strip()]
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("Set the environment variable ALLOWED_HOSTS.")
    # Where people reach the portal: the start of every link in an email.
    PORTAL_URL = _required("PORTAL_URL", env.str)
    if urlsplit(PORTAL_URL).scheme != "https" or not urlsplit(PORTAL_URL).hostname:
        raise ImproperlyConfigured(
            "The environment variable PORTAL_URL must be an https:// address with a host name."
        )

DATABASES = {"default": _required("DATABASE_URL", env.db_url)}
if DATABASES["default"].get("ENGINE") != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        "The environment variable DATABASE_URL must be a PostgreSQL URL: "
        "postgres://USER:PASSWORD@HOST:PORT/NAME"
    )
DATABASES["default"].setdefault("CONN_MAX_AGE", _number("DATABASE_CONN_MAX_AGE", 60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if not DATABASES["default"].get("NAME"):
    raise ImproperlyConfigured(
        "The environment variable DATABASE_URL must name a database: "
        "postgres://USER:PASSWORD@HOST:PORT/NAME"
    )

REDIS_URL = _required("REDIS_URL", env.str)


def _redis_url_ok(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return bool(parts.path)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    database = parts.path.strip("/")
    return parts.scheme in ("redis", "rediss") and bool(parts.hostname) and database.isdigit()


if not _redis_url_ok(REDIS_URL):
    raise ImproperlyConfigured(
        "The environment variable REDIS_URL must be a Redis URL: redis://HOST:PORT/DB"
    )

INSTALLED_APPS = [
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
    "django_celery_beat",
    "simple_history",
    "anymail",
    "members",
    "regions",
    "campaigns",
    "events",
    "search",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "members.middleware.PrivilegedSessionMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "alc_portal.urls"
WSGI_APPLICATION = "alc_portal.wsgi.application"

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
            "builtins": ["alc_portal.navigation"],
        },
    },
]

AUTH_USER_MODEL = "members.User"
# Django's and allauth's, each loading the person with their roles (members/backends.py).
AUTHENTICATION_BACKENDS = ["members.backends.ModelBackend", "members.backends.AllauthBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# django-allauth: email is the login, every address is verified before it can be used, public
# sign-up is closed (see members.adapters), and login is rate-limited by allauth's defaults.
ACCOUNT_ADAPTER = "members.adapters.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "members.forms.accounts.LoginForm",
    "request_login_code": "members.forms.accounts.RequestLoginCodeForm",
}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[ALC Portal] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# allauth's limits, written out: failed sign-ins (password or second factor) are refused after 5
# for one address or account in 5 minutes, or 10 from one IP address in a minute; every sign-in
# form, the admin's included (it sends people to allauth's), goes through them.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "request_login_code": "20/m/ip,3/m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reauthenticate": "10/m/user",
    # The portal's own public forms that send mail: join requests, and asking for a new
    # invitation (per network, then per address asked about).
    "join_request": "10/h/ip",
    "invitation_renewal": "10/h/ip,3/h/key",
}
# Behind a proxy, the number of proxies whose X-Forwarded-For may be trusted: rate limits per
# IP address would otherwise count every visitor as the proxy.
ALLAUTH_TRUSTED_PROXY_COUNT = _number("TRUSTED_PROXY_COUNT", 0)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "ALC Portal"
# Accept the previous and next 30-second code too: phone clocks drift.
MFA_TOTP_TOLERANCE = 1

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # The broker shares this Redis database: the prefix keeps the two apart.
        "KEY_PREFIX": "alc-cache",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Councillors' sessions last two weeks when they tick "Remember me" (allauth), until the browser
# closes otherwise. Staff and representatives see other people's details, so theirs end sooner:
# after this long without a request, and this long after signing in whatever happens.
PRIVILEGED_SESSION_IDLE_SECONDS = 60 * _number("PRIVILEGED_SESSION_IDLE_MINUTES", 30, minimum=1)
PRIVILEGED_SESSION_MAX_SECONDS = 60 * 60 * _number("PRIVILEGED_SESSION_MAX_HOURS", 12, minimum=1)
# How long the link in an invitation to set one's password works, in days.
INVITATION_DAYS = _number("INVITATION_DAYS", 14, minimum=1)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic's target in production; in DEBUG whitenoise serves straight from the sources.
STATIC_ROOT = None if DEBUG else env.path("STATIC_ROOT", default=BASE_DIR / "var" / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
MEDIA_URL = "media/"

# Email: EMAIL_URL (smtp://host:port, smtp+tls://user:password@host:587 for STARTTLS,
# smtp+ssl://... for TLS) or the discrete EMAIL_HOST/EMAIL_PORT variables. `make run` points
# this at its local catcher.
_USES_PROVIDER = "anymail" in env.str("EMAIL_BACKEND", default="")
if env.str("EMAIL_URL", default=""):
    vars().update(_required("EMAIL_URL", env.email_url))
    if not EMAIL_HOST:  # noqa: F821 - set by the line above
        raise ImproperlyConfigured(
            "The environment variable EMAIL_URL must name the mail server: smtp://HOST:PORT"
        )
else:
    if not DEBUG and not env.str("EMAIL_HOST", default="").strip() and not _USES_PROVIDER:
        # The default below is `make run`'s local catcher: production mail would vanish there.
        raise ImproperlyConfigured(
            "Set the environment variable EMAIL_URL (or EMAIL_HOST) to your SMTP server, "
            "or EMAIL_BACKEND to an anymail backend (see .env.example)."
        )
    EMAIL_HOST = env.str("EMAIL_HOST", default="127.0.0.1").strip() or "127.0.0.1"
    # 1025 is `make run`'s catcher; a real server listens on the SMTP port unless told.
    EMAIL_PORT = _number("EMAIL_PORT", 1025 if DEBUG else 25, minimum=1)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = _bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = _number("EMAIL_TIMEOUT", 20, minimum=1)
# SMTP by default; any django-anymail ESP instead, e.g. anymail.backends.postmark.EmailBackend,
# configured with ANYMAIL_* variables (ANYMAIL_POSTMARK_SERVER_TOKEN, ANYMAIL_WEBHOOK_SECRET...).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in env.ENVIRON.items()
    if name.startswith("ANYMAIL_") and value
}
if _USES_PROVIDER and not DEBUG and not ANYMAIL.get("WEBHOOK_SECRET"):
    # Without it the provider's bounce and complaint reports cannot be authenticated, so the
    # webhooks stay closed and bounced addresses would be written to again and again.
    raise ImproperlyConfigured(
        "Set the environment variable ANYMAIL_WEBHOOK_SECRET (user:password) for the "
        "provider's bounce and complaint webhooks (see .env.example)."
    )
if DEBUG:
    DEFAULT_FROM_EMAIL = env.str(
        "DEFAULT_FROM_EMAIL", default="ALC Portal <portal@alc.example.org>"
    )
else:
    DEFAULT_FROM_EMAIL = _required("DEFAULT_FROM_EMAIL", env.str)
DEFAULT_FROM_EMAIL = _address("DEFAULT_FROM_EMAIL", DEFAULT_FROM_EMAIL)
SERVER_EMAIL = _address("SERVER_EMAIL", env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL))

# Celery: JSON only, tasks acknowledged after they finish so a killed worker's task runs again.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 30
CELERY_TASK_SOFT_TIME_LIMIT = 60 * 25
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat writes each job's last run to the database as it goes, not every three minutes.
CELERY_BEAT_SYNC_EVERY = 1
# A task running when the broker connection drops (Redis restarting) carries on: the mailing
# ledger and the outbox make that safe, and the task acknowledges once Redis is back.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Workers consume (and tasks go to) this queue; separate deployments or test runs sharing one
# Redis can use different names.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")

# Mailings (campaigns.services.sending). The beat schedule is read into the database by
# django_celery_beat's DatabaseScheduler.

MAILING_MESSAGE_ID_DOMAIN = env.str(
    "MAILING_MESSAGE_ID_DOMAIN", default=DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >")
)
MAILING_UNSUBSCRIBE_MAILTO = env.str("MAILING_UNSUBSCRIBE_MAILTO", default="")
MAILING_BATCH_SIZE = _number("MAILING_BATCH_SIZE", 100, minimum=1)
MAILING_PARALLEL_TASKS = _number("MAILING_PARALLEL_TASKS", 2, minimum=1)
MAILING_TASK_SECONDS = _number("MAILING_TASK_SECONDS", 30, float, minimum=0.1)
MAILING_CLAIM_TIMEOUT = _number("MAILING_CLAIM_TIMEOUT", 60, float, minimum=0.1)
MAILING_MAX_ATTEMPTS = _number("MAILING_MAX_ATTEMPTS", 8, minimum=1)
MAILING_RETRY_BASE_SECONDS = _number("MAILING_RETRY_BASE_SECONDS", 30, float)
MAILING_RETRY_MAX_SECONDS = _number("MAILING_RETRY_MAX_SECONDS", 60 * 60, float)
MAILING_SWEEP_SECONDS = _number("MAILING_SWEEP_SECONDS", 30, float, minimum=0.1)
# Messages per second for the whole sending system (all workers, all mailings); 0 or blank for
# no limit. A mailing's own rate_limit can only lower it.
MAILING_RATE_LIMIT = _number("MAILING_RATE_LIMIT", 0.0, float)
# How often beat looks for scheduled mailings whose time has come.
MAILING_SCHEDULE_CHECK_SECONDS = _number("MAILING_SCHEDULE_CHECK_SECONDS", 60, float, minimum=0.1)
# Rows a background councillor import writes between progress updates.
IMPORT_CHUNK_ROWS = _number("IMPORT_CHUNK_ROWS", 500, minimum=1)
MAILING_SCHEDULE_MAX_LATENESS = _number("MAILING_SCHEDULE_MAX_LATENESS", 60, minimum=1)
# The outbox of notices (members.services.notices): how often beat sends what a lost task left
# waiting, how long a worker may hold a claimed notice, and retries of temporary failures.
NOTICE_SWEEP_SECONDS = _number("NOTICE_SWEEP_SECONDS", 60, float, minimum=0.1)
NOTICE_CLAIM_TIMEOUT = _number("NOTICE_CLAIM_TIMEOUT", 300, float, minimum=0.1)
NOTICE_MAX_ATTEMPTS = _number("NOTICE_MAX_ATTEMPTS", 8, minimum=1)
NOTICE_RETRY_BASE_SECONDS = _number("NOTICE_RETRY_BASE_SECONDS", 60, float)
# Retention (docs/operations.md, "Retention"): days each kind of personal data is kept.
IMPORT_FILE_DAYS = _number("IMPORT_FILE_DAYS", 30, minimum=1)
JOIN_REQUEST_DAYS = _number("JOIN_REQUEST_DAYS", 180, minimum=1)
NOTICE_DAYS = _number("NOTICE_DAYS", 365, minimum=1)
DELIVERY_ADDRESS_DAYS = _number("DELIVERY_ADDRESS_DAYS", 2 * 365, minimum=1)
EVENT_NEEDS_DAYS = _number("EVENT_NEEDS_DAYS", 30, minimum=1)  # after the event (docs/events.md)
EVENT_OFFER_HOURS = _number("EVENT_OFFER_HOURS", 48, float, minimum=0.1)  # to take a place offered
CELERY_BEAT_SCHEDULE = {
    "mailings-sweep": {"task": "campaigns.tasks.mailings_sweep", "schedule": MAILING_SWEEP_SECONDS},
    "mailings-start-scheduled": {
        "task": "campaigns.tasks.mailings_start_due",
        "schedule": MAILING_SCHEDULE_CHECK_SECONDS,
    },
    "onboarding-sweep": {"task": "members.tasks.onboarding_sweep", "schedule": 5 * 60},
    "notices-sweep": {"task": "members.tasks.notices_sweep", "schedule": NOTICE_SWEEP_SECONDS},
    "retention-members": {"task": "members.tasks.retention_run", "schedule": 24 * 60 * 60},
    "retention-campaigns": {"task": "campaigns.tasks.retention_run", "schedule": 24 * 60 * 60},
    "events-offers-and-reminders": {"task": "events.tasks.events_round", "schedule": 5 * 60},
    "retention-events": {"task": "events.tasks.retention_run", "schedule": 24 * 60 * 60},
    "search-reconcile": {"task": "search.tasks.search_reconcile", "schedule": 24 * 60 * 60},
}

# Content-Security-Policy: everything from our own origin, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # A load balancer's health probe may come over plain HTTP on the inside.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = _number("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

ADMINS = [
    ("Portal admins", _address("ADMIN_EMAILS", a))
    for a in env.list("ADMIN_EMAILS", default=[])
    if a.strip()
]

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").strip().upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(
        "The environment variable LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL."
    )
# Logs are lines of text, or JSON objects one per line for a log shipper (LOG_FORMAT=json).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain").strip().lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("The environment variable LOG_FORMAT must be plain or json.")
# WeasyPrint logs every page of a PDF at INFO: printing letters would fill the log.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "alc_portal.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}, "weasyprint": {"level": "WARNING"}},
}

# Workers write a heartbeat to Redis this often; one not heard from for WORKER_STALE_SECONDS
# counts as gone (/healthz and the status page).
WORKER_HEARTBEAT_SECONDS = _number("WORKER_HEARTBEAT_SECONDS", 5, float, minimum=0.1)
WORKER_STALE_SECONDS = _number("WORKER_STALE_SECONDS", 30, float, minimum=0.5)
# The status page's JSON twin (/status.json) answers a monitor that sends this token
# ("Authorization: Bearer <token>") as well as signed-in national staff. Unset: staff only.
STATUS_TOKEN = env.str("STATUS_TOKEN", default="").strip()
# A periodic job more than three of its intervals plus this many seconds late is red.
STATUS_JOB_GRACE_SECONDS = _number("STATUS_JOB_GRACE_SECONDS", 60, float)
# Disk space below this many megabytes under MEDIA_ROOT turns the status page red.
STATUS_DISK_MIN_MB = _number("STATUS_DISK_MIN_MB", 1024)

# Errors go to Sentry when SENTRY_DSN is set (web requests and Celery tasks alike).
SENTRY_DSN = env.str("SENTRY_DSN", default="").strip()
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=_number("SENTRY_TRACES_SAMPLE_RATE", 0.0, float),
        # People's details stay out of error reports.
        send_default_pii=False,
    )
