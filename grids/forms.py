"""Forms of grid work: input checks and field-level messages only; writes go to grids.services.

The phone forms keep to what a grid worker types with a thumb: few fields, native pickers
(select, date, camera via `capture`), numeric keyboards where numbers are asked for.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from cases.models import Category
from centers.models import Region, Unit, User

from .models import HazardType, Rhythm, Severity, TeamRole, VisitFinding

DISPUTE_CATEGORIES = [(v, label) for v, label in Category.choices if v != Category.SAFETY]
PHOTO_ATTRS = {"accept": "image/jpeg,image/png,image/webp", "capture": "environment", "data-resize": "1600"}
EVIDENCE_ATTRS = {"accept": "image/jpeg,image/png,image/webp,application/pdf", "data-resize": "1600"}


class GridChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        parent = getattr(obj, "village_name", "")
        return f"{parent} {obj.name}".strip()


class _GridForm(forms.Form):
    """A form about one of the user's grids (a hidden field when they serve only one)."""

    def __init__(self, *args: Any, grids, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = GridChoiceField(label="网格", queryset=grids, empty_label=None)
        ids = list(grids.values_list("pk", flat=True)[:2])
        if len(ids) == 1:
            field.widget = forms.HiddenInput()
            field.initial = ids[0]
        self.fields = {"grid": field, **self.fields}


class VisitForm(_GridForm):
    household = forms.CharField(label="户主/住户", max_length=50)
    address = forms.CharField(label="门牌地址", max_length=200)
    finding = forms.ChoiceField(
        label="走访结果", choices=VisitFinding.choices, initial=VisitFinding.NORMAL, widget=forms.RadioSelect
    )
    notes = forms.CharField(
        label="走访情况", required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="发现问题的必填"
    )
    photo = forms.FileField(
        label="现场照片", required=False, widget=forms.ClearableFileInput(attrs=PHOTO_ATTRS)
    )
    visited_at = forms.DateTimeField(
        label="走访时间",
        required=False,
        help_text="不填为现在；没有信号时事后补录可填实际时间（7 天内）",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("finding") not in (None, VisitFinding.NORMAL) and not (data.get("notes") or "").strip():
            self.add_error("notes", "发现问题的，请填写走访情况。")
        return data


class DisputeReportForm(_GridForm):
    category = forms.ChoiceField(label="纠纷类别", choices=[("", "请选择")] + DISPUTE_CATEGORIES)
    title = forms.CharField(label="纠纷摘要", max_length=200, help_text="一句话说明谁和谁、因为什么")
    description = forms.CharField(label="详细情况", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    address = forms.CharField(label="发生地点", max_length=200, required=False)
    people_count = forms.IntegerField(
        label="涉及人数", min_value=1, initial=1, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    party_name = forms.CharField(label="当事人姓名", max_length=50, required=False)
    party_phone = forms.CharField(
        label="当事人电话", max_length=20, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    risk_note = forms.CharField(
        label="风险迹象", max_length=200, required=False, help_text="如有激化、越级上访苗头，请写明"
    )
    photo = forms.FileField(
        label="现场照片", required=False, widget=forms.ClearableFileInput(attrs=PHOTO_ATTRS)
    )
    visit = forms.IntegerField(required=False, widget=forms.HiddenInput)


class HazardReportForm(_GridForm):
    hazard_type = forms.ChoiceField(label="隐患类型", choices=[("", "请选择")] + HazardType.choices)
    severity = forms.ChoiceField(
        label="严重程度", choices=Severity.choices, initial=Severity.GENERAL, widget=forms.RadioSelect
    )
    place = forms.CharField(label="隐患位置", max_length=200)
    description = forms.CharField(label="隐患情况", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    photo = forms.FileField(
        label="隐患照片", required=False, widget=forms.ClearableFileInput(attrs=PHOTO_ATTRS)
    )
    visit = forms.IntegerField(required=False, widget=forms.HiddenInput)


class FollowUpForm(forms.Form):
    text = forms.CharField(label="补充情况", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


# --------------------------------------------------------------------------------------------
# Hazard handling (station, town, responsible unit, grid worker)
# --------------------------------------------------------------------------------------------


class _Versioned(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class HazardAssignForm(_Versioned):
    unit = forms.ModelChoiceField(label="整改责任单位", queryset=Unit.objects.none())
    requirement = forms.CharField(label="整改要求", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, units, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units


class HazardRectifyForm(_Versioned):
    rectification = forms.CharField(label="整改情况", widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.FileField(
        label="整改佐证（照片或 PDF）", widget=forms.ClearableFileInput(attrs=EVIDENCE_ATTRS)
    )


class HazardVerifyForm(_Versioned):
    comment = forms.CharField(label="核查意见", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class HazardRejectForm(_Versioned):
    comment = forms.CharField(label="未通过原因", widget=forms.Textarea(attrs={"rows": 2}))


# --------------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------------


class SweepForm(forms.Form):
    region = forms.ModelChoiceField(label="排查范围", queryset=Region.objects.none())
    rhythm = forms.ChoiceField(label="排查类型", choices=Rhythm.choices, initial=Rhythm.SPECIAL)
    title = forms.CharField(label="名称", max_length=100, required=False, help_text="不填则按范围和日期生成")
    focus = forms.CharField(label="排查重点", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    period_start = forms.DateField(label="开始日期", widget=forms.DateInput(attrs={"type": "date"}))
    due_on = forms.DateField(label="完成时限", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, regions, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions
        self.fields["region"].label_from_instance = lambda r: f"{'　' * max(r.depth - 1, 0)}{r.name}"
        today = timezone.localdate()
        self.fields["period_start"].initial = today
        self.fields["due_on"].initial = today + dt.timedelta(days=7)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, due = data.get("period_start"), data.get("due_on")
        if start and due and due < start:
            self.add_error("due_on", "完成时限不能早于开始日期。")
        return data


class SweepTaskForm(forms.Form):
    households_checked = forms.IntegerField(
        label="排查户数", min_value=0, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    other_findings = forms.IntegerField(
        label="其他发现（当场处置、未立案）",
        min_value=0,
        initial=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    summary = forms.CharField(label="排查情况", widget=forms.Textarea(attrs={"rows": 4}))
    cases = forms.MultipleChoiceField(
        label="本次排查上报的事项", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, candidates, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cases"].choices = [
            (str(c.pk), f"{c.tracking_no} {c.get_kind_display()}：{c.title}") for c in candidates
        ]
        if not self.is_bound:
            self.fields["cases"].initial = [str(c.pk) for c in candidates]


# --------------------------------------------------------------------------------------------
# Teams and the grid's card
# --------------------------------------------------------------------------------------------


class TeamMemberForm(forms.Form):
    role = forms.ChoiceField(label="岗位", choices=TeamRole.choices)
    user = forms.ModelChoiceField(
        label="登录账号", queryset=User.objects.none(), required=False, help_text="网格员必选；其他岗位可不选"
    )
    name = forms.CharField(label="姓名", max_length=50, required=False, help_text="选了账号可不填")
    phone = forms.CharField(
        label="联系电话", max_length=30, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    title = forms.CharField(label="职务/说明", max_length=50, required=False)

    def __init__(self, *args: Any, users, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = users
        self.fields["user"].label_from_instance = lambda u: f"{u.display_name}（{u.username}）"


class GridProfileForm(forms.Form):
    households = forms.IntegerField(label="实有户数", min_value=0)
    population = forms.IntegerField(label="实有人口", min_value=0)
    houses = forms.IntegerField(label="实有房屋（栋/套）", min_value=0)
    floating_population = forms.IntegerField(label="流动人口", min_value=0, initial=0)
    boundary = forms.CharField(label="四至范围", max_length=200, required=False)
    service_phone = forms.CharField(label="网格服务电话", max_length=30, required=False)
    note = forms.CharField(label="备注", max_length=200, required=False)


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


class FiguresForm(forms.Form):
    region = forms.ModelChoiceField(label="范围", queryset=Region.objects.none(), required=False)
    start = forms.DateField(label="开始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="结束日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    idle_days = forms.IntegerField(
        label="未走访预警天数", min_value=1, max_value=90, required=False, initial=7
    )

    def __init__(self, *args: Any, regions, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions
        self.fields["region"].label_from_instance = lambda r: f"{'　' * max(r.depth - 1, 0)}{r.name}"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "结束日期不能早于开始日期。")
        return data
