"""Forms of the assistance pages: they parse and look things up in the user's scope; the rules
are in services (which the API calls too), whose ValidationErrors land on these fields."""

import datetime as dt
import re

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minqing.assistance import selectors, services
from minqing.assistance.models import (
    Cause,
    FundSource,
    HelperKind,
    HelpKind,
    PairingKind,
    Programme,
    WorkAbility,
)
from minqing.core.digits import positive_id
from minqing.core.widgets import FilterableSelect, FilterableSelectMultiple, QuickSelect
from minqing.grids.models import Level

MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
ERR_MONTH = _("月份格式应为 YYYY-MM，如 2026-03。")
ERR_MONTH_RANGE = _("月份应在 2000-01 至 2100-12 之间。")
ERR_USER = _("没有这个用户名的账号。")


def parse_month(raw: str, default: dt.date | None = None) -> dt.date:
    """'2026-03' → 1 March 2026; ValueError(ERR_MONTH) when it is not a month."""
    raw = (raw or "").strip()
    if not raw:
        return (default or timezone.localdate()).replace(day=1)
    m = MONTH_RE.match(raw)
    if not m:
        raise ValueError(ERR_MONTH)
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        raise ValueError(ERR_MONTH)
    if not 2000 <= year <= 2100:
        raise ValueError(ERR_MONTH_RANGE)  # well written, but no report reaches it
    return dt.date(year, month, 1)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _input(widget):
    widget.attrs.setdefault("class", "input")
    return widget


