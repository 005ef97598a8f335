"""Causes of hardship decide the strategy (DOMAIN.md): a pure function."""

from minqing.assistance.strategies import (
    BRIDGE,
    CARE,
    GUIDANCE,
    PRODUCTION,
    RELIEF,
    strategies_for,
)


def codes(causes, ability=""):
    return [s.code for s in strategies_for(causes, ability)]


def test_attitude_calls_for_guidance():
    assert codes(["attitude"]) == [GUIDANCE]


def test_age_disability_illness_and_disaster_call_for_living_relief():
    for cause in ("age", "disability", "illness", "disaster"):
        assert codes([cause]) == [RELIEF], cause
    relief = strategies_for(["illness", "age"])[0]
    # In the order of the causes list, whatever order they were ticked in.
    assert relief.because == ("age", "illness")
    assert any("医疗" in m for m in relief.measures)


def test_lack_of_skills_capital_or_information_calls_for_production_support():
    s = strategies_for(["skills", "capital", "information"])[0]
    assert s.code == PRODUCTION and s.name == "生产扶持"
    words = "".join(str(m) for m in s.measures)
    for measure in ("技能培训", "就业岗位", "资金", "市场信息"):
        assert measure in words
    assert {"skills", "employment", "industry", "technology"} <= set(s.help_kinds)


def test_work_ability_chooses_bridge_or_family_care():
    assert codes([], "able") == [BRIDGE]
    assert codes([], "unable") == [CARE]
    assert codes([], "") == []


def test_several_causes_give_each_strategy_once_most_fundamental_first():
    assert codes(["skills", "illness", "attitude", "age"], "unable") == [
        GUIDANCE,
        RELIEF,
        PRODUCTION,
        CARE,
    ]


def test_unknown_causes_are_ignored():
    assert codes(["nonsense", "<script>"], "maybe") == []


def test_the_strategies_read_in_the_readers_language():
    from django.utils import translation

    with translation.override("en"):
        s = strategies_for(["skills"], "unable")
        assert [str(x.name) for x in s] == [
            "Production support",
            "Family-like care (unable to work)",
        ]
        assert "Skills training" in [str(m) for m in s[0].measures]
