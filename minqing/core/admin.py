from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models, transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minqing.accounts.access import can_audit, scope_queryset, user_scope, visible_nodes
from minqing.core.audit import audit_log, diff, plain_value, snapshot
from minqing.core.fields import EncryptedTextField
from minqing.core.holiday_notice import apply_notice, parse_notice
from minqing.core.holiday_notice import counts as notice_counts
from minqing.core.masking import mask_phone
from minqing.core.models import AuditAction, AuditEntry, ImportBatch, WorkdayOverride

# Never written to the audit log in clear: phones masked as on screen (and what a model masks
# itself, Person.MASKED), secrets and encrypted fields (health notes …) not at all.
MASKED_FIELDS = {"phone": mask_phone, "mobile": mask_phone, "office_phone": mask_phone}
SECRET_FIELDS = {"password", "id_number", "digest", "key_digest", "content"}
SECRET = "******"
LONGEST = 300  # a boundary's GeoJSON is cut short: the entry says it changed, not every vertex


def _masks(model) -> dict:
    return {**MASKED_FIELDS, **getattr(model, "MASKED", {})}


def _is_secret(model, name: str) -> bool:
    if name in _masks(model):
        return False
    return name in SECRET_FIELDS or isinstance(model._meta.get_field(name), EncryptedTextField)


def _short(value):
    if isinstance(value, str) and len(value) > LONGEST:
        return value[:LONGEST] + "…"
    return value


def _field_values(obj, names: list[str]) -> dict:
    """Audit-safe values of the named fields: many-to-many as sorted lists of names."""
    model = type(obj)
    plain = [n for n in names if not _is_secret(model, n)]
    out = snapshot(obj, [n for n in plain if not _is_m2m(obj, n)], masked=_masks(model))
    for name in plain:
        if _is_m2m(obj, name) and obj.pk:
            out[name] = "、".join(sorted(str(o) for o in getattr(obj, name).all()))
    out = {name: _short(value) for name, value in out.items()}
    out.update({n: SECRET for n in names if _is_secret(model, n)})
    return out


def _is_m2m(obj, name: str) -> bool:
    return isinstance(obj._meta.get_field(name), models.ManyToManyField)


def _initial_value(obj, name: str, value):
    """A changed inline row's value before the change, from its form's initial data."""
    field, masks = obj._meta.get_field(name), _masks(type(obj))
    if _is_secret(type(obj), name):
        return SECRET
    if name in masks:
        return masks[name](value)
    if field.many_to_one and value is not None:
        value = field.related_model._default_manager.filter(pk=value).first()
    elif field.many_to_many:
        return "、".join(sorted(str(o) for o in value or []))
    return _short(plain_value(value))


def _audited_names(model, names) -> list[str]:
    """Of a form's changed fields, those that are fields of the model (not form-only inputs)."""
    own = {
        f.name
        for f in model._meta.get_fields()
        if (f.concrete or f.many_to_many) and not getattr(f, "primary_key", False)
    }
    return [n for n in names if n in own]


