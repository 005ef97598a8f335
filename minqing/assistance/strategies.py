"""Matching strategies (因户施策) from a target's causes of hardship and work ability.

DOMAIN.md: attitude (等靠要) → 思想引导; age, disability, illness, disaster → 生活救助; lack of
skills, capital or information → 生产扶持 (技能培训、就业岗位、资金、市场信息). Households able to
work get 架桥帮扶 (bridges to jobs and markets), those unable 亲情帮扶 (care like family).

A pure function of its arguments: no database, no clock; the pages, the API and the tests call it.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from minqing.assistance.models import Cause, HelpKind, WorkAbility


@dataclass(frozen=True)
class Strategy:
    code: str
    name: str  # lazily translated, as the measures: read in the page's language
    because: tuple[str, ...]  # the cause codes (or work ability) that call for it
    measures: tuple[str, ...]  # what to do, in words
    help_kinds: tuple[str, ...] = field(default=())  # HelpKind values that fit


GUIDANCE = "guidance"
RELIEF = "relief"
PRODUCTION = "production"
BRIDGE = "bridge"
CARE = "care"

_RELIEF_CAUSES = (Cause.AGE, Cause.DISABILITY, Cause.ILLNESS, Cause.DISASTER)
_PRODUCTION_MEASURES = {
    Cause.SKILLS: (_("技能培训"), _("推荐就业岗位")),
    Cause.CAPITAL: (_("扶持资金、小额贷款"),),
    Cause.INFORMATION: (_("提供市场信息"),),
}
_RELIEF_MEASURES = {
    Cause.AGE: (_("生活照料、定期看望"),),
    Cause.DISABILITY: (_("残疾人补贴与康复服务"),),
    Cause.ILLNESS: (_("医疗救助、送医送药"),),
    Cause.DISASTER: (_("临时救助、灾后重建"),),
}


def strategies_for(causes: Iterable[str], work_ability: str = "") -> list[Strategy]:
    """The strategies that fit, most fundamental first; unknown cause codes are ignored."""
    given = [c for c in Cause.values if c in set(causes or ())]
    out: list[Strategy] = []
    if Cause.ATTITUDE in given:
        out.append(
            Strategy(
                GUIDANCE,
                _("思想引导"),
                (Cause.ATTITUDE.value,),
                (_("谈心谈话，破除“等靠要”思想"), _("宣讲政策，树立脱困信心"), _("身边典型引路")),
                (HelpKind.POLICY.value, HelpKind.EMOTIONAL.value),
            )
        )
    relief = [c for c in given if c in _RELIEF_CAUSES]
    if relief:
        out.append(
            Strategy(
                RELIEF,
                _("生活救助"),
                tuple(relief),
                (_("落实低保、特困等兜底政策"),) + sum((_RELIEF_MEASURES[c] for c in relief), ()),
                (HelpKind.LIVING.value, HelpKind.GOODS.value, HelpKind.HEALTH.value),
            )
        )
    production = [c for c in given if c in _PRODUCTION_MEASURES]
    if production:
        kinds = [HelpKind.PRODUCTION.value]
        if Cause.SKILLS in production:
            kinds += [HelpKind.SKILLS.value, HelpKind.EMPLOYMENT.value]
        if Cause.CAPITAL in production:
            kinds.append(HelpKind.INDUSTRY.value)
        if Cause.INFORMATION in production:
            kinds.append(HelpKind.TECHNOLOGY.value)
        out.append(
            Strategy(
                PRODUCTION,
                _("生产扶持"),
                tuple(production),
                sum((_PRODUCTION_MEASURES[c] for c in production), ()),
                tuple(kinds),
            )
        )
    if work_ability == WorkAbility.ABLE:
        out.append(
            Strategy(
                BRIDGE,
                _("架桥帮扶"),
                (WorkAbility.ABLE.value,),
                (_("牵线就业岗位与产业项目"), _("对接市场与销路")),
                (HelpKind.EMPLOYMENT.value, HelpKind.LABOUR.value),
            )
        )
    elif work_ability == WorkAbility.UNABLE:
        out.append(
            Strategy(
                CARE,
                _("亲情帮扶"),
                (WorkAbility.UNABLE.value,),
                (_("像亲人一样定期看望、陪伴"), _("节日慰问，解决生活难处")),
                (HelpKind.EMOTIONAL.value, HelpKind.VISIT.value),
            )
        )
    return out
