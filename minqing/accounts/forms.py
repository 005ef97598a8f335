"""Forms of the team pages: they parse; the rules live in accounts.teams (which the API calls)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from minqing.accounts.models import MemberKind, Responsibility


def _input(form) -> None:
    for f in form.fields.values():
        if not isinstance(f.widget, forms.RadioSelect):
            f.widget.attrs.setdefault("class", "input")


class TeamForm(forms.Form):
    name = forms.CharField(label=_("组团名称"), max_length=100)
    office_phone = forms.CharField(label=_("办公电话"), max_length=30, required=False)
    office_address = forms.CharField(label=_("办公地点"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _input(self)


class MemberForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    kind = forms.ChoiceField(label=_("身份"), choices=MemberKind.choices)
    responsibility = forms.TypedChoiceField(
        label=_("职责"), choices=Responsibility.choices, coerce=int, initial=0
    )
    duty = forms.CharField(label=_("分工"), max_length=100, required=False)
    office_phone = forms.CharField(label=_("办公电话"), max_length=30, required=False)
    mobile = forms.CharField(label=_("手机"), max_length=20, required=False)
    username = forms.CharField(
        label=_("系统账号（用户名）"),
        max_length=150,
        required=False,
        help_text=_("成员有系统账号时填写（如本网格的网格员）。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _input(self)
