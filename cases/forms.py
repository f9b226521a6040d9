"""Forms of the case pages: validation and field-level messages only; writes go through services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import phonenumbers
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc

from centers.jurisdiction import restrict
from centers.models import Region, RegionKind
from centers.selectors import primary_center

from . import selectors
from .models import (
    AssignmentRole,
    Case,
    CaseKind,
    Category,
    Channel,
    Level,
    PartyRole,
    PersonKind,
    Satisfaction,
    Status,
    WarningLevel,
)
from .selectors import CaseFilters
from .services import EDITABLE_FIELDS, DomainError, attachment_check

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _blank(choices, label: str = "全部") -> list[tuple[str, str]]:
    return [("", label), *choices]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=DATETIME_LOCAL)


def datetime_field(label: str, *, required: bool = False) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=DateTimeLocalInput(),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )


class RegionSelect(forms.Select):
    """Places as an indented tree; each option carries its path so a script can narrow the grids."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-path"] = instance.path
        return option


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        indent = "\u3000" * max(obj.depth - 1, 0)
        return f"{indent}{obj.name}"


def regions_in_scope(user: Any, *, grids: bool) -> Any:
    qs = restrict(Region.objects.all(), user).only("pk", "name", "path", "depth", "kind")
    qs = qs.filter(kind=RegionKind.GRID) if grids else qs.exclude(kind=RegionKind.GRID)
    return qs.order_by("path")


# ============================================================================================
# The case list's filters
# ============================================================================================


class CaseFilterForm(forms.Form):
    q = forms.CharField(
        label="关键词",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "受理编号、摘要或详情"}),
    )
    status = forms.ChoiceField(label="状态", required=False, choices=_blank(Status.choices))
    warning_level = forms.ChoiceField(label="预警", required=False, choices=_blank(WarningLevel.choices))
    level = forms.ChoiceField(label="处置层级", required=False, choices=_blank(Level.choices))
    category = forms.ChoiceField(label="纠纷类别", required=False, choices=_blank(Category.choices))
    channel = forms.ChoiceField(label="来源渠道", required=False, choices=_blank(Channel.choices))
    kind = forms.ChoiceField(label="事项类型", required=False, choices=_blank(CaseKind.choices))
    region = RegionChoiceField(
        label="辖区", required=False, queryset=Region.objects.none(), empty_label="全部", widget=RegionSelect
    )
    created_from = forms.DateField(label="登记日期从", required=False, widget=DateInput())
    created_to = forms.DateField(label="至", required=False, widget=DateInput())

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any place in the user's scope is accepted (a grid too, e.g. from a link); the menu lists
        # the county, towns and villages so that it stays short at a county's size.
        self.fields["region"].queryset = restrict(Region.objects.all(), user).order_by("path")
        menu = regions_in_scope(user, grids=False)
        self.fields["region"].widget.choices = [
            ("", "全部"),
            *[(self._choice(r), self._label(r)) for r in menu],
        ]
        chosen = self.data.get("region") if self.is_bound else None
        if chosen and chosen.isdigit() and not any(str(r.pk) == chosen for r in menu):
            grid = self.fields["region"].queryset.filter(pk=chosen).first()
            if grid is not None:
                self.fields["region"].widget.choices.append((self._choice(grid), self._label(grid)))

    def _choice(self, region: Region) -> Any:
        return forms.models.ModelChoiceIteratorValue(region.pk, region)

    def _label(self, region: Region) -> str:
        return self.fields["region"].label_from_instance(region)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", "结束日期不能早于开始日期。")
        return data

    def filters(self) -> CaseFilters:
        d = self.cleaned_data
        region = d.get("region")
        return CaseFilters(
            status=d.get("status") or "",
            warning_level=d.get("warning_level") or "",
            level=d.get("level") or "",
            category=d.get("category") or "",
            channel=d.get("channel") or "",
            kind=d.get("kind") or "",
            region_path=region.path if region else "",
            created_from=d.get("created_from"),
            created_to=d.get("created_to"),
            q=(d.get("q") or "").strip(),
        )

    def description(self) -> str:
        """The filter in words, for the export log and the export's notice."""
        d = self.cleaned_data
        parts = []
        for name in ("status", "warning_level", "level", "category", "channel", "kind"):
            value = d.get(name)
            if value:
                field = self.fields[name]
                parts.append(f"{field.label}：{dict(field.choices)[value]}")
        if d.get("region"):
            parts.append(f"辖区：{d['region'].name}")
        if d.get("created_from") or d.get("created_to"):
            start = d["created_from"].isoformat() if d.get("created_from") else "…"
            end = d["created_to"].isoformat() if d.get("created_to") else "…"
            parts.append(f"登记日期：{start} 至 {end}")
        if d.get("q"):
            parts.append(f"关键词：{d['q'].strip()}")
        return "；".join(parts) or "全部（本人辖区内）"


