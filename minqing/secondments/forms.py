"""UI forms: they convert types and offer choices (scoped); the rules live in services."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minqing.accounts.access import scope_queryset, visible_nodes
from minqing.accounts.models import User
from minqing.core.i18n import named
from minqing.core.widgets import QuickSelect
from minqing.grids.models import Level, Node
from minqing.registry.models import Organisation, Place, PlaceKind
from minqing.secondments.models import ActivityKind, MemberRole, SecondmentKind

DATE = {"type": "date"}
ERR_USERNAME = _("系统账号不存在或已停用。")


class _Styled:
    def _style(self):
        for f in self.fields.values():
            if isinstance(f.widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                continue
            f.widget.attrs.setdefault("class", "input")


def _date_field(label, required=True, help_text=""):
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
    )


class SecondmentForm(_Styled, forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=SecondmentKind.choices)
    sending_org = forms.ModelChoiceField(
        widget=QuickSelect,
        label=_("派出单位（从组织档案选择）"),
        queryset=Organisation.objects.none(),
        required=False,
        empty_label=_("（不在档案中，填写名称）"),
    )
    sending_name = forms.CharField(
        label=_("派出单位名称"), max_length=100, required=False, help_text=_("如：县第一中学")
    )
    receiving_place = forms.ModelChoiceField(
        widget=QuickSelect,
        label=_("接收单位（从场所档案选择）"),
        queryset=Place.objects.none(),
        required=False,
        empty_label=_("（不在档案中，填写名称）"),
    )
    receiving_name = forms.CharField(
        label=_("接收单位名称"), max_length=100, required=False, help_text=_("如：青石村小学")
    )
    node = forms.ModelChoiceField(
        widget=QuickSelect,
        label=_("接收单位所在区划"),
        queryset=Node.objects.none(),
        required=False,
        help_text=_("选择了场所档案时可不填，取场所所在网格。"),
    )
    name = forms.CharField(
        label=_("团队名称"), max_length=100, required=False, help_text=_("可不填，自动生成。")
    )
    cycle_start = _date_field(_("派驻周期开始"))
    cycle_end = _date_field(_("派驻周期结束"), required=False, help_text=_("不填为3年。"))
    turn_months = forms.IntegerField(
        label=_("成员轮换期（月）"), min_value=1, max_value=60, initial=12, required=False
    )
    note = forms.CharField(
        label=_("备注"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sending_org"].queryset = scope_queryset(
            user, Organisation.objects.select_related("grid").order_by("name")
        )
        self.fields["receiving_place"].queryset = scope_queryset(
            user,
            Place.objects.filter(kind__in=[PlaceKind.SCHOOL, PlaceKind.HOSPITAL, PlaceKind.OTHER])
            .select_related("grid")
            .order_by("grid__path", "name"),
        )
        for name in ("sending_org", "receiving_place"):
            self.fields[name].label_from_instance = lambda p: p.choice_label()
        self.fields["node"].queryset = (
            visible_nodes(user).filter(level__lte=Level.GRID).order_by("path")
        )
        self.fields["node"].label_from_instance = lambda n: "　" * max(0, n.level - 1) + n.name
        self._style()


def _kept(offered, every, current):
    """The choices a team's kind offers, plus the stored one if the team's kind has changed."""
    if current and current not in dict(offered):
        return [c for c in every if c[0] == current or c[0] in dict(offered)]
    return offered


class MemberForm(_Styled, forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    role = forms.ChoiceField(label=_("角色"), choices=MemberRole.choices)
    speciality = forms.CharField(
        label=_("学科/专长"), max_length=50, required=False, help_text=_("如：数学、全科医生")
    )
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    turn_start = _date_field(_("轮换开始"))
    turn_end = _date_field(
        _("轮换结束"), required=False, help_text=_("不填为一个完整轮换期（不超过派驻周期）。")
    )
    username = forms.CharField(
        label=_("系统账号（用户名）"),
        max_length=150,
        required=False,
        help_text=_("有账号的成员可查看本团队；队长可登记考勤和活动。"),
    )

    def __init__(self, *args, secondment=None, **kwargs):
        super().__init__(*args, **kwargs)
        if secondment is not None:
            self.fields["role"].choices = _kept(
                secondment.role_choices, MemberRole.choices, self.initial.get("role")
            )
        self._style()

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if not username:
            return None
        user = User.objects.filter(username=username).first()
        kept = username == (self.initial.get("username") or "")  # the account linked already
        if user is None or not (user.is_active or kept):
            raise forms.ValidationError(ERR_USERNAME)
        return user

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["user"] = data.pop("username", None)
        return data


class ActivityForm(_Styled, forms.Form):
    kind = forms.ChoiceField(label=_("活动类型"), choices=ActivityKind.choices)
    date = _date_field(_("日期"))
    title = forms.CharField(label=_("主题"), max_length=100)
    members = forms.ModelMultipleChoiceField(
        label=_("参与成员"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    place = forms.CharField(label=_("地点"), max_length=100, required=False)
    participants = forms.IntegerField(
        label=_("受益/参与人数"), min_value=0, max_value=100_000, required=False, initial=0
    )
    note = forms.CharField(
        label=_("说明"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, secondment, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = secondment.activity_choices
        self.fields["members"].queryset = secondment.members.order_by("turn_start", "id")
        self.fields["members"].label_from_instance = lambda m: named(
            m.name, f"{m.get_role_display()}{' · ' + m.speciality if m.speciality else ''}"
        )
        if not self.is_bound:
            self.initial.setdefault("date", timezone.localdate())
        self._style()