class AuditedAdmin:
    """Every add, change and delete made in the admin goes to the audit log, as in the app.

    Mixed into every ModelAdmin (a test checks the admin site), so a permission, a team or a
    configuration changed at /admin/ leaves the same trail as one changed on a page: who, when,
    each changed field old → new (phones masked, secrets never written), and the rows added,
    changed or removed in inline tables (a user's role assignments, a team's members).
    `audit_fields` fixes the fields to record; by default, those the form changed.
    """

    audit_fields: list[str] | None = None
    # {inline model: the fields its rows' entries record}; by default what the form changed.
    inline_audit_fields: dict = {}
    # The path from a record to the node its entries are placed under (e.g. "node", "grid").
    audit_node_field: str | None = None

    def audit_node(self, obj):
        """The node the record hangs under, so its audit entries are scoped like it."""
        if not self.audit_node_field:
            return None
        for name in self.audit_node_field.split("__"):
            obj = getattr(obj, name, None)
            if obj is None:
                return None
        return obj

    def _audit(self, request, action, obj, changes, *, parent=None):
        """One entry; an inline row is placed under the node of the record it belongs to."""
        audit_log(
            actor=request.user,
            action=action,
            obj=obj,
            changes=changes,
            reason="后台管理",
            request=request,
            node=self.audit_node(parent if parent is not None else obj),
        )

    def _names(self, obj, form) -> list[str]:
        if self.audit_fields is not None:
            return list(self.audit_fields)
        return _audited_names(type(obj), form.changed_data)

    def save_model(self, request, obj, form, change):
        names = self._names(obj, form)
        old = {}
        if change:
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            old = _field_values(stored, names) if stored is not None else {}
        obj._audit_before = (names, old, change)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        names, old, change = getattr(obj, "_audit_before", (self._names(obj, form), {}, change))
        changes = diff(old, _field_values(obj, names))
        if changes or not change:
            self._audit(request, AuditAction.UPDATE if change else AuditAction.CREATE, obj, changes)

    def save_formset(self, request, form, formset, change):
        """Inline rows: each added, changed or removed row gets its own audit entry."""
        doomed = [
            (f.instance, f.instance.pk, self._row_values(f.instance, list(f.fields)))
            for f in formset.deleted_forms
            if f.instance.pk
        ]
        super().save_formset(request, form, formset, change)
        by_instance = {id(f.instance): f for f in formset.forms}
        for row in formset.new_objects:
            changed = by_instance[id(row)].changed_data if id(row) in by_instance else []
            added = diff({}, self._row_values(row, changed))
            self._audit(request, AuditAction.CREATE, row, added, parent=form.instance)
        for row, changed in formset.changed_objects:
            inline_form = by_instance[id(row)]
            names = [n for n in self._row_names(row, changed) if n in changed]
            old = {n: _initial_value(row, n, inline_form.initial.get(n)) for n in names}
            changes = diff(old, _field_values(row, names))
            if changes:
                self._audit(request, AuditAction.UPDATE, row, changes, parent=form.instance)
        for row, pk, values in doomed:
            row.pk = pk  # deleting cleared it; the entry names the row that was
            removed = {k: [v, None] for k, v in values.items()}
            self._audit(request, AuditAction.DELETE, row, removed, parent=form.instance)

    def _row_names(self, row, form_fields) -> list[str]:
        fixed = self.inline_audit_fields.get(type(row))
        return list(fixed) if fixed is not None else _audited_names(type(row), form_fields)

    def _row_values(self, row, form_fields) -> dict:
        return _field_values(row, self._row_names(row, form_fields))

    def _removed(self, obj) -> dict:
        return {k: [v, None] for k, v in _field_values(obj, self.audit_fields or []).items()}

    def delete_model(self, request, obj):
        self._audit(request, AuditAction.DELETE, obj, self._removed(obj))
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self._audit(request, AuditAction.DELETE, obj, self._removed(obj))
        super().delete_queryset(request, queryset)


ERR_PLACE_SCOPE = _("请选择您辖区内的区划。")
ERR_CHOICE_SCOPE = _("请选择您辖区内的记录。")

# Who made or closed a record: set by minqing, never chosen in a form (a staff account filed a
# need on another grid's household "by" a grid worker it picked from every user, QA).
AUTHOR_FIELDS = ("created_by", "closed_by", "disqualified_by", "uploaded_by", "recorded_by")


class _ScopedRawIdWidget(ForeignKeyRawIdWidget):
    """A raw id field that names only a record the editor may choose: Django's looks the id up
    among all rows, so counting ids up named every household and person of the county."""

    def __init__(self, rel, admin_site, queryset, **kwargs):
        super().__init__(rel, admin_site, **kwargs)
        self.queryset = queryset

    def label_and_url_for_value(self, value):
        key = self.rel.get_related_field().name
        try:
            if not self.queryset.filter(**{key: value}).exists():
                return "", ""
        except (ValueError, TypeError, ValidationError):
            return "", ""
        return super().label_and_url_for_value(value)


