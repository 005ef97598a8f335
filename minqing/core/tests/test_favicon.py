"""Every page has the app's icon: browsers ask /favicon.ico where a page names none (the
admin, the error pages, the printable cards, which stay self-contained)."""

from django.templatetags.static import static

ICON = static("minqing/favicon.svg")
LINK = f'<link rel="icon" href="{ICON}" type="image/svg+xml">'


def test_favicon_ico_leads_to_the_apps_icon(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == ICON
    assert client.get("/favicon.ico", follow=True).status_code == 200


def test_the_residents_progress_page_names_its_icon(client, db):
    assert LINK in client.get("/track/").content.decode()
