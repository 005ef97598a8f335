"""Chinese (zh-Hans) by default, English on request through the language switch."""

import ast
import gettext
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from django.conf import settings

from conftest import login

PO = settings.BASE_DIR / "minqing" / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def nav(html: str) -> str:
    return re.search(r'<nav class="nav" id="nav">(.*?)</nav>', html, re.S).group(1)


def test_the_interface_is_chinese_by_default(client, grid_a_worker):
    login(client, grid_a_worker)
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "家庭户" in nav(html) and "Households" not in nav(html)
    assert 'value="en">English</button>' in html


def test_the_language_switch_turns_the_interface_english_and_back(client, grid_a_worker):
    login(client, grid_a_worker)
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/people/"})
    assert switched.status_code == 302 and switched["Location"] == "/people/"

    home = client.get("/").content.decode()
    assert '<html lang="en">' in home
    assert "Households" in nav(home) and "Home" in nav(home)
    assert "家庭户" not in nav(home)
    assert 'value="zh-hans">中文</button>' in home
    assert "东门社区第1网格" in home  # data stays as entered

    people = client.get("/people/").content.decode()
    assert 'placeholder="Name, pinyin, initials' in people and "<h1>People</h1>" in people

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "家庭户" in nav(client.get("/").content.decode())


def test_the_login_page_follows_the_chosen_language(client):
    assert "民情 · 登录" in client.get("/accounts/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert "Minqing · Sign in" in client.get("/accounts/login/").content.decode()


def _po_entries(po=PO) -> dict[str, str]:
    """msgid (with "ctx\\x04" prefix when it has a context) -> first msgstr, from a .po file."""
    entries = {}
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            m = re.match(r"^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) (\".*\")$", line)
            if m:
                key = m.group(1)
                fields[key] = json.loads(m.group(2))
            elif line.startswith('"') and key:
                fields[key] += json.loads(line)
        if fields.get("msgid"):
            msgid = fields["msgid"]
            if "msgctxt" in fields:
                msgid = f"{fields['msgctxt']}\x04{msgid}"
            entries[msgid] = fields.get("msgstr", fields.get("msgstr[0]", ""))
    return entries


def test_every_english_message_is_translated_and_compiled():
    entries = _po_entries()
    assert len(entries) > 100
    untranslated = [msgid for msgid, msgstr in entries.items() if not msgstr]
    assert untranslated == []
    with MO.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)._catalog
    compiled = {k if isinstance(k, str) else k[0] for k in catalog}
    stale = [msgid for msgid in entries if msgid not in compiled]
    assert stale == [], "run: python manage.py compilemessages -l en --ignore=.venv"


def test_every_message_in_the_code_and_templates_is_in_the_catalogue(tmp_path):
    """A label added without its English (a model's verbose_name, a template's text) would show
    in Chinese to English users: makemessages, run on a copy of the code, must find no message
    the committed catalogue lacks."""
    if shutil.which("xgettext") is None:  # .ci/run installs it, as it does Chromium
        pytest.skip("the catalogue check needs gettext's xgettext (apt-get install gettext)")
    source = settings.BASE_DIR
    copy = tmp_path / "src"
    copy.mkdir()
    shutil.copy(source / "manage.py", copy / "manage.py")
    shutil.copytree(
        source / "minqing",
        copy / "minqing",
        ignore=shutil.ignore_patterns("static", "__pycache__", "*.mo", "tests"),
    )
    before = PO.read_bytes()
    run = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-obsolete"],
        cwd=copy,
        env={**os.environ, "MINQING_DEV": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert PO.read_bytes() == before, "makemessages wrote into the repository, not the copy"
    found = _po_entries(copy / "minqing" / "locale" / "en" / "LC_MESSAGES" / "django.po")
    committed = _po_entries()
    missing = sorted(m for m, text in found.items() if not committed.get(m))
    assert len(found) > 1000
    assert missing == [], "add their English to the .po and compile it"


GETTEXT_CALLS = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy", "ngettext"}


def test_no_text_is_translated_inside_an_f_string():
    """xgettext does not look inside f-strings: a text translated there never reaches the
    catalogue, and the check above cannot see it. Translate it first, then format."""
    found = []
    for path in (settings.BASE_DIR / "minqing").rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.JoinedStr):
                continue
            for call in ast.walk(node):
                name = getattr(getattr(call, "func", None), "id", None)
                if isinstance(call, ast.Call) and name in GETTEXT_CALLS:
                    found.append(f"{path.relative_to(settings.BASE_DIR)}:{call.lineno}")
    assert found == []


