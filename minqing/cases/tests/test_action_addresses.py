"""A form shown again with its errors stays at its action's address, which takes only a POST.
The language switch on that page returns to the page the form came from, and the address opened
with GET (a bookmark, the history, another language) is a page saying why, with the way back —
not the browser's blank "HTTP ERROR 405"."""

import re

from django.test import Client


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def lang_next(html: str) -> str:
    return re.search(r'<input name="next" type="hidden" value="([^"]*)">', html).group(1)


def test_a_form_shown_again_switches_language_back_to_the_page_it_came_from(grid_a_worker, case_a):
    client = signed_in(grid_a_worker)
    page = f"/cases/{case_a.number}/"
    assert lang_next(client.get(page).content.decode()) == page
    answer = client.post(
        f"{page}act/cancel/", {"note": ""}, HTTP_REFERER=f"http://testserver{page}?tab=1"
    )
    assert answer.status_code == 400 and "请填写" in answer.content.decode()
    assert lang_next(answer.content.decode()) == f"{page}?tab=1"
    # Without a referer, or with another site's, it returns home.
    answer = client.post(f"{page}act/cancel/", {"note": ""}, HTTP_REFERER="https://evil.example/")
    assert lang_next(answer.content.decode()) == "/"
    # And the switch itself takes the reader there, in English.
    switched = client.post("/i18n/setlang/", {"language": "en", "next": page})
    assert switched.status_code == 302 and switched["Location"] == page


def test_an_action_address_opened_with_get_explains_and_links_to_its_page(grid_a_worker, case_a):
    client = signed_in(grid_a_worker)
    answer = client.get(f"/cases/{case_a.number}/act/cancel/")
    assert answer.status_code == 405 and answer["Allow"] == "POST"
    html = answer.content.decode()
    assert "这个地址不能直接打开" in html
    assert f'href="/cases/{case_a.number}/"' in html
    assert lang_next(html) == f"/cases/{case_a.number}/"
    assert client.head(f"/cases/{case_a.number}/act/cancel/").status_code == 405
    # Any POST-only page: a household's needs form leads back to the household.
    from minqing.registry.models import Household

    household = Household.objects.create(grid=case_a.grid, address="东门路3号")
    answer = client.get(f"/households/{household.pk}/needs/")
    assert answer.status_code == 405
    assert f'href="/households/{household.pk}/"' in answer.content.decode()


def test_the_api_and_open311_keep_their_own_405(grid_a_worker, db):
    client = signed_in(grid_a_worker)
    answer = client.get("/accounts/logout/")  # Django's own view, which signs out on POST only
    assert answer.status_code == 405 and "这个地址不能直接打开" in answer.content.decode()
    api = client.delete("/api/people")
    assert api.status_code == 405 and "这个地址不能直接打开" not in api.content.decode()
    o311 = client.put("/open311/v2/requests.json")
    assert o311.status_code == 405 and o311["Content-Type"] == "application/json"
