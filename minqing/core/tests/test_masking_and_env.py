import pytest
from django.core.exceptions import ImproperlyConfigured

from minqing.core import env
from minqing.core.masking import mask_id_number, mask_phone
from minqing.core.phone import is_valid_phone, normalise_phone


def test_it_masks_as_the_issue_shows():
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("") == "" and mask_phone(None) == ""


@pytest.mark.parametrize(
    "raw", ["13812345678", "+86 138 1234 5678", "0571-87654321", "057187654321"]
)
def test_it_accepts_real_phone_numbers(raw):
    assert is_valid_phone(normalise_phone(raw))


@pytest.mark.parametrize("raw", ["1381234567", "23812345678", "12345", "abc", "13٨٠٠١٣٨٠٠٠"])
def test_it_rejects_wrong_phone_numbers(raw):
    assert not is_valid_phone(normalise_phone(raw))


@pytest.mark.parametrize(
    "raw, stored",
    [
        ("13８００１３８００１", "13800138001"),
        ("＋８６ １３８ ００１３ ８００１", "13800138001"),
        ("０５７１－８７６５４３２１", "0571-87654321"),
    ],
)
def test_full_width_digits_are_stored_as_digits(raw, stored):
    """The last four of a phone stored as ８００１ matched neither /track/ nor the search."""
    assert normalise_phone(raw) == stored and is_valid_phone(stored)


@pytest.mark.parametrize(
    "raw, stored",
    [
        ("138-0013-8000", "13800138000"),
        ("138.0013.8000", "13800138000"),
        ("+86-13800138000", "13800138000"),
        ("86-13800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("0571-88881234", "0571-88881234"),  # a landline stays as written
        ("(0571)88881234", "0571-88881234"),
    ],
)
def test_a_mobile_with_separators_or_a_country_code_is_stored_as_its_11_digits(raw, stored):
    assert normalise_phone(raw) == stored and is_valid_phone(stored)


def test_env_fails_loudly_on_bad_values(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured):
        env.env_bool("DEBUG", False)
    monkeypatch.setenv("TIME_ZONE", "Mars/Olympus")
    with pytest.raises(ImproperlyConfigured):
        env.env_timezone("TIME_ZONE", "Asia/Shanghai")
    monkeypatch.setenv("DATABASE_URL", "mysql://x@y/z")
    with pytest.raises(ImproperlyConfigured):
        env.env_database("DATABASE_URL", "sqlite:///x")
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    for bad in ("-1", "ten"):
        monkeypatch.setenv("DATABASE_CONN_MAX_AGE", bad)
        with pytest.raises(ImproperlyConfigured):
            env.env_database("DATABASE_URL", "sqlite:///x")
    monkeypatch.setenv("PAGE_SIZE", "twenty")
    with pytest.raises(ImproperlyConfigured):
        env.env_int("PAGE_SIZE", 20)


def test_env_reads_good_values(monkeypatch):
    monkeypatch.setenv("DEBUG", "true")
    monkeypatch.setenv("ALLOWED_HOSTS", "a.gov.cn, b.gov.cn")
    assert env.env_bool("DEBUG", False) is True
    assert env.env_list("ALLOWED_HOSTS", []) == ["a.gov.cn", "b.gov.cn"]
    config = env.env_database("NOPE", "postgres://postgres@127.0.0.1:5432/test")
    assert config["ENGINE"].endswith("postgresql") and config["CONN_MAX_AGE"] == 600
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "0")  # a connection per request
    assert env.env_database("NOPE", "postgres://postgres@127.0.0.1:5432/test")["CONN_MAX_AGE"] == 0


def test_healthz_answers_when_the_database_answers(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_postgresql_connections_run_queries_without_parallel_workers(db):
    """settings: DATABASE_PARALLEL_WORKERS (default 0) reaches every connection's session."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"


@pytest.mark.django_db
def test_phones_stored_with_full_width_digits_are_stored_again_as_ascii(grid_a_worker, tree):
    """registry 0010 and cases 0016: the last four of such a phone never matched a search."""
    import importlib

    from django.apps import apps

    from minqing.cases.models import Case
    from minqing.registry.models import Person

    person = Person.objects.create(name="全角", grid=tree["grid_a"], phone="13８００１３８００１")
    Person.objects.filter(pk=person.pk).update(phone_last4="８００１")
    importlib.import_module("minqing.registry.migrations.0010_phone_ascii_digits").ascii_digits(
        apps, None
    )
    person.refresh_from_db()
    assert (person.phone, person.phone_last4) == ("13800138001", "8001")
    from minqing.cases import services

    case = services.case_accept(
        acting_user=grid_a_worker,
        data={"category": "0601", "description": "路灯不亮。", "grid": tree["grid_a"]},
    )
    Case.objects.filter(pk=case.pk).update(reporter_phone_last4="８００１")
    case.reporter_phone = "13８００１３８００１"
    case.save(update_fields=["reporter_phone"])
    importlib.import_module("minqing.cases.migrations.0016_phone_ascii_digits").ascii_digits(
        apps, None
    )
    case.refresh_from_db()
    assert (case.reporter_phone, case.reporter_phone_last4) == ("13800138001", "8001")


KEY_A = "q0i3nzj6N0mQd8X0p4sM8xQ2m0o9H7w6b6pV2m1yQxE="
KEY_B = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg="


@pytest.mark.parametrize(
    "bad, said",
    [
        ({"PAGE_SIZE": "0"}, "PAGE_SIZE='0' is out of range"),
        ({"WORKDAY_START": "8h30"}, "ImproperlyConfigured: WORKDAY_START must be a time"),
        ({"ALLOWED_HOSTS": "https://minqing.county.gov.cn/"}, "is a URL"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS is empty"),
        ({"SMS_BACKEND": "no.such.Backend"}, "SMS_BACKEND='no.such.Backend' cannot be imported"),
        ({"MINQING_INDEX_KEY": "xx"}, "MINQING_INDEX_KEY: a key must be 32 bytes"),
        ({"MINQING_DATA_KEYS": "k1:c2hvcnQ="}, "MINQING_DATA_KEYS[k1]: a key must be 32 bytes"),
        ({"MINQING_DATA_KEYS": f"k3:{KEY_A},k3:{KEY_B}"}, "the key id 'k3' is given twice"),
        (
            {
                "MINQING_DEV": "",
                "SECRET_KEY": "a" * 40,
                "MINQING_DATA_KEYS": f"k1:{KEY_A}",
                "MINQING_INDEX_KEY": KEY_B,
            },
            "SECRET_KEY is guessable",
        ),  # fmt: skip
        (
            {
                "MINQING_DEV": "",
                "SECRET_KEY": "django-insecure-" + "x1y2z3" * 8,
                "MINQING_DATA_KEYS": f"k1:{KEY_A}",
                "MINQING_INDEX_KEY": KEY_B,
            },
            "guessable",
        ),  # fmt: skip
    ],
)
def test_a_bad_setting_stops_the_start_up_not_the_first_page(bad, said):
    """QA (ops): these started a server that answered /healthz and then 500 on every page (or
    a sweep that logged a traceback per SMS); `django.setup()` — what gunicorn and every
    command run first — refuses them now, saying which variable and why."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "minqing.settings",
            "MINQING_DEV": "1",
            **bad,
        },  # fmt: skip
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and said in result.stderr, result.stderr


def test_the_language_cookie_is_secure_where_the_session_is(client, db, settings):
    settings.LANGUAGE_COOKIE_SECURE = True  # what SECURE_COOKIES=true sets, with the others
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    cookie = r.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie["secure"] and cookie["samesite"] == "Lax"