HAN = re.compile(r"[\u4e00-\u9fff]")


def test_the_assistance_duties_secondments_and_campaign_pages_are_english(client, county_officer):
    login(client, county_officer)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    pages = {
        "/assistance/": ("<h1>Pairing assistance</h1>", "<h1>结对帮扶</h1>", "Programme"),
        "/duties/": ("<h1>Officers", "<h1>干部直接联系群众", "On-target rate"),
        "/secondments/": ("<h1>Team dispatch", "<h1>组团派驻", "Sending unit"),
        "/visits/campaigns/": ("<h1>Visit campaigns</h1>", "<h1>走访活动</h1>", "Completion"),
    }
    for url, (english, chinese, label) in pages.items():
        html = client.get(url).content.decode()
        assert english in html and label in html, url
        assert chinese not in html, url
        # Headings and column headers are interface text; data only appears in <small>.
        for tag in re.findall(r"<(?:h1|h2|th)\b[^>]*>(.*?)</(?:h1|h2|th)>", html, re.S):
            text = re.sub(r"<small\b.*?</small>|<[^>]+>", "", tag, flags=re.S)
            assert not HAN.search(text), (url, text)


def test_household_and_person_forms_label_their_fields_in_english(client, community_worker):
    """Form labels come from the models' verbose names, which are translated like the rest."""
    login(client, community_worker)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    for url, label in (("/households/new/", "Floor area (m²)"), ("/people/new/", "Date of birth")):
        html = client.get(url).content.decode()
        # Field labels; the tag checkboxes' labels are data (tag names), not interface text.
        labels = [
            re.sub(r"<[^>]+>", "", text).strip()
            for attrs, text in re.findall(r"<label\b([^>]*)>(.*?)</label>", html, re.S)
            if "id_tags_" not in attrs
        ]
        assert label in labels, url
        assert [text for text in labels if HAN.search(text)] == [], url


def test_the_duty_month_is_named_in_the_pages_language(client, county_officer):
    from django.utils import timezone

    today = timezone.localdate()
    login(client, county_officer)
    assert f"{today.year}年{today.month}月" in client.get("/duties/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/duties/").content.decode()
    assert f"{today:%B} {today.year}" in html and f"{today.year}年" not in html


def test_a_required_field_is_worded_as_the_services_word_it():
    """Django's "这个字段是必填项。" is overridden (minqing/locale/zh_Hans): a form's own check and
    a service's check on the same page say "此项必填。" alike."""
    from django import forms
    from django.utils import translation

    from minqing.registry.services import ERR_REQUIRED

    class Form(forms.Form):
        name = forms.CharField()

    with translation.override("zh-hans"):
        form = Form({})
        assert form.errors["name"] == [str(ERR_REQUIRED)] == ["此项必填。"]
    with translation.override("en"):
        assert Form({}).errors["name"] == ["This field is required."]


def test_no_message_to_a_user_is_chinese_written_out():
    """A ValidationError, a flash message or a form error written as a bare Chinese literal is
    never translated (xgettext only sees _()): English pages showed 面积不能为负数。 and 令牌已作废。"""
    import ast
    import pathlib

    cjk = re.compile(r"[\u4e00-\u9fff]")

    def literal(node) -> bool:
        return isinstance(node, ast.Constant | ast.JoinedStr) and bool(
            cjk.search(ast.unparse(node))
        )

    found = []
    root = pathlib.Path(settings.BASE_DIR) / "minqing"
    for path in root.rglob("*.py"):
        if {"tests", "migrations"} & set(path.parts) or "demo" in path.name:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            said = []
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                if (
                    name in ("error", "success", "info", "warning")
                    and getattr(node.func, "value", None) is not None
                    and getattr(node.func.value, "id", "") == "messages"
                ):
                    said = node.args[1:2]
                elif name == "ValidationError" and node.args:
                    first = node.args[0]
                    said = first.values if isinstance(first, ast.Dict) else [first]
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Subscript) and getattr(t.value, "id", "") == "errors"
                for t in node.targets
            ):
                said = [node.value]
            found += [f"{path.relative_to(root)}:{node.lineno}" for n in said if literal(n)]
    assert found == []
