"""Pinyin keys: a surname read otherwise than its character's usual readings (QA: 单雄信)."""

import pytest

from minqing.core.pinyin import pinyin_keys


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        ("单雄信", "shanxiongxin", "sxx"),  # pypinyin: dan, chan, shan — two were kept
        ("仇小莉", "qiuxiaoli", "qxl"),
        ("朴正浩", "piaozhenghao", "pzh"),
        ("尉迟恭", "yuchigong", "ycg"),  # a compound surname
        ("曾小明", "zengxiaoming", "zxm"),
        ("张三", "zhangsan", "zs"),
    ],
)
def test_a_surname_is_found_by_how_it_is_read_as_a_surname(name, full, initials):
    fulls, inits = pinyin_keys(name)
    assert full in fulls.split() and initials in inits.split()


def test_the_usual_reading_is_kept_beside_the_surnames():
    fulls, inits = pinyin_keys("单雄信")
    assert "danxiongxin" in fulls.split() and "dxx" in inits.split()


def test_registry_0013_gives_people_on_file_the_surnames_reading(db, grid_a_worker, tree):
    import importlib

    from django.apps import apps

    from minqing.registry import services
    from minqing.registry.models import Person
    from minqing.registry.selectors import person_search

    p = services.person_create(acting_user=grid_a_worker,
                               data={"name": "单雄信", "grid": tree["grid_a"]})  # fmt: skip
    Person.objects.filter(pk=p.pk).update(name_pinyin="danxiongxin", name_initials="dxx")
    assert not person_search(grid_a_worker, q="sxx").filter(pk=p.pk).exists()
    importlib.import_module("minqing.registry.migrations.0013_surname_readings").rekey(apps, None)
    assert person_search(grid_a_worker, q="sxx").filter(pk=p.pk).exists()
    assert person_search(grid_a_worker, q="shanxiongxin").filter(pk=p.pk).exists()
