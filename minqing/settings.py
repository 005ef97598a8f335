"""One settings module, driven by environment variables (see README "Configuration")."""

import re
from pathlib import Path

from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from minqing.core.env import (
    env_bool,
    env_database,
    env_hosts,
    env_int,
    env_list,
    env_str,
    env_timezone,
)

BASE_DIR = Path(__file__).resolve().parent.parent
# Data beside the code (the SQLite file, collected static files, case photos): a checkout's
# var/ by default; an installed package sets MINQING_VAR_DIR (e.g. /var/lib/minqing), since
# site-packages is no place for data.
VAR_DIR = Path(env_str("MINQING_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me-in-production-0123456789"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if DEBUG or env_bool("MINQING_DEV", False) else None)
if not DEBUG and SECRET_KEY == _DEV_SECRET and not env_bool("MINQING_DEV", False):
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters")
if SECRET_KEY != _DEV_SECRET and (
    SECRET_KEY.startswith("django-insecure-") or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured(
        "SECRET_KEY is guessable (Django's generated test key, or a few repeated characters): "
        "make one with python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
# Encryption at rest (minqing.core.crypto): both keys are required outside development.
if not DEBUG and not env_bool("MINQING_DEV", False):
    env_str("MINQING_DATA_KEYS")
    env_str("MINQING_INDEX_KEY")
ALLOWED_HOSTS = env_hosts("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "ninja",  # its API docs page (Swagger UI) from its own static files, not from a CDN
    "minqing.core",
    "minqing.grids",
    "minqing.accounts",
    "minqing.registry",
    "minqing.cases",
    "minqing.visits",
    "minqing.assistance",
    "minqing.duties",
    "minqing.secondments",
    "minqing.cards",
    "minqing.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "minqing.core.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "minqing.core.middleware.IdleSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "minqing.accounts.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "minqing.core.middleware.MethodNotAllowedPageMiddleware",
]

ROOT_URLCONF = "minqing.urls"
WSGI_APPLICATION = "minqing.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "minqing" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "minqing.core.context.access",
                "minqing.core.context.language_next",
                "minqing.cases.context.bell",
                "minqing.cases.context.handover",
            ],
            # {% load i18n %} with literal {% translate %} worked out once per language.
            "libraries": {"i18n": "minqing.core.templatetags.i18n_once"},
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'minqing.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets readers go on while one writer writes; IMMEDIATE avoids upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
else:
    # DATABASE_CONN_HEALTH_CHECKS=true: a connection kept between requests (CONN_MAX_AGE) is
    # tried (SELECT 1) before each request uses it, so a database restart costs no request a
    # 500 (or /healthz a 503); the price is that round trip on every request, hence off.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("DATABASE_CONN_HEALTH_CHECKS", False)
    # Prepared statements: a statement a connection runs DATABASE_PREPARE_THRESHOLD times is
    # prepared on the server, so PostgreSQL stops planning it again on every request (planning
    # was a third of a list page's database time). It needs server-side parameter binding.
    # -1 turns it off (e.g. behind a PgBouncer older than 1.21 in transaction mode).
    _prepare = env_int("DATABASE_PREPARE_THRESHOLD", 5)
    if _prepare >= 0:
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=_prepare
        )
    # Parallel query: a search the planner overestimates (a LIKE over a trigram index) was
    # given two workers, whose start-up cost 6 of its 8 ms; a county-wide COUNT(*) gains 10%
    # from them. Pages are many small queries, so none by default; DATABASE_PARALLEL_WORKERS=n
    # allows n per query, -1 leaves the server's setting (e.g. behind a PgBouncer that refuses
    # start-up options).
    _parallel = env_int("DATABASE_PARALLEL_WORKERS", 0)
    if _parallel >= 0:
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
            f"-c max_parallel_workers_per_gather={_parallel}"
        )
# Reports that aggregate a year of a county's cases (the indicators) may use this many
# parallel workers per query (core.statements.with_workers); 0 turns it off.
REPORT_PARALLEL_WORKERS = env_int("DATABASE_REPORT_PARALLEL_WORKERS", 2)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend reading the user and their role assignments in one query.
    "minqing.accounts.backends.ScopedModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
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
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# 等级保护: automatic logout after 30 idle minutes (the expiry is renewed on every request).
# Django's database sessions, read with the signed-in user in one statement (see the module).
SESSION_ENGINE = "minqing.accounts.sessions"
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 30 * 60)
# Moved forward at most once a minute by core.middleware.IdleSessionMiddleware, not on every
# request (a write per page).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# The language switch's cookie too (it went without Secure behind HTTPS); Lax as the others.
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"