# ============================================================================================
# Actions on the case page
# ============================================================================================


class ActionForm(forms.Form):
    """One allowed action; carries the case version the user saw (refused if it moved)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    comment = forms.CharField(
        label="说明", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, case: Case, user: Any, transition: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", transition.action)
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("version", case.version)
        super().__init__(*args, **kwargs)
        self.case, self.user, self.transition = case, user, transition
        if transition.needs_comment:
            self.fields["comment"].required = True
            self.fields["comment"].error_messages["required"] = f"「{transition.label}」须填写说明。"

    @property
    def is_simple(self) -> bool:
        """A one-click action (受理, 开始办理 …): a button with the version and nothing to fill in."""
        return type(self) is ActionForm and not self.transition.needs_comment

    def stale(self, message: str) -> None:
        """After a refused stale edit: keep the user's input, move to the version now shown."""
        data = self.data.copy()
        data[self.add_prefix("version")] = str(self.case.version)
        self.data = data
        self.add_error(None, message)


def _user_with_post(user: Any) -> str:
    """ "陈静（网格员 · 东门社区综治工作站）": whom the dispatcher is picking, at a glance."""
    posts = [f"{m.get_role_display()} · {m.center or m.unit}" for m in user.memberships.all()]
    return f"{user.display_name}（{'；'.join(posts)}）" if posts else user.display_name


