"""UI forms of the case pages: they convert types and offer the user's own choices; the rules
(what a case needs, who may act, which state allows what) live in cases.services."""

from collections import defaultdict

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from minqing.cases import config, selectors, services
from minqing.cases import handover as handovers
from minqing.cases.models import Channel, Priority, Satisfaction
from minqing.cases.workflow import TRANSITIONS
from minqing.core.i18n import named
from minqing.core.pasted import plain
from minqing.core.widgets import FilterableSelect, QuickSelect
from minqing.registry.selectors import grids_for, households_for

ERR_HOUSEHOLD = _("该家庭不存在或不在您的管辖范围内。")
ERR_VERSION = _("页面已过期，请刷新后再操作。")


class TextField(forms.CharField):
    """A text as the user sees it (core.pasted.plain), as the services read it: one of only
    zero-width marks is empty, and a required one says so with the field's own message."""

    def to_python(self, value):
        value = super().to_python(value)
        return plain(value) if isinstance(value, str) else value


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; each goes through FileField's checks, then photo_clean."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": "image/*"}),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        one = super().clean
        if isinstance(data, list | tuple):
            return [one(d, initial) for d in data if d]
        return [one(data, initial)] if data else []


PHOTOS_HELP = format_lazy(_("可拍照或选图，最多 {n} 张，JPG、PNG 或 WebP。"), n=services.MAX_PHOTOS)


def checked_photos(files) -> list:
    """A photos field's files, each decoded (services.photo_clean): its errors on the field."""
    try:
        services.photo_clean(files)
    except ValidationError as exc:
        raise forms.ValidationError(exc.message_dict.get("photos", exc.messages)) from None
    return files


def category_choices(*, to_file: bool = False) -> list:
    """Active categories grouped under their top-level class (one <optgroup> each). A list's
    filter offers every class; `to_file`: only the categories a case is filed under (no class
    with categories below it, as cases.services.case_clean requires)."""
    # From the process's copy of the tree (cases.config): drawn on every list page and form.
    cats = sorted(
        (c for c in config.catalog().by_pk.values() if c.active), key=lambda c: (c.sort, c.code)
    )
    by_pk = {c.pk: c for c in cats}
    children = defaultdict(list)
    for c in cats:
        if c.parent_id in by_pk:
            children[c.parent_id].append(c)

    leaves = config.catalog().leaf_by_code

    def below(c, prefix=""):
        for k in children.get(c.pk, ()):
            if not to_file or k.code in leaves:
                yield (k.code, f"{prefix}{k.name}")
            yield from below(k, f"{prefix}{k.name} / ")

    choices: list = [("", _("请选择类别"))]
    for c in cats:
        if c.parent_id is not None:
            continue
        kids = list(below(c))
        if kids:
            choices.append((c.name, kids))
        elif not to_file or c.code in leaves:
            choices.append((c.code, c.name))
    return choices


def _input(field: forms.Field) -> forms.Field:
    if not isinstance(
        field.widget, forms.CheckboxInput | forms.RadioSelect | forms.HiddenInput | forms.FileInput
    ):
        field.widget.attrs.setdefault("class", "input")
    return field