def _keeping_current(form_class):
    """`form_class` whose choices also hold what the record already has: a group's helper
    registered in another street, a secondment's sending school elsewhere. Only a new choice
    must lie in the editor's area; an unchanged save dropped the group's other members and
    refused the secondment (review)."""

    class Keeping(form_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            instance = getattr(self, "instance", None)
            if instance is None or instance.pk is None:
                return
            for name, field in self.fields.items():
                queryset = getattr(field, "queryset", None)
                try:
                    model_field = instance._meta.get_field(name)
                except FieldDoesNotExist:
                    continue
                if queryset is None:
                    continue
                if model_field.many_to_many:
                    current = list(getattr(instance, name).values_list("pk", flat=True))
                elif model_field.many_to_one:
                    value = getattr(instance, model_field.attname)
                    current = [] if value is None else [value]
                else:
                    continue
                if current:
                    every = queryset.model._default_manager.filter(pk__in=current)
                    field.queryset = queryset | every
                    if isinstance(field.widget, _ScopedRawIdWidget):
                        field.widget.queryset = field.queryset

    Keeping.__name__ = form_class.__name__
    return Keeping


class ScopedChoices:
    """The records a form of the admin offers, and accepts, in its foreign keys and
    many-to-many fields are those the editor may see: places in their area, the households,
    people, pairings … that the related model's (scoped) admin lists them, and the users
    working in their area. A superuser chooses among all. Mixed into ScopedAdmin and into the
    inline tables of place-bound records (a duty holder's links)."""

    def get_form(self, request, obj=None, **kwargs):
        return _keeping_current(super().get_form(request, obj, **kwargs))

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = _keeping_current(formset.form)
        return formset

    def choosable(self, request, model, queryset):
        user = request.user
        if user.is_superuser or user_scope(user).everything:
            return queryset
        from minqing.accounts.models import RoleAssignment, User
        from minqing.grids.models import Node

        if model is Node:
            return queryset.filter(pk__in=visible_nodes(user).values("pk"))
        if model is User:
            # Those working in the area, and above it along its branch: a grid's team counts
            # its community's secretary among its members (QA: the team's form would not save).
            paths = user_scope(user).subtree_paths
            above = {"/".join(p.strip("/").split("/")[:n]) for p in paths for n in range(1, 7)}
            branch = Node.objects.filter(path__in=[f"/{a}/" for a in above if a])
            colleagues = RoleAssignment.objects.filter(
                models.Q(node__in=visible_nodes(user)) | models.Q(node__in=branch)
            )
            return queryset.filter(
                models.Q(pk=user.pk) | models.Q(pk__in=colleagues.values("user_id"))
            )
        related = self.admin_site._registry.get(model)
        if isinstance(related, ScopedAdmin):
            return queryset.filter(pk__in=related.get_queryset(request).values("pk"))
        return queryset

    def _base_choices(self, db_field, request, db):
        queryset = self.get_field_queryset(db, db_field, request)
        if queryset is None:
            queryset = db_field.remote_field.model._default_manager.using(db)
        return self.choosable(request, db_field.remote_field.model, queryset)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            db = kwargs.get("using")
            kwargs["queryset"] = self._base_choices(db_field, request, db)
            if db_field.name in self.raw_id_fields and "widget" not in kwargs:
                kwargs["widget"] = _ScopedRawIdWidget(
                    db_field.remote_field, self.admin_site, kwargs["queryset"], using=db
                )
        return self._refusing(
            request, db_field, super().formfield_for_foreignkey(db_field, request, **kwargs)
        )

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs and db_field.remote_field.through._meta.auto_created:
            kwargs["queryset"] = self._base_choices(db_field, request, kwargs.get("using"))
        return self._refusing(
            request, db_field, super().formfield_for_manytomany(db_field, request, **kwargs)
        )

    def _refusing(self, request, db_field, field):
        """An id from outside the editor's area is refused as such (not as "not a choice")."""
        from minqing.grids.models import Node

        if field is not None and not request.user.is_superuser:
            place = db_field.remote_field.model is Node
            field.error_messages["invalid_choice"] = ERR_PLACE_SCOPE if place else ERR_CHOICE_SCOPE
        return field

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        names = {f.name for f in self.model._meta.get_fields()}
        excluded = set(self.exclude or ())
        return fields + [
            n for n in AUTHOR_FIELDS if n in names and n not in fields + list(excluded)
        ]


class CountyWide:
    """Settings that hold for the whole county — categories, time limits, departments and their
    members, care groups, visit classes, programmes, duty rules, Open311 clients, the working
    calendar — are changed, and read, by a superuser or a staff account whose area is the whole
    county. Given the model permissions, a grid worker's staff account joined a department and
    read its cases county-wide, and could have made a sensitive care group visible (QA); Django's
    permissions cannot say "within my part of the tree"."""

    def _county_wide(self, request) -> bool:
        user = getattr(request, "user", None)
        return (
            user is not None
            and user.is_active
            and (user.is_superuser or user_scope(user).everything)
        )

    def has_module_permission(self, request):
        return self._county_wide(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._county_wide(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return self._county_wide(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self._county_wide(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._county_wide(request) and super().has_delete_permission(request, obj)


class ScopedAdmin(ScopedChoices, AuditedAdmin, admin.ModelAdmin):
    """Admin lists go through the same scoping as every page and API call."""

    scope_node_field = "grid"

    @property
    def audit_node_field(self) -> str:
        return self.scope_node_field

    def get_queryset(self, request):
        return scope_queryset(
            request.user, super().get_queryset(request), node_field=self.scope_node_field
        )

    def save_model(self, request, obj, form, change):
        if not change and "created_by" in {f.name for f in obj._meta.get_fields()}:
            obj.created_by_id = obj.created_by_id or request.user.pk
        super().save_model(request, obj, form, change)


def _phones_kept(form, names: list[str]):
    """`form` with these phone fields shown masked for a record on file (see
    PhonesMaskedAdmin): empty, the masked number as placeholder, kept when left empty."""
    names = [n for n in names if n in form.base_fields]
    if not names:
        return form

    class Kept(form):
        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            if self.instance.pk is None:
                return  # a new record: its phone is typed as any field
            for name in names:
                field = self.fields[name]
                field.required = False
                field.widget.attrs["placeholder"] = mask_phone(getattr(self.instance, name))
                field.help_text = _(
                    "为保护个人信息只显示部分号码；留空则保持原号码，填写则替换为新号码。"
                )
                self.initial[name] = ""

    for name in names:
        setattr(
            Kept,
            f"clean_{name}",
            lambda self, name=name: (
                self.cleaned_data.get(name)
                or (getattr(self.instance, name) if self.instance.pk else "")
            ),
        )
    Kept.__name__ = form.__name__
    return Kept


class PhonesMaskedAdmin:
    """A record's phone shown masked on its admin page, as on every other page (a place's or
    a helper's contact is usually a person's own mobile): the field comes empty, with the
    masked number as its placeholder; left empty it keeps the number, typed it replaces it.
    The full number is read only through the record's audited 查看明文. On an admin or an
    inline (the rows of a seconded team's members)."""

    masked_phone_fields = ("phone",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return _phones_kept(form, list(self.masked_phone_fields))

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = _phones_kept(formset.form, list(self.masked_phone_fields))
        return formset


class ReadOnly:
    """Records that only change through their own workflow (or never): listed, not edited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyScopedAdmin(ReadOnly, ScopedAdmin):
    """Read-only, and scoped like every page."""


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyScopedAdmin):
    scope_node_field = "node"
    list_display = ["at", "actor", "action", "model", "object_repr", "reason", "ip"]
    list_filter = ["action", "model"]
    search_fields = ["object_repr", "actor__username", "reason"]
    date_hierarchy = "at"

    # Audit records are evidence: nobody edits or deletes them, not even a superuser.

    # The audit log is for the county level and administrators (as /audit/ and /api/audit): a
    # staff account below the county with the view permission still does not read it here.
    def has_view_permission(self, request, obj=None):
        return can_audit(request.user) and super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return can_audit(request.user) and super().has_module_permission(request)


@admin.register(ImportBatch)
class ImportBatchAdmin(AuditedAdmin, admin.ModelAdmin):
    """Who imported which ledger when, and what it did; the stored file is never shown."""

    list_display = ["created_at", "user", "file_name", "status", "applied_at"]
    list_filter = ["status"]
    search_fields = ["file_name", "user__username"]
    exclude = ["content"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(user=request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class HolidayNoticeForm(forms.Form):
    year = forms.IntegerField(label=_("年份"), min_value=2000, max_value=2100)
    text = forms.CharField(
        label=_("通知全文"),
        widget=forms.Textarea(attrs={"rows": 14, "cols": 90}),
        max_length=20000,
        help_text=_("粘贴国务院办公厅节假日安排通知，至少含“一、元旦：……”起的各条。"),
    )


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(CountyWide, AuditedAdmin, admin.ModelAdmin):
    """Next year's official holidays and make-up workdays, entered each winter, and local days."""

    list_display = ["date", "is_working_day", "name"]
    list_filter = ["is_working_day"]
    date_hierarchy = "date"
    search_fields = ["name"]
    change_list_template = "admin/core/workdayoverride/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_notice)
        return [path("import-notice/", view, name="core_workdayoverride_import_notice")] + (
            super().get_urls()
        )

    def import_notice(self, request):
        """从通知导入: paste the notice, check the days read from it, confirm (core.holiday_notice)."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        year = timezone.localdate().year + 1
        form = HolidayNoticeForm(request.POST or None, initial={"year": year})
        notice = None
        if request.method == "POST" and form.is_valid():
            notice = parse_notice(form.cleaned_data["text"], form.cleaned_data["year"])
            existing = set(
                WorkdayOverride.objects.filter(date__in=[d.date for d in notice.days]).values_list(
                    "date", flat=True
                )
            )
            for day in notice.days:
                day.exists = day.date in existing
            if "confirm" in request.POST and not notice.problems:
                with transaction.atomic():
                    written = apply_notice(notice)
                    for row, before in written:
                        action = AuditAction.CREATE if before is None else AuditAction.UPDATE
                        changes = {
                            f: [(before or {}).get(f), getattr(row, f)]
                            for f in ("is_working_day", "name")
                        }
                        self._audit(request, action, row, changes)
                created, updated = notice_counts(written)
                self.message_user(
                    request,
                    _("已写入 %(year)s 年的安排：新增 %(c)s 天，更新 %(u)s 天。")
                    % {"year": notice.year, "c": created, "u": updated},
                )
                return redirect("admin:core_workdayoverride_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("从国务院通知导入节假日"),
            "form": form,
            "notice": notice,
        }
        return TemplateResponse(request, "admin/core/workdayoverride/import_notice.html", context)
