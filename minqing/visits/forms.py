"""UI forms: they only convert types and offer choices; the rules live in visits.services."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minqing.registry.models import NeedKind, Tag
from minqing.visits.models import Campaign, CampaignKind, TargetRule, VisitClass, VisitMode
from minqing.visits.services import ERR_GIFT_AMOUNT, team_candidates

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class _Styled:
    def _style(self):
        for f in self.fields.values():
            widget = f.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                continue
            widget.attrs.setdefault("class", "input")


class VisitForm(_Styled, forms.Form):
    visited_at = forms.DateTimeField(
        label=_("走访时间"),
        required=False,  # empty: now
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    mode = forms.ChoiceField(
        label=_("方式"), choices=VisitMode.choices, initial=VisitMode.HOME, widget=forms.RadioSelect
    )
    members_met = forms.ModelMultipleChoiceField(
        label=_("见到的家庭成员"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    visitors = forms.ModelMultipleChoiceField(
        label=_("同行的组团成员"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("您本人已自动记为走访人。"),
    )
    other_visitors = forms.CharField(
        label=_("其他同行人员"),
        max_length=200,
        required=False,
        help_text=_("没有账号的人员，如楼组长、志愿者。"),
    )
    seen = forms.CharField(
        label=_("走访情况"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": _("家中情况、生活状况、见到了什么")}
        ),
    )
    opinions = forms.CharField(
        label=_("意见建议与诉求"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("群众反映的问题、意见和要求")}),
    )
    need_kind = forms.ChoiceField(
        label=_("更新需求/资源"), choices=NeedKind.choices, initial=NeedKind.NEED, required=False
    )
    need_category = forms.CharField(
        label=_("需求类别"), max_length=30, required=False, help_text=_("如：就业、医疗、维修")
    )
    need_description = forms.CharField(label=_("需求内容"), max_length=300, required=False)
    campaign = forms.ModelChoiceField(
        label=_("走访活动"),
        queryset=None,
        required=False,
        empty_label=_("（不属于走访活动）"),
        help_text=_("活动期间内的走访，不选也会计入活动进度。"),
    )
    gift_goods = forms.CharField(
        label=_("慰问品"), max_length=100, required=False, help_text=_("如：米一袋、油一桶")
    )
    gift_amount = forms.DecimalField(
        label=_("慰问金（元）"),
        required=False,
        # Only read here; visits.services checks the amount (its one sentence, instead of
        # Django's one or two per bound, one of them ending in an English full stop).
        error_messages={"invalid": ERR_GIFT_AMOUNT},
    )

    def __init__(self, *args, household, candidates, user, campaigns=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members_met"].queryset = household.members.order_by("id")
        self.fields["visitors"].queryset = candidates.exclude(pk=user.pk)
        self.fields["visitors"].label_from_instance = lambda u: str(u)
        self.fields["campaign"].queryset = (
            campaigns if campaigns is not None else Campaign.objects.none()
        )
        if not self.is_bound:
            self.initial.setdefault("visited_at", timezone.localtime().replace(second=0))
        self._style()

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["visitors"] = list(data.get("visitors") or [])
        data["members_met"] = list(data.get("members_met") or [])
        return data


class VisitCorrectForm(VisitForm):
    """更正: the visit's own fields and why (the household, campaign and needs stay)."""

    reason = forms.CharField(
        label=_("更正原因"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("如：走访时间记错")}),
    )

    def __init__(self, *args, visit, user, **kwargs):
        super().__init__(
            *args,
            household=visit.household,
            candidates=team_candidates(visit.household),
            user=visit.created_by or user,  # the recorder stays a visitor: not offered
            **kwargs,
        )
        for name in ("campaign", "need_kind", "need_category", "need_description"):
            del self.fields[name]
        if not visit.campaign_id:
            del self.fields["gift_goods"], self.fields["gift_amount"]
        if not self.is_bound:
            self.initial.update(
                {
                    "visited_at": timezone.localtime(visit.visited_at),
                    "mode": visit.mode,
                    "members_met": [p.pk for p in visit.members_met.all()],
                    "visitors": [u.pk for u in visit.visitors.all()],
                    "other_visitors": visit.other_visitors,
                    "seen": visit.seen,
                    "opinions": visit.opinions,
                    "gift_goods": visit.gift_goods,
                    "gift_amount": visit.gift_amount,
                }
            )

    def service_data(self) -> dict:
        data = super().service_data()
        data.pop("reason", None)
        return data


