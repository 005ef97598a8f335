"""UI forms: they only convert types and offer choices; the rules live in duties.services."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minqing.core.i18n import named
from minqing.duties.models import DayKind, DutyRule, LinkKind


class DayForm(forms.Form):
    """Record a day in the community (蹲点/驻社区)."""

    date = forms.DateField(
        label=_("日期"),
        initial=timezone.localdate,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("日期格式应为 YYYY-MM-DD。"), "required": _("请填写日期。")},
    )
    community = forms.ModelChoiceField(
        label=_("社区"),
        queryset=None,
        empty_label=None,
        error_messages={
            "required": _("请选择社区。"),
            "invalid_choice": _("只能记录在您的联系社区。"),
        },
    )
    kind = forms.ChoiceField(
        label=_("方式"),
        choices=DayKind.choices,
        initial=DayKind.STAY,
        error_messages={"invalid_choice": _("请选择蹲点、驻社区或接待群众。")},
    )
    note = forms.CharField(
        label=_("工作内容"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("如：走访困难户、参加居民议事会")}),
    )

    def __init__(self, *args, communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities
        for f in self.fields.values():
            f.widget.attrs.setdefault("class", "input")


def _date_field(label, *, required: bool = False, initial=None) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        initial=initial,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("日期格式应为 YYYY-MM-DD。"), "required": _("请填写日期。")},
    )


class LinkForm(forms.Form):
    """添加联系对象: a community from a list, a household by its number, a person by ID number
    or person id. The office's scope is checked by duties.services.link_target."""

    kind = forms.ChoiceField(
        label=_("联系类型"),
        choices=LinkKind.choices,
        initial=LinkKind.HOUSEHOLD,
        error_messages={"invalid_choice": _("请选择联系类型。"), "required": _("请选择联系类型。")},
    )
    community = forms.ChoiceField(
        label=_("社区"),
        required=False,
        choices=(),
        help_text=_("联系类型为“联系社区”时选择。"),
    )
    household = forms.CharField(
        label=_("户号"),
        required=False,
        max_length=30,
        help_text=_("家庭户页面上的户号；也可在下方按户主姓名或地址查找。"),
    )
    person = forms.CharField(
        label=_("服务对象"),
        required=False,
        max_length=30,
        help_text=_("身份证号，或人员编号（如 #123）；也可在下方按姓名查找。"),
    )
    started_on = _date_field(_("开始日期"), initial=timezone.localdate)
    note = forms.CharField(label=_("备注"), required=False, max_length=200)

    def __init__(self, *args, communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [("", "—")] + [(c.code, c.name) for c in communities]
        self.fields["community"].error_messages["invalid_choice"] = _("请选择您辖区内的社区。")
        for f in self.fields.values():
            f.widget.attrs.setdefault("class", "input")
        self.fields["household"].widget.attrs.update({"autocomplete": "off"})
        self.fields["person"].widget.attrs.update({"autocomplete": "off"})


class LinkEndForm(forms.Form):
    """结束联系: the end date, today when left empty."""

    ended_on = _date_field(_("结束日期"))


class HolderForm(forms.Form):
    """新增联系任务: who, under which rule, in which unit and place, from when."""

    # A text field, not a select: a county office may give duties to thousands of users.
    user = forms.CharField(
        label=_("干部"),
        max_length=150,
        help_text=_("填写用户名或姓名。"),
        error_messages={"required": _("请选择干部。")},
        widget=forms.TextInput(attrs={"list": "holder-users", "autocomplete": "off"}),
    )
    rule = forms.ModelChoiceField(
        label=_("任务类型"),
        queryset=DutyRule.objects.filter(active=True),
        error_messages={
            "required": _("请选择任务类型。"),
            "invalid_choice": _("请选择启用中的任务类型。"),
        },
    )
    unit = forms.CharField(
        label=_("单位"),
        max_length=100,
        error_messages={"required": _("请填写单位。")},
        widget=forms.TextInput(attrs={"placeholder": _("如：县民政局、城关街道办")}),
    )
    position = forms.CharField(label=_("职务"), max_length=50, required=False)
    node = forms.ModelChoiceField(
        label=_("所属区划"),
        queryset=None,
        help_text=_("单位所在的县、街道或社区。"),
        error_messages={
            "required": _("请选择所属区划。"),
            "invalid_choice": _("所属区划应为您辖区内的县、街道或社区。"),
        },
    )
    active_from = _date_field(_("任务开始日期"), required=True, initial=timezone.localdate)
    active_to = _date_field(_("任务结束日期"))

    def __init__(self, *args, users, nodes, **kwargs):
        super().__init__(*args, **kwargs)
        self.users = users
        self.fields["node"].queryset = nodes
        self.fields["active_to"].help_text = _("留空为长期。")
        for f in self.fields.values():
            f.widget.attrs.setdefault("class", "input")

    def clean_user(self):
        """The user named by username, else by full name, among those the office may choose."""
        raw = self.cleaned_data["user"].strip()
        found = list(self.users.filter(username=raw)[:1])
        if not found:
            found = list(self.users.filter(full_name=raw)[:11])
        if not found:
            raise forms.ValidationError(_("请在本辖区的用户中选择干部。"))
        if len(found) > 1:
            names = "、".join(u.username for u in found[:10])
            raise forms.ValidationError(
                _("有多位同名用户，请填写用户名：%(names)s") % {"names": names}
            )
        return found[0]

    def user_options(self) -> list[str]:
        """Suggestions for the user field (张伟（zhangwei）), when there are not too many."""
        users = list(self.users[: OPTIONS_SHOWN + 1])
        return [] if len(users) > OPTIONS_SHOWN else [(u.username, _user_label(u)) for u in users]


OPTIONS_SHOWN = 300  # below this many users the field offers them all as suggestions


def _user_label(user) -> str:
    """张伟（zhangwei）: the full name, and the username that tells namesakes apart."""
    return named(user.full_name, user.username) if user.full_name else user.username
