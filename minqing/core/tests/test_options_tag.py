"""The `options` template tag writes a filter's drop-down, the chosen value marked."""

from django.template import Context, Template

from minqing.registry.models import Sex, Tag


def render(choices, selected) -> str:
    template = Template("{% load minqing_tags %}{% options choices selected %}")
    return template.render(Context({"choices": choices, "selected": selected}))


def test_pairs_mark_the_chosen_value_and_escape_labels():
    html = render([("a", "甲 & 乙"), ("b", "<b>")], "b")
    assert html == (
        '<option value="a">甲 &amp; 乙</option><option value="b" selected>&lt;b&gt;</option>'
    )


def test_instances_use_their_key_and_name_and_nothing_is_chosen_by_default():
    tags = [Tag(pk=3, name="低保"), Tag(pk=12, name="空巢")]
    assert render(tags, tags[1]).count(" selected") == 1
    assert '<option value="12" selected>空巢</option>' in render(tags, tags[1])
    assert " selected" not in render(tags, None) and " selected" not in render(tags, "")
    assert '<option value="3" selected>' in render(tags, "3")


def test_an_unknown_variable_chooses_nothing():
    template = Template("{% load minqing_tags %}{% options choices missing.value %}")
    html = template.render(Context({"choices": Sex.choices}))
    assert html.count("<option") == len(Sex.choices) and " selected" not in html


def test_the_people_list_keeps_the_chosen_filters(client, grid_a_worker):
    tag = Tag.objects.create(name="测试类别")
    client.force_login(grid_a_worker)
    html = client.get(f"/people/?tag={tag.pk}&sex=F").content.decode()
    assert f'<option value="{tag.pk}" selected>测试类别</option>' in html
    assert '<option value="F" selected>' in html
