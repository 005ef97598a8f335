"""core.memo: small tables kept in-process — reused, forgotten on an edit, never kept from a
transaction that may roll back."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from minqing.core.memo import Cached, clear_all, forget_on_change
from minqing.registry import selectors
from minqing.registry.models import Tag

pytestmark = pytest.mark.django_db(transaction=True)


def _names() -> list[str]:
    return sorted(Tag.objects.values_list("name", flat=True))


def test_a_committed_read_is_kept_and_an_edit_forgets_it():
    cached = Cached(_names)
    forget_on_change(cached, Tag)
    Tag.objects.create(name="测试甲")
    first = cached.get()
    with CaptureQueriesContext(connection) as ctx:
        assert cached.get() == first
    assert len(ctx.captured_queries) == 0
    Tag.objects.create(name="测试乙")  # post_save: this process forgets at once
    assert "测试乙" in cached.get()
    Tag.objects.filter(name="测试乙").update(name="测试丙")  # no signal: kept until the ttl
    assert "测试丙" not in cached.get()
    cached.ttl = 0
    assert "测试丙" in cached.get()


def test_a_read_inside_a_transaction_is_never_kept():
    cached = Cached(_names)
    with transaction.atomic():
        Tag.objects.create(name="未提交")
        assert "未提交" in cached.get()
        transaction.set_rollback(True)
    assert "未提交" not in cached.get()


def test_the_tag_drop_down_hides_sensitive_groups_from_users_without_the_reveal_right(
    grid_a_worker, cadre
):
    clear_all()
    Tag.objects.create(name="普通组", sensitive=False)
    Tag.objects.create(name="敏感组", sensitive=True)
    secret = Tag.objects.get(name="敏感组")
    for user, sees_secret in ((cadre, False), (grid_a_worker, True)):
        names = [t.name for t in selectors.tag_choices(user)]
        assert "普通组" in names and ("敏感组" in names) == sees_secret
        assert (selectors.tag_choice(user, str(secret.pk)) == secret) == sees_secret
        assert selectors.tag_choices(user) == list(
            selectors.visible_tags(user).order_by("sort", "id")
        )
    assert selectors.tag_choice(cadre, "x1") is None
    assert selectors.tag_choice(cadre, "9" * 12) is None


def test_a_group_created_elsewhere_moments_ago_is_found_by_its_id(grid_a_worker):
    clear_all()
    assert selectors.tag_choices(grid_a_worker) is not None  # the copy is filled
    Tag.objects.bulk_create([Tag(name="刚建的组")])  # no signal: the copy is now stale
    new = Tag.objects.get(name="刚建的组")
    assert "刚建的组" not in [t.name for t in selectors.tag_choices(grid_a_worker)]
    assert selectors.tag_choice(grid_a_worker, str(new.pk)) == new
