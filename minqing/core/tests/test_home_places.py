"""The home page's list of places: a worker's grids, or above a community's worth of grids the
places one level down (a county has thousands of grids; sixty of them said nothing)."""

from minqing.core import views


def test_a_grid_worker_sees_their_grid(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    page = client.get("/").content.decode()
    assert "我的网格" in page and f'href="/tree/{tree["grid_a"].code}/"' in page


def test_a_county_with_more_grids_than_fit_lists_its_streets(
    client, monkeypatch, county_officer, tree
):
    monkeypatch.setattr(views, "HOME_GRIDS", 2)
    client.force_login(county_officer)
    page = client.get("/").content.decode()
    assert f"{tree['county'].name}下辖" in page and "共 3 个网格" in page
    assert f'href="/tree/{tree["street"].code}/"' in page
    assert f'href="/tree/{tree["grid_a"].code}/"' not in page
    monkeypatch.setattr(views, "HOME_GRIDS", 60)  # few enough: the grids themselves
    page = client.get("/").content.decode()
    assert f'href="/tree/{tree["grid_a"].code}/"' in page and "下辖" not in page