# 等级保护: lock an account for 15 minutes after 5 failed logins.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCK_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "minqing" / "locale"]
TIME_ZONE = env_timezone("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
try:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing folder
except OSError:
    pass  # read-only (an installed package without MINQING_VAR_DIR): collectstatic will say
STATICFILES_DIRS = [BASE_DIR / "minqing" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "minqing.core.static_storage.StaticStorage"},
}
WHITENOISE_USE_FINDERS = True

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts, styles, images, fonts and requests from this
# site only, so that text a user typed can never run as script even if it slipped past
# escaping, and no page can load anything from outside the intranet. No inline scripts or
# event handlers (the pages' JavaScript is in static files; core/tests/test_csp.py keeps it
# so); inline styles stay allowed (progress bars' widths, the print cards' <style>).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],  # the nonce only where a page uses it (print cards)
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

PAGE_SIZE = env_int("PAGE_SIZE", 20, low=1, high=500)
# Full ID or phone numbers one user may reveal in an hour (each audited with its reason).
REVEAL_LIMIT_PER_HOUR = env_int("REVEAL_LIMIT_PER_HOUR", 30, low=1)
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_MB", 20) * 1024 * 1024
# What a zipped spreadsheet (.xlsx, .ods) may unpack to: a 100 000-row ledger of 15 columns is
# ≈ 60 MB of XML, while a 1 MB file can unpack to gigabytes (registry.imports.extent).
IMPORT_MAX_UNZIPPED_BYTES = env_int("IMPORT_MAX_UNZIPPED_MB", 256) * 1024 * 1024

# Uploaded case photos. They are served only through a scoped view, never as public media.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
CASE_PHOTO_MAX_BYTES = env_int("CASE_PHOTO_MAX_MB", 10) * 1024 * 1024
# Where notifications go as text messages: a dotted path to a class with send(mobile, text).
MINQING_SMS_BACKEND = env_str("SMS_BACKEND", "minqing.core.sms.LoggingSmsBackend")
# The address residents reach minqing's public pages at (the receipt SMS names /track/ there).
MINQING_PUBLIC_URL = env_str("PUBLIC_URL", "").rstrip("/")
# The working hours that time limits in hours count in (minqing.core.workdays).
MINQING_WORKDAY_START = env_str("WORKDAY_START", "08:30")
MINQING_WORKDAY_END = env_str("WORKDAY_END", "17:30")

# Caches live in the database, the one store every app server shares (README: several gunicorn
# hosts on one PostgreSQL); cases migration 0003 creates the tables. "ratelimit" counts lookups
# on the public progress page: django-ratelimit needs atomic increments, which Django's own
# DatabaseCache lacks, so that backend increments under a row lock.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "minqing_cache",
        # The forms sent once (core.forms.once_*) are kept a day: at Django's default of 300
        # entries a busy office's would be culled within the hour, and sent twice after all.
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    },
    "ratelimit": {
        "BACKEND": "minqing.core.cache.AtomicDatabaseCache",
        "LOCATION": "minqing_ratelimit",
        "OPTIONS": {"MAX_ENTRIES": 100_000},  # culling early would forget counts
    },
}
RATELIMIT_USE_CACHE = "ratelimit"
# 查询办理进度: lookups (and ratings) per client IP, against guessing the 4 phone digits.
PUBLIC_LOOKUP_RATE = env_str("PUBLIC_LOOKUP_RATE", "20/10m")
if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", PUBLIC_LOOKUP_RATE):
    raise ImproperlyConfigured("PUBLIC_LOOKUP_RATE must look like 20/10m (count/period)")
# Behind a reverse proxy every request comes from the proxy: the META key of the header it sets
# with the client's address, e.g. HTTP_X_REAL_IP (nginx: proxy_set_header X-Real-IP
# $remote_addr). Empty: REMOTE_ADDR.
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# Lock by account, not by IP: a whole community office shares one intranet address, and one
# mistyping colleague must not lock everyone out.
# SQLite cannot index "NULLS NOT DISTINCT" (one time-limit row per stage/category/…, blanks
# included); PostgreSQL enforces it, and on both the admin's form validation checks it.
# templates.W003: the `i18n` library is ours on purpose (TEMPLATES "libraries" above replaces
# Django's, keeping all its tags; see minqing/core/templatetags/i18n_once.py).
SILENCED_SYSTEM_CHECKS = ["axes.W006", "models.W047", "templates.W003"]