class CaseForm(forms.Form):
    """The quick case form (上报案件) for the phone."""

    category = forms.ChoiceField(
        label=_("类别"), error_messages={"required": services.ERR_CATEGORY}
    )
    description = TextField(
        label=_("情况描述"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": services.ERR_REQUIRED},
    )
    title = TextField(
        label=_("事项（选填）"),
        max_length=100,
        required=False,
        help_text=_("不填则取描述的第一句。"),
    )
    priority = forms.ChoiceField(
        label=_("紧急程度"),
        choices=Priority.choices,
        initial=Priority.NORMAL,
        widget=forms.RadioSelect,
    )
    channel = forms.ChoiceField(
        label=_("来源渠道"),
        choices=Channel.choices,
        initial=Channel.PATROL,
        help_text=_(
            "网格巡查和网上报告的公共空间类案件（路灯、垃圾、占道等）在公开接口中列出描述、地点"
            "和进展，不含反映人；矛盾纠纷、求助等不公开。"
        ),
    )
    reporter_name = TextField(label=_("反映人"), max_length=50, required=False)
    reporter_phone = forms.CharField(
        label=_("联系电话"),
        max_length=20,
        required=False,
        help_text=_("群众凭案件编号和电话后四位查询进度。"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    anonymous = forms.BooleanField(label=_("匿名"), required=False)
    grid = forms.ModelChoiceField(
        label=_("所属网格"),
        queryset=None,
        widget=QuickSelect,
        to_field_name="code",
        required=False,
        empty_label=_("请选择网格（或在地图上标注）"),
        error_messages={"invalid_choice": services.ERR_GRID_SCOPE},
    )
    address = TextField(label=_("地点"), max_length=200, required=False)
    lat = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    lng = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    household = forms.ModelChoiceField(queryset=None, required=False, widget=forms.HiddenInput)
    photos = MultipleFileField(label=_("照片"), required=False, help_text=PHOTOS_HELP)

    def __init__(self, *args, user, household=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if household is not None:
            # Filed for a household (from its page or a visit): a member can be the reporter,
            # so the case keeps who raised it and their phone from the resident file.
            self.fields["reporter"] = forms.ModelChoiceField(
                label=_("反映人（家庭成员）"),
                queryset=household.members.order_by("relation", "id"),
                required=False,
                empty_label=_("（不是家庭成员，下面填写）"),
            )
            # The one who usually speaks for the home (the head, or the only member) is
            # chosen already: forgotten, the case had no phone and /track/ no way in.
            members = list(self.fields["reporter"].queryset[:20])
            head = next((m for m in members if m.relation == "head"), None)
            chosen = head or (members[0] if len(members) == 1 else None)
            if chosen is not None:
                self.fields["reporter"].initial = chosen.pk
        self.fields["category"].choices = category_choices(to_file=True)
        grids = grids_for(user).order_by("path")
        self.fields["grid"].queryset = grids
        self.fields["grid"].label_from_instance = lambda n: named(n.name, n.code)
        self.fields["household"].queryset = households_for(user)
        # A hidden field: its message is shown at the top of the form (cases/new.html).
        self.fields["household"].error_messages["invalid_choice"] = ERR_HOUSEHOLD
        for field in self.fields.values():
            _input(field)
        self.fields["description"].widget.attrs["placeholder"] = _("发生了什么、在哪里、影响多大……")

    def clean_photos(self):
        return checked_photos(self.cleaned_data.get("photos") or [])

    def service_data(self) -> dict:
        d = self.cleaned_data
        anonymous = bool(d.get("anonymous"))
        return {
            "category": d.get("category") or "",
            "description": d.get("description") or "",
            "title": d.get("title") or "",
            "channel": d.get("channel") or Channel.PATROL,
            "priority": d.get("priority") or Priority.NORMAL,
            "reporter": None if anonymous else d.get("reporter"),
            "reporter_name": ""
            if anonymous
            else d.get("reporter_name") or (d["reporter"].name if d.get("reporter") else ""),
            "reporter_phone": "" if anonymous else d.get("reporter_phone") or "",
            "anonymous": anonymous,
            "household": d.get("household"),
            "grid": d.get("grid"),
            "address": d.get("address") or "",
            "lat": d.get("lat") or None,
            "lng": d.get("lng") or None,
        }

    def clean(self):
        cleaned = super().clean()
        # Run the service's own checks now, so every problem shows at once (nothing is written).
        try:
            services.case_clean(acting_user=self.user, data=self.service_data())
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                name = field if field in self.fields else None
                if name is None or name not in self.errors:
                    for m in messages:
                        self.add_error(name, m)
        return cleaned


# --- one small form per action ---------------------------------------------------------------

NOTE_LABELS = {
    "cancel": _("注销原因"),
    "decline": _("退单原因"),
    "recall": _("收回原因"),
    "reassign": _("改派原因"),
    "feedback": _("处置结果"),
    "verify": _("答复反映人"),
    "rework": _("退回原因"),
    "escalate": _("上报原因"),
    "extend_request": _("延期理由"),
    "extend_decide": _("审批意见"),
    "supervise": _("督办意见"),
    "rate": _("回访记录"),
    "locate": _("说明"),
}
NOTE_HELP = {
    # Open311 publishes it as the request's status_notes (cases.open311._status_notes).
    "cancel": _(
        "公开类别的案件（路灯、垃圾、占道等），注销原因会在公开接口中发布，请勿写入个人信息。"
    ),
    "feedback": _("核查时如不另写答复，这段处置结果就是群众在查询页看到的答复。"),
    "locate": _("选填，如：按地址属该网格。"),
    "verify": _("群众在查询页看到的答复；不填则用处置结果。"),
    "rate": _("回访时群众的意见（选填）。"),
}
# Actions that need nothing but a click.
BUTTON_ONLY = ("register", "take", "start")


class ActionForm(forms.Form):
    """One action on one case: the hidden version it was shown at, plus what the action needs."""

    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={"required": ERR_VERSION, "invalid": ERR_VERSION, "min_value": ERR_VERSION},
    )

    def __init__(self, *args, action: str, user, case, **kwargs):
        kwargs.setdefault("auto_id", f"id_{action}_%s")
        kwargs.setdefault("initial", {"version": case.version})
        super().__init__(*args, **kwargs)
        self.action = action
        self.transition = TRANSITIONS[action]
        self.label = self.transition.label
        fields = self.fields
        if action in ("dispatch", "reassign"):
            targets = selectors.dispatch_targets(user, case)
            if action == "reassign" and case.handler_unit_id is None:
                targets = targets.exclude(pk=case.handler_user_id)
            fields["target_user"] = forms.ModelChoiceField(
                label=_("派给") if action == "dispatch" else _("改派给"),
                queryset=targets,
                empty_label=_("请选择处置人"),
                error_messages={
                    "required": services.ERR_TARGET,
                    "invalid_choice": services.ERR_TARGET_SCOPE,
                },
            )
            fields["target_user"].label_from_instance = lambda u: (
                named(u.full_name, u.username) if u.full_name else u.username
            )
        elif action == "locate":
            fields["target_node"] = forms.ModelChoiceField(
                label=_("指定到网格"),
                queryset=selectors.locate_targets(user, case),
                empty_label=_("请选择网格"),
                widget=FilterableSelect(),
                error_messages={
                    "required": services.ERR_LOCATE_GRID,
                    "invalid_choice": services.ERR_LOCATE_GRID,
                },
            )
            fields["target_node"].label_from_instance = lambda n: named(n.name, n.code)
        elif action == "transfer":
            fields["target_unit"] = forms.ModelChoiceField(
                label=_("转给部门"),
                queryset=selectors.transfer_targets(case),
                empty_label=_("请选择部门"),
                error_messages={
                    "required": services.ERR_TARGET_UNIT,
                    "invalid_choice": services.ERR_UNIT_AREA,
                },
            )
        elif action == "extend_request":
            days_error = {
                k: services.ERR_EXTENSION_DAYS
                for k in ("required", "invalid", "min_value", "max_value")
            }
            fields["days"] = forms.IntegerField(
                label=_("延长工作日"),
                min_value=1,
                max_value=30,
                error_messages=days_error,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )
        elif action == "extend_decide":
            fields["approve"] = forms.TypedChoiceField(
                label=_("审批"),
                choices=[("yes", _("同意延期")), ("no", _("不同意"))],
                coerce=lambda v: v == "yes",
                widget=forms.RadioSelect,
                error_messages={"required": _("请选择同意或不同意。")},
            )
        elif action == "rate":
            fields["satisfaction"] = forms.ChoiceField(
                label=_("群众评价"),
                choices=Satisfaction.choices,
                widget=forms.RadioSelect,
                error_messages={
                    "required": services.ERR_SATISFACTION,
                    "invalid_choice": services.ERR_SATISFACTION,
                },
            )
        if action not in BUTTON_ONLY:
            required = self.transition.note_required and action != "extend_decide"
            label = NOTE_LABELS.get(action, _("说明"))
            fields["note"] = TextField(
                label=label,
                help_text=NOTE_HELP.get(action, ""),
                required=required,
                max_length=4000,
                widget=forms.Textarea(attrs={"rows": 2}),
                error_messages={"required": str(services.ERR_NOTE_NAMED).format(label=label)},
            )
            if action == "verify" and case.result:
                fields["note"].widget.attrs["placeholder"] = case.result[:200]
        if action == "feedback":
            fields["photos"] = MultipleFileField(label=_("处置后照片"), required=False)
        for field in fields.values():
            _input(field)

    def clean_photos(self):
        return checked_photos(self.cleaned_data.get("photos") or [])

    @property
    def button_only(self) -> bool:
        return self.action in BUTTON_ONLY

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "version": d["version"],
            "note": d.get("note") or "",
            "target_user": d.get("target_user"),
            "target_unit": d.get("target_unit"),
            "days": d.get("days"),
            "approve": d.get("approve"),
            "satisfaction": d.get("satisfaction") or "",
            "target_node": d.get("target_node"),
        }


class HandoverForm(forms.Form):
    """人员交接: whose open cases, to whom, and why (cases.handover)."""

    holder = forms.TypedChoiceField(
        label=_("交出人"),
        coerce=int,
        widget=QuickSelect,
        error_messages={"required": _("请选择交出人。")},
    )
    successor = forms.ModelChoiceField(
        label=_("接手人"),
        queryset=None,
        widget=QuickSelect,
        empty_label=_("请选择接手人"),
        error_messages={
            "required": handovers.ERR_NO_SUCCESSOR,
            "invalid_choice": handovers.ERR_SUCCESSOR,
        },
    )
    note = TextField(
        label=_("交接原因"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": services.ERR_NOTE},
    )

    def __init__(self, *args, holders: list[dict], successors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].choices = [("", _("请选择交出人"))] + [
            (
                h["id"],
                _("%(name)s（%(n)d 件案件，%(t)d 户走访对象）")
                % {"name": h["name"], "n": h["count"], "t": h["targets"]},
            )
            for h in holders
        ]
        self.fields["holder"].error_messages["invalid_choice"] = handovers.ERR_NO_CASES
        self.fields["successor"].queryset = successors
        self.fields["successor"].label_from_instance = lambda u: (
            named(u.full_name, u.username) if u.full_name else u.username
        )
        for field in self.fields.values():
            _input(field)
