"""The Content-Security-Policy: scripts from this site only, so every page's JavaScript lives in
static files — no inline <script> and no on…= handler in any template — and no page loads
anything from outside the intranet (the API docs' Swagger UI included)."""

import re
from pathlib import Path

import pytest

from conftest import login

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# An inline script is allowed only with this response's nonce (the print cards, which load nothing).
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")"
    r"(?![^>]*nonce=\"\{\{ request\.csp_nonce \}\}\")[^>]*>",
    re.I,
)
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)


def templates() -> list[Path]:
    found = sorted(TEMPLATES.rglob("*.html"))
    assert len(found) > 50
    return found


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    for path in templates():
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, HANDLER):
            offenders += [
                f"{path.relative_to(TEMPLATES)}: {m[0][:60]}" for m in pattern.finditer(text)
            ]
    assert offenders == []


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        '<script type="module">x()</script>',
        '<form onsubmit="return confirm(1)">',
        "<button ONCLICK='x()'>",
    ],
)
def test_the_scan_finds_what_it_looks_for(text):
    assert INLINE_SCRIPT.search(text) or HANDLER.search(text)


@pytest.mark.parametrize(
    "text",
    [
        '<script src="/static/x.js" defer></script>',
        '<script type="application/json" id="d">{}</script>',
        '<form data-confirm="确定？">',
        '<script nonce="{{ request.csp_nonce }}">x()</script>',
    ],
)
def test_the_scan_lets_the_allowed_forms_be(text):
    assert not INLINE_SCRIPT.search(text) and not HANDLER.search(text)


def directives(response) -> dict[str, set[str]]:
    header = response["Content-Security-Policy"]
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = set(values)
    return out


@pytest.mark.parametrize("path", ["/accounts/login/", "/healthz", "/api/docs", "/track/"])
def test_every_answer_carries_the_policy(client, path):
    policy = directives(client.get(path))
    assert policy["script-src"] == {"'self'"}
    assert policy["default-src"] == {"'self'"}
    assert policy["object-src"] == {"'none'"}
    assert policy["frame-ancestors"] == {"'none'"}


def test_a_signed_in_page_carries_it_too(client, grid_a_worker):
    login(client, grid_a_worker)
    assert directives(client.get("/people/"))["script-src"] == {"'self'"}


def test_the_api_docs_load_nothing_from_outside(client):
    html = client.get("/api/docs").content.decode()
    assert "swagger-ui-bundle.js" in html
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html), html
    assert not INLINE_SCRIPT.search(html)


def test_the_print_cards_inline_script_carries_this_responses_nonce(client, grid_a_worker, tree):
    """The print cards load nothing (self-contained for printing); their print button's one
    inline line runs under a nonce that changes with every answer."""
    from minqing.registry.models import Household

    household = Household.objects.create(grid=tree["grid_a"], address="人民路1号")
    client.force_login(grid_a_worker)
    nonces = []
    for _ in range(2):
        response = client.get(f"/cards/household/{household.pk}/")
        assert response.status_code == 200
        [nonce] = [v for v in directives(response)["script-src"] if v.startswith("'nonce-")]
        assert f'<script nonce="{nonce[7:-1]}">' in response.content.decode()
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
