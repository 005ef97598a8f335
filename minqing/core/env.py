"""Environment helpers that fail loudly: a typo in production config must stop the start-up."""

import os
import zoneinfo

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Environment variable {name} is required")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false)")


def env_int(name: str, default: int, *, low: int | None = None, high: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"{low if low is not None else '…'} to {high if high is not None else '…'}"
        raise ImproperlyConfigured(f"{name}={raw!r} is out of range ({bounds})")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_hosts(name: str, default: list[str]) -> list[str]:
    """ALLOWED_HOSTS: host names, not URLs (with a scheme or a path every request answered 400)."""
    hosts = env_list(name, default)
    if not hosts:
        raise ImproperlyConfigured(f"{name} is empty: every request would be refused")
    for host in hosts:
        if "://" in host or "/" in host:
            raise ImproperlyConfigured(
                f"{name}: {host!r} is a URL; give the host name only (e.g. minqing.example.gov.cn)"
            )
    return hosts


def env_timezone(name: str, default: str) -> str:
    value = os.environ.get(name, default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name}={value!r} is not a known time zone") from None
    return value


def env_database(name: str, default: str) -> dict:
    import dj_database_url

    raw = os.environ.get(name, default)
    # How long an app server keeps its database connection (seconds). Long: a new connection
    # costs a few milliseconds and loses the statements PostgreSQL had prepared for it.
    max_age = env_int("DATABASE_CONN_MAX_AGE", 600)
    if max_age < 0:
        raise ImproperlyConfigured(f"DATABASE_CONN_MAX_AGE={max_age} must be 0 or more")
    try:
        config = dj_database_url.parse(raw, conn_max_age=max_age)
    except Exception as exc:  # the library raises several kinds; all mean the same here
        raise ImproperlyConfigured(f"{name}={raw!r} is not a database URL: {exc}") from None
    if config["ENGINE"] not in (
        "django.db.backends.sqlite3",
        "django.db.backends.postgresql",
    ):
        raise ImproperlyConfigured(f"{name}: only sqlite:// and postgres:// are supported")
    return config