class CaseFromVisitForm(_Styled, forms.Form):
    category = forms.ChoiceField(label=_("案件类别"))
    title = forms.CharField(label=_("事项"), max_length=100, required=False)
    description = forms.CharField(
        label=_("情况描述"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    reporter = forms.ModelChoiceField(
        label=_("反映人"), queryset=None, required=False, empty_label=_("（不指定）")
    )
    priority = forms.ChoiceField(label=_("紧急程度"), choices=(), required=False)

    def __init__(self, *args, visit, **kwargs):
        from minqing.cases.forms import PHOTOS_HELP, MultipleFileField, category_choices
        from minqing.cases.models import Priority

        super().__init__(*args, **kwargs)
        # What the worker saw, photographed on the visit, goes with the case (as on 上报案件).
        self.fields["photos"] = MultipleFileField(
            label=_("照片"), required=False, help_text=PHOTOS_HELP
        )
        # The specific categories under their classes, as on the case form (codes).
        self.fields["category"].choices = category_choices(to_file=True)
        self.fields["reporter"].queryset = visit.members_met.order_by("id")
        self.fields["priority"].choices = Priority.choices
        self.fields["priority"].initial = Priority.NORMAL
        if not self.is_bound:
            self.initial.setdefault("description", visit.opinions)
            met = list(visit.members_met.all()[:2])
            if len(met) == 1:
                self.initial.setdefault("reporter", met[0].pk)
        self._style()

    def clean_photos(self):
        from minqing.cases.forms import checked_photos

        return checked_photos(self.cleaned_data.get("photos") or [])


class DiaryForm(_Styled, forms.Form):
    date = forms.DateField(
        label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    text = forms.CharField(
        label=_("内容"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5})
    )
    tags = forms.CharField(
        label=_("标签"), max_length=100, required=False, help_text=_("用空格分隔，如：低保 维修")
    )
    household_number = forms.CharField(
        label=_("涉及家庭（户号）"), max_length=30, required=False, help_text=_("可不填。")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("date", timezone.localdate())
        self._style()


class PlanForm(_Styled, forms.Form):
    visit_class = forms.ModelChoiceField(
        label=_("走访类别"),
        queryset=VisitClass.objects.filter(active=True),
        empty_label=None,
        # Drawn alone in the household page's one-line form: its name is read out, not shown.
        widget=forms.Select(attrs={"aria-label": _("走访类别")}),
    )
    until = forms.DateField(
        label=_("截止日期"),
        required=False,
        widget=forms.DateInput(
            attrs={"type": "date", "aria-label": _("截止日期"), "title": _("截止日期（可不填）")},
            format="%Y-%m-%d",
        ),
    )
    reason = forms.CharField(
        label=_("原因"),
        max_length=200,
        required=False,
        widget=forms.TextInput(
            attrs={
                "class": "input grow",
                "aria-label": _("原因"),
                "placeholder": _("原因，如：家中突发变故"),
            }
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


# --- campaigns -------------------------------------------------------------------------------


class CampaignForm(_Styled, forms.Form):
    name = forms.CharField(
        label=_("活动名称"), max_length=60, help_text=_("如：2026年重阳节走访慰问高龄独居老人")
    )
    kind = forms.ChoiceField(label=_("活动类型"), choices=CampaignKind.choices)
    node = forms.ModelChoiceField(label=_("覆盖范围"), queryset=None, empty_label=None)
    start = forms.DateField(
        label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    rule = forms.ChoiceField(
        label=_("走访对象"),
        choices=TargetRule.choices,
        initial=TargetRule.TAGS,
        widget=forms.RadioSelect,
        help_text=_("活动启动时按规则生成走访名单，进行中可重新生成或追加。"),
    )
    tags = forms.ModelMultipleChoiceField(
        label=_("人员类别"),
        queryset=Tag.objects.order_by("sort", "id"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("家庭或任一成员带有其中任一类别即列入名单。"),
    )
    households = forms.CharField(
        label=_("手工添加的家庭（户号）"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("每行或以逗号分隔一个户号")}),
        help_text=_("如突发事件涉及的家庭；按规则生成时也可另行追加。"),
    )
    description = forms.CharField(
        label=_("活动说明"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, nodes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = nodes
        self.fields["node"].label_from_instance = lambda n: "　" * max(0, n.level - 1) + n.name
        if not self.is_bound:
            today = timezone.localdate()
            self.initial.setdefault("start", today)
            self.initial.setdefault("end", today + datetime.timedelta(days=14))
        self._style()


class CampaignAddForm(_Styled, forms.Form):
    households = forms.CharField(
        label=_("追加家庭（户号）"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("每行或以逗号分隔一个户号")}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class CampaignAssignForm(_Styled, forms.Form):
    targets = forms.TypedMultipleChoiceField(
        label=_("走访对象"),
        coerce=int,
        choices=(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请勾选要分配的家庭。")},
    )
    users = forms.ModelMultipleChoiceField(
        label=_("走访责任人"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请勾选分配给谁（走访责任人）。")},
    )

    def __init__(self, *args, targets, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["targets"].choices = [(t.pk, str(t.household)) for t in targets]
        self.fields["users"].queryset = candidates
        self.fields["users"].label_from_instance = lambda u: str(u)
        self._style()
