"""UI forms: they only convert types and offer choices; the rules live in duties.services."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minqing.duties.models import DayKind


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