class HelpEntryForm(forms.Form):
    kind = forms.ChoiceField(label=_("帮扶内容"), choices=HelpKind.choices)
    occurred_on = forms.DateField(label=_("日期"), widget=DateInput(), required=False)
    text = forms.CharField(
        label=_("帮扶情况"),
        required=False,
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    amount = forms.CharField(label=_("资金(元)"), required=False, max_length=20)
    goods = forms.CharField(label=_("物资"), required=False, max_length=200)
    goods_value = forms.CharField(label=_("物资折价(元)"), required=False, max_length=20)
    fund_source = forms.ChoiceField(
        label=_("资金来源"), required=False, choices=[("", "—")] + list(FundSource.choices)
    )
    helper = forms.ModelChoiceField(
        widget=QuickSelect,
        label=_("帮扶人"),
        required=False,
        queryset=None,
        help_text=_("代为记录时选择是哪位帮扶人提供的帮扶。"),
    )

    def __init__(self, *args, pairing, own_helper=None, kind_hint: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["helper"].queryset = pairing.helpers.all()
        if own_helper is not None:
            # The helper logs their own help: no choice to make.
            del self.fields["helper"]
        else:
            helpers = list(pairing.helpers.all()[:2])
            if len(helpers) == 1:
                self.initial.setdefault("helper", helpers[0].pk)
            if pairing.group_id:
                self.fields["helper"].help_text = _("小组共同帮扶可不选。")
        if kind_hint and not self.is_bound:
            self.initial["kind"] = kind_hint
        self.initial.setdefault("occurred_on", timezone.localdate())
        for f in self.fields.values():
            _input(f.widget)
        self.fields["amount"].widget.attrs.update({"inputmode": "decimal", "class": "input num"})
        self.fields["goods_value"].widget.attrs.update(
            {"inputmode": "decimal", "class": "input num"}
        )

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class ReasonForm(forms.Form):
    """Why a help entry is corrected or deleted: kept in its audit entry."""

    reason = forms.CharField(
        label=_("更正原因"),
        max_length=200,
        widget=forms.TextInput(attrs={"class": "input", "placeholder": _("如：金额录入错误")}),
    )


def helper_label(h) -> str:
    """王爱心 · 爱心妈妈 · 县妇联: the kind and unit tell namesakes apart in the list."""
    parts = [h.name, str(h.get_kind_display())]
    if h.unit_name and h.unit_name != h.name:
        parts.append(h.unit_name)
    return " · ".join(parts)


class PairingForm(forms.Form):
    programme = forms.ModelChoiceField(
        widget=QuickSelect, label=_("帮扶项目"), queryset=Programme.objects.none()
    )
    household = forms.CharField(
        label=_("帮扶家庭（户号）"),
        required=False,
        max_length=30,
        help_text=_("家庭户页面上的户号。"),
    )
    person = forms.CharField(
        label=_("帮扶对象（身份证号）"),
        required=False,
        max_length=30,
        help_text=_("也可从覆盖率页面的未结对名单直接进入。"),
    )
    node = forms.CharField(label=_("结对村/社区（编码）"), required=False, max_length=20)
    place = forms.ModelChoiceField(
        widget=QuickSelect, label=_("结对学校/场所"), required=False, queryset=None
    )
    organisation = forms.ModelChoiceField(
        widget=QuickSelect, label=_("结对单位"), required=False, queryset=None
    )
    helpers = forms.ModelMultipleChoiceField(
        label=_("帮扶人"),
        required=False,
        queryset=None,
        widget=FilterableSelectMultiple(),
    )
    group = forms.ModelChoiceField(
        widget=QuickSelect, label=_("帮扶小组"), required=False, queryset=None
    )
    causes = forms.MultipleChoiceField(
        label=_("困难原因"),
        required=False,
        choices=Cause.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    work_ability = forms.ChoiceField(
        label=_("劳动能力"),
        required=False,
        choices=WorkAbility.choices,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("帮扶计划/备注"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    start = forms.DateField(label=_("结对日期"), required=False, widget=DateInput())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from minqing.registry.models import PlaceKind
        from minqing.registry.selectors import organisations_for, people_for, places_for

        self.user = user
        self.fields["programme"].queryset = selectors.programmes()
        self.fields["place"].queryset = (
            places_for(user).filter(kind=PlaceKind.SCHOOL).select_related("grid")
        )
        self.fields["organisation"].queryset = organisations_for(user).select_related("grid")
        for name in ("place", "organisation"):
            self.fields[name].label_from_instance = lambda p: p.choice_label()
        self.fields["helpers"].queryset = (
            selectors.helpers_for(user)
            .filter(disqualified_on__isnull=True)
            .order_by("kind", "name")
        )
        self.fields["helpers"].label_from_instance = helper_label
        self.fields["group"].queryset = selectors.groups_for(user).select_related("programme")
        self.initial.setdefault("start", timezone.localdate())
        chosen = str(self.initial.get("person") or "")
        if chosen.startswith("#") and positive_id(chosen[1:]):
            person = people_for(user).select_related("grid").filter(pk=int(chosen[1:])).first()
            if person is not None:
                self.fields["person"].help_text = _("已选：%(name)s（%(grid)s）") % {
                    "name": person.name,
                    "grid": person.grid.name,
                }
        for name, f in self.fields.items():
            if name not in ("causes", "work_ability"):
                _input(f.widget)

    def clean_household(self):
        from minqing.registry.selectors import households_for

        number = self.cleaned_data["household"].strip()
        if not number:
            return None
        h = households_for(self.user).filter(number=number).first()
        if h is None:
            raise forms.ValidationError(services.ERR_TARGET_SCOPE)
        return h.pk

    def clean_person(self):
        from minqing.registry.identity import id_number_q
        from minqing.registry.selectors import people_for

        raw = self.cleaned_data["person"].strip().upper()
        if not raw:
            return None
        qs = people_for(self.user)
        if raw.startswith("#") and positive_id(raw[1:]):
            p = qs.filter(pk=int(raw[1:])).first()
        else:
            p = qs.filter(id_number_q(raw)).first()
        if p is None:
            raise forms.ValidationError(services.ERR_TARGET_SCOPE)
        return p.pk

    def clean_node(self):
        from minqing.accounts.access import visible_nodes

        code = self.cleaned_data["node"].strip()
        if not code:
            return None
        n = visible_nodes(self.user).filter(code=code).first()
        if n is None:
            raise forms.ValidationError(services.ERR_TARGET_SCOPE)
        if n.level != Level.COMMUNITY:
            raise forms.ValidationError(services.ERR_NODE_LEVEL)
        return n.pk

    def service_data(self) -> dict:
        d = dict(self.cleaned_data)
        for field in ("place", "organisation"):
            d[field] = d[field].pk if d.get(field) else None
        d["helpers"] = list(d.get("helpers") or [])
        return d


class EndForm(forms.Form):
    reason = forms.CharField(label=_("结束原因"), max_length=200)
    on = forms.DateField(label=_("结束日期"), required=False, widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            _input(f.widget)


class DisqualifyForm(EndForm):
    reason = forms.CharField(
        label=_("取消资格原因"), max_length=200, help_text=_("如：长期未履行帮扶职责。")
    )
    on = forms.DateField(label=_("取消资格日期"), required=False, widget=DateInput())


class HandoverForm(forms.Form):
    """帮扶人交接 on the leaver's page: who takes over, and why (prefixed: the page's
    取消资格 form has a reason too)."""

    prefix = "handover"
    successor = forms.ModelChoiceField(
        label=_("接手的帮扶人"), queryset=None, widget=FilterableSelect()
    )
    reason = forms.CharField(
        label=_("交接原因"), max_length=200, help_text=_("如：工作调动、退休。")
    )

    def __init__(self, *args, user, helper, **kwargs):
        super().__init__(*args, **kwargs)
        from minqing.assistance.handover import successors

        self.fields["successor"].queryset = successors(user, helper)
        self.fields["successor"].label_from_instance = helper_label
        _input(self.fields["reason"].widget)


class HelperForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=HelperKind.choices)
    username = forms.CharField(
        label=_("系统账号（用户名）"),
        required=False,
        max_length=150,
        help_text=_("机关干部等有账号的人员填写，姓名和电话取自账号。"),
    )
    name = forms.CharField(label=_("姓名/单位名称"), required=False, max_length=50)
    phone = forms.CharField(label=_("联系电话"), required=False, max_length=20)
    unit_name = forms.CharField(label=_("所在单位"), required=False, max_length=100)
    node = forms.ModelChoiceField(widget=QuickSelect, label=_("所属区划"), queryset=None)
    note = forms.CharField(label=_("备注"), required=False, max_length=200)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from minqing.accounts.access import home_node, visible_nodes

        self.fields["node"].queryset = visible_nodes(user).filter(level__lte=Level.GRID)
        node = home_node(user)
        if node is not None:
            self.initial.setdefault("node", node.pk)
        for f in self.fields.values():
            _input(f.widget)

    def clean_username(self):
        from minqing.accounts.models import User

        name = self.cleaned_data["username"].strip()
        if not name:
            return None
        user = User.objects.filter(username=name, is_active=True).first()
        if user is None:
            raise forms.ValidationError(ERR_USER)
        return user

    def service_data(self) -> dict:
        d = dict(self.cleaned_data)
        d["user"] = d.pop("username")
        return d


class PairingEditForm(PairingForm):
    """The parts of a pairing that may change while it runs: who helps, causes, plan."""

    FIXED = ("programme", "household", "person", "node", "place", "organisation", "start")

    def __init__(self, *args, pairing, **kwargs):
        initial = {
            "helpers": [h.pk for h in pairing.helpers.all()],
            "group": pairing.group_id,
            "causes": list(pairing.causes),
            "work_ability": pairing.work_ability,
            "note": pairing.note,
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.pairing = pairing
        for name in self.FIXED:
            del self.fields[name]
        if pairing.programme.pairing_kind == PairingKind.GROUP:
            del self.fields["helpers"]
            self.fields["group"].queryset = self.fields["group"].queryset.filter(
                programme=pairing.programme
            )
        else:
            del self.fields["group"]
            # A disqualified helper still on the pairing stays listed, so the form shows who
            # is there now; the service refuses to keep them.
            self.fields["helpers"].queryset = selectors.helpers_for(self.user).filter(
                Q(disqualified_on__isnull=True) | Q(pairings=pairing)
            ).distinct().order_by("kind", "name")  # fmt: skip
            # The list is long at a county: say who helps now, beside the choice.
            self.fields["helpers"].help_text = _(
                "现为：%(names)s。可在上方筛选，点一下选中，再点一下取消。"
            ) % {"names": "、".join(h.name for h in pairing.helpers.all()) or "—"}

    def service_data(self) -> dict:
        d = {k: v for k, v in self.cleaned_data.items() if k in self.fields}
        if "helpers" in d:
            d["helpers"] = list(d["helpers"] or [])
        return d


class HelperEditForm(HelperForm):
    """A helper's contact details and registering node; kind and account stay as registered."""

    def __init__(self, *args, helper, **kwargs):
        initial = {
            "name": helper.name,
            "phone": helper.phone,
            "unit_name": helper.unit_name,
            "node": helper.node_id,
            "note": helper.note,
        }
        super().__init__(*args, initial=initial, **kwargs)
        del self.fields["kind"]
        del self.fields["username"]
        if helper.user_id:
            self.fields["name"].help_text = self.fields["phone"].help_text = _(
                "留空则取系统账号中的姓名和手机号。"
            )

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class GroupForm(forms.Form):
    """帮扶小组: a group programme's team of helpers in a community or grid."""

    programme = forms.ModelChoiceField(
        widget=QuickSelect, label=_("帮扶项目"), queryset=Programme.objects.none()
    )
    name = forms.CharField(label=_("小组名称"), max_length=50)
    node = forms.ModelChoiceField(widget=QuickSelect, label=_("所在社区/网格"), queryset=None)
    members = forms.ModelMultipleChoiceField(
        label=_("组员"), queryset=None, widget=FilterableSelectMultiple()
    )

    def __init__(self, *args, user, group=None, **kwargs):
        if group is not None:
            kwargs["initial"] = {"name": group.name, "members": [h.pk for h in group.members.all()]}
        super().__init__(*args, **kwargs)
        from minqing.accounts.access import visible_nodes

        self.user = user
        helpers = selectors.helpers_for(user)
        if group is None:
            self.fields["programme"].queryset = selectors.programmes().filter(
                pairing_kind=PairingKind.GROUP
            )
            self.fields["node"].queryset = visible_nodes(user).filter(
                level__in=(Level.COMMUNITY, Level.ZONE, Level.GRID)
            ).order_by("path")  # fmt: skip
            helpers = helpers.filter(disqualified_on__isnull=True)
        else:
            del self.fields["programme"]
            del self.fields["node"]
            helpers = helpers.filter(Q(disqualified_on__isnull=True) | Q(groups=group)).distinct()
        self.fields["members"].queryset = helpers.order_by("kind", "name")
        self.fields["members"].label_from_instance = helper_label
        for f in self.fields.values():
            _input(f.widget)

    def service_data(self) -> dict:
        d = dict(self.cleaned_data)
        d["members"] = list(d.get("members") or [])
        return d