class AssignForm(ActionForm):
    users = forms.ModelMultipleChoiceField(
        label="承办人",
        queryset=None,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        error_messages={"required": "请选择承办人。"},
    )
    role = forms.ChoiceField(label="分工", choices=AssignmentRole.choices, initial=AssignmentRole.HANDLER)
    field_order = ["users", "role", "comment"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["users"].queryset = selectors.assignable_users(self.case)
        self.fields["users"].label_from_instance = _user_with_post


class TransferForm(ActionForm):
    unit = forms.ModelChoiceField(
        label="转交部门", queryset=None, error_messages={"required": "请选择部门。"}
    )
    field_order = ["unit", "comment"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = selectors.transfer_units(self.case, self.user)


class CloseForm(ActionForm):
    satisfaction = forms.ChoiceField(
        label="回访满意度",
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择回访满意度。"},
    )
    field_order = ["satisfaction", "comment"]


class ExtendForm(ActionForm):
    days = forms.IntegerField(
        label="延期天数",
        min_value=1,
        max_value=90,
        error_messages={
            "min_value": "延期天数须在 1 到 90 天之间。",
            "max_value": "延期天数须在 1 到 90 天之间。",
        },
    )
    field_order = ["days", "comment"]


# ============================================================================================
# Editing, commenting, attaching
# ============================================================================================


class CaseEditForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = Case
        fields = list(EDITABLE_FIELDS)
        widgets = {"occurred_at": DateTimeLocalInput(), "description": forms.Textarea(attrs={"rows": 5})}
        error_messages = {"title": {"required": "请填写事项摘要。"}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version
        self.fields["occurred_at"].input_formats = [DATETIME_LOCAL, "%Y-%m-%d %H:%M"]
        self.fields["people_count"].min_value = 1
        self.fields["people_count"].widget.attrs["min"] = 1
        self.fields["amount"].widget.attrs["min"] = 0
        self.fields["failed_mediations"].help_text = "达到阈值转红色预警"
        # What the user started from: the changes are computed against it, not against the
        # instance the form fills in while validating.
        self.before = {f: getattr(self.instance, f) for f in EDITABLE_FIELDS}

    def clean_people_count(self) -> int:
        value = self.cleaned_data["people_count"]
        if value is not None and value < 1:
            raise ValidationError("涉及人数至少为 1。")
        return value

    def clean_amount(self):
        value = self.cleaned_data.get("amount")
        if value is not None and value < 0:
            raise ValidationError("涉及金额不能为负数。")
        return value

    def clean_occurred_at(self):
        value = self.cleaned_data.get("occurred_at")
        if value and value > timezone.now() + dt.timedelta(minutes=5):
            raise ValidationError("发生时间不能晚于现在。")
        return value

    def changes(self) -> dict[str, Any]:
        return {f: self.cleaned_data[f] for f in EDITABLE_FIELDS if self.cleaned_data[f] != self.before[f]}

    def stale(self, message: str, version: int) -> None:
        data = self.data.copy()
        data["version"] = str(version)
        self.data = data
        self.add_error(None, message)


class CommentForm(forms.Form):
    text = forms.CharField(
        label="办理情况",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写办理情况。"},
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(label="附件", error_messages={"required": "请选择要上传的文件。"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ",".join(
            f".{ext}"
            for ext in (
                "jpg",
                "jpeg",
                "png",
                "gif",
                "webp",
                "pdf",
                "ofd",
                "doc",
                "docx",
                "xls",
                "xlsx",
                "ppt",
                "pptx",
                "wps",
                "et",
            )
        )
        self.fields[
            "file"
        ].help_text = f"图片、PDF、OFD、Office/WPS 文档，不超过 {settings.UPLOAD_MAX_BYTES // 1048576} MB"

    def clean_file(self):
        f = self.cleaned_data["file"]
        head = f.read(16)
        f.seek(0)
        try:
            attachment_check(name=f.name, size=f.size, head=head)
        except DomainError as exc:
            raise ValidationError(str(exc)) from exc
        return f


# ============================================================================================
# Red response: 领导包案, 联席会议
# ============================================================================================


def _user_label(user: Any) -> str:
    return user.display_name


class PackageForm(forms.Form):
    leader = forms.ModelChoiceField(
        label="包案领导", queryset=None, error_messages={"required": "请选择包案领导。"}
    )
    plan = forms.CharField(
        label="化解方案",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写化解方案。"},
    )
    report_back_on = forms.DateField(
        label="汇报日期", widget=DateInput(), error_messages={"required": "请填写汇报日期。"}
    )
    task_force = forms.ModelMultipleChoiceField(
        label="专班成员", queryset=None, required=False, widget=forms.SelectMultiple(attrs={"size": 5})
    )
    task_force_units = forms.ModelMultipleChoiceField(
        label="专班部门", queryset=None, required=False, widget=forms.SelectMultiple(attrs={"size": 5})
    )

    def __init__(self, *args: Any, case: Case, user: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "package")
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = selectors.package_leaders(case)
        self.fields["leader"].label_from_instance = _user_label
        self.fields["leader"].empty_label = "请选择"
        if user is not None and self.fields["leader"].queryset.filter(pk=user.pk).exists():
            self.fields["leader"].initial = user.pk
        self.fields["task_force"].queryset = selectors.line_staff(case)
        self.fields["task_force"].label_from_instance = _user_label
        self.fields["task_force_units"].queryset = selectors.line_units(case)

    def clean_report_back_on(self):
        value = self.cleaned_data["report_back_on"]
        if value < timezone.localdate():
            raise ValidationError("汇报日期不能早于今天。")
        return value


class MeetingForm(forms.Form):
    title = forms.CharField(label="会议名称", max_length=200, error_messages={"required": "请填写会议名称。"})
    held_at = datetime_field("召开时间", required=True)
    place = forms.CharField(label="地点", max_length=200, required=False)
    participants = forms.CharField(
        label="参会人员/部门",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写参会人员。"},
    )
    participant_units = forms.ModelMultipleChoiceField(
        label="参会部门", queryset=None, required=False, widget=forms.SelectMultiple(attrs={"size": 5})
    )
    decisions = forms.CharField(
        label="会议决定",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写会议决定。"},
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "meeting")
        super().__init__(*args, **kwargs)
        self.fields["participant_units"].queryset = selectors.line_units(case)
        self.fields["held_at"].initial = timezone.localtime().strftime(DATETIME_LOCAL)


class MeetingTaskForm(forms.Form):
    task = forms.CharField(label="任务", max_length=300, required=False)
    due_on = forms.DateField(label="完成时限", required=False, widget=DateInput())
    unit = forms.ModelChoiceField(label="责任部门", queryset=None, required=False)
    assignee = forms.ModelChoiceField(label="责任人", queryset=None, required=False)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = selectors.line_units(case)
        self.fields["assignee"].queryset = selectors.line_staff(case)
        self.fields["assignee"].label_from_instance = _user_label

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        filled = any(data.get(f) for f in ("task", "due_on", "unit", "assignee"))
        if filled and not data.get("task"):
            self.add_error("task", "请填写任务内容。")
        if filled and not data.get("due_on"):
            self.add_error("due_on", "请填写完成时限。")
        return data


MeetingTaskFormSet = forms.formset_factory(MeetingTaskForm, extra=3, max_num=20)


# ============================================================================================
# Registration
# ============================================================================================


class CaseCreateForm(forms.Form):
    # Keyboard order: what the clerk hears first comes first.
    field_order = ["title", "category", "channel", "kind", "description", "region", "grid", "address"]
    kind = forms.ChoiceField(label="事项类型", choices=CaseKind.choices, initial=CaseKind.DISPUTE)
    channel = forms.ChoiceField(label="来源渠道", choices=Channel.choices, initial=Channel.VISIT)
    category = forms.ChoiceField(
        label="纠纷类别",
        choices=_blank(Category.choices, "请选择"),
        error_messages={"required": "请选择纠纷类别。"},
    )
    title = forms.CharField(
        label="事项摘要",
        max_length=200,
        error_messages={"required": "请填写事项摘要。"},
        widget=forms.TextInput(attrs={"autofocus": True}),
    )
    description = forms.CharField(label="事项详情", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    region = RegionChoiceField(
        label="发生地（村/社区、乡镇）",
        queryset=Region.objects.none(),
        widget=RegionSelect,
        empty_label="请选择",
        error_messages={"required": "请选择发生地。"},
    )
    grid = RegionChoiceField(
        label="网格",
        queryset=Region.objects.none(),
        required=False,
        widget=RegionSelect,
        empty_label="（不确定可不选）",
    )
    address = forms.CharField(label="详细地址", max_length=200, required=False)
    occurred_at = datetime_field("发生时间")
    amount = forms.DecimalField(
        label="涉及金额（元）",
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        error_messages={"min_value": "涉及金额不能为负数。"},
    )
    people_count = forms.IntegerField(
        label="涉及人数", min_value=1, initial=1, error_messages={"min_value": "涉及人数至少为 1。"}
    )
    has_casualty = forms.BooleanField(label="有人员伤亡", required=False)
    petition_risk = forms.BooleanField(label="有越级上访苗头或事实", required=False)
    risk_note = forms.CharField(
        label="风险迹象",
        max_length=200,
        required=False,
        help_text="如当事人情绪激动、扬言极端行为等；填写后转黄色预警",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions_in_scope(user, grids=False)
        self.fields["grid"].queryset = regions_in_scope(user, grids=True)
        own = primary_center(user)
        if own is not None:
            self.fields["region"].initial = own.region_id
        self.fields["grid"].label_from_instance = self._grid_label
        self._parents: dict[str, str] = {}

    def _grid_label(self, grid: Region) -> str:
        if not self._parents:
            parent_paths = {p for p in self.fields["grid"].queryset.values_list("path", flat=True)}
            step = Region.steplen
            rows = Region.objects.filter(path__in={p[:-step] for p in parent_paths}).values_list(
                "path", "name"
            )
            self._parents = dict(rows)
        return f"{self._parents.get(grid.path[: -Region.steplen], '')} {grid.name}"

    def clean_occurred_at(self):
        value = self.cleaned_data.get("occurred_at")
        if value and value > timezone.now() + dt.timedelta(minutes=5):
            raise ValidationError("发生时间不能晚于现在。")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        region, grid = data.get("region"), data.get("grid")
        if region and grid and not grid.path.startswith(region.path):
            self.add_error("grid", f"该网格不在「{region.name}」内。")
        return data

    def place(self) -> Region:
        return self.cleaned_data.get("grid") or self.cleaned_data["region"]


def validate_id_number(value: str, kind: str) -> str:
    """A Chinese resident ID (18 digits, check digit) or an organisation's USCC; a clear message."""
    number = value.replace(" ", "").upper()
    if kind == PersonKind.ORGANISATION:
        try:
            return uscc.validate(number)
        except stdnum_errors.ValidationError as exc:
            raise ValidationError("统一社会信用代码不正确（18 位，请核对校验位）。") from exc
    try:
        return ric.validate(number)
    except stdnum_errors.InvalidLength as exc:
        raise ValidationError(f"身份证号应为 18 位，您输入了 {len(number)} 位。") from exc
    except stdnum_errors.InvalidFormat as exc:
        raise ValidationError("身份证号格式不正确：前 17 位须为数字，末位为数字或 X。") from exc
    except stdnum_errors.InvalidChecksum as exc:
        raise ValidationError("身份证号校验位不正确，请逐位核对。") from exc
    except stdnum_errors.ValidationError as exc:
        raise ValidationError("身份证号中的出生日期或地区码不正确，请核对。") from exc


def validate_phone(value: str) -> str:
    """A mainland mobile or landline number (with area code), normalized to its national digits."""
    try:
        parsed = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("电话号码格式不正确。") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError("电话号码不正确：手机号为 11 位，座机请带区号（如 0731-84567890）。")
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in national if ch.isdigit())


class PartyForm(forms.Form):
    role = forms.ChoiceField(label="身份", choices=PartyRole.choices, initial=PartyRole.APPLICANT)
    kind = forms.ChoiceField(label="类型", choices=PersonKind.choices, initial=PersonKind.INDIVIDUAL)
    name = forms.CharField(label="姓名/名称", max_length=100, required=False)
    id_number = forms.CharField(label="身份证号/信用代码", max_length=32, required=False)
    phone = forms.CharField(
        label="电话",
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    address = forms.CharField(label="住址", max_length=200, required=False)
    field_order = ["name", "id_number", "phone", "role", "kind", "address"]

    def has_changed(self) -> bool:
        # A row with only the default role/kind is an empty row.
        return any(
            (self.data.get(self.add_prefix(f)) or "").strip()
            for f in ("name", "id_number", "phone", "address")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("kind") or PersonKind.INDIVIDUAL
        if not (data.get("name") or "").strip():
            self.add_error("name", "请填写当事人姓名或单位名称。")
        if data.get("id_number"):
            try:
                data["id_number"] = validate_id_number(data["id_number"], kind)
            except ValidationError as exc:
                self.add_error("id_number", exc)
        if data.get("phone"):
            try:
                data["phone"] = validate_phone(data["phone"])
            except ValidationError as exc:
                self.add_error("phone", exc)
        return data


PartyFormSet = forms.formset_factory(PartyForm, extra=2, max_num=30)
