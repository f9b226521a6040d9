"""Forms of the supervision and assessment pages: they parse input; the services decide."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from centers.models import User

from . import metrics
from .clocks import WorkCalendar
from .models import PointKind, PointWeight, SupervisionPolicy, SupervisionStatus, WarningLevel
from .selectors_supervision import ListFilter, towns_for_user, units_for_user
from .supervision import instructing_leaders


class _UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class ListFilterForm(forms.Form):
    """Per town and per department (both through the jurisdiction gate)."""

    town = forms.ModelChoiceField(label="乡镇（街道）", queryset=None, required=False, empty_label="全部")
    unit = forms.ModelChoiceField(label="职能部门", queryset=None, required=False, empty_label="全部")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["town"].queryset = towns_for_user(user)
        self.fields["unit"].queryset = units_for_user(user)

    def list_filter(self) -> ListFilter:
        data = self.cleaned_data if self.is_valid() else {}
        return ListFilter(town=data.get("town"), unit=data.get("unit"))


class RiskFilterForm(ListFilterForm):
    colour = forms.ChoiceField(
        label="预警",
        required=False,
        choices=[
            ("", "红色和黄色"),
            (WarningLevel.RED, "红色"),
            (WarningLevel.YELLOW, "黄色"),
            ("all", "全部在办"),
        ],
    )

    def colours(self) -> tuple[str, ...]:
        value = self.cleaned_data.get("colour", "") if self.is_valid() else ""
        if value == "all":
            return tuple(WarningLevel.values)
        if value:
            return (value,)
        return (WarningLevel.RED, WarningLevel.YELLOW)


class TaskFilterForm(ListFilterForm):
    within = forms.TypedChoiceField(
        label="截止时间",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "全部"), ("0", "已超期"), ("3", "3 天内"), ("7", "7 天内"), ("30", "30 天内")],
    )


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部"), *SupervisionStatus.choices]
    )
    overdue = forms.BooleanField(label="只看逾期未反馈", required=False)


class SupervisionOrderForm(forms.Form):
    demand = forms.CharField(label="督办要求", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    due_on = forms.DateField(
        label="反馈期限", widget=forms.DateInput(attrs={"type": "date"}), help_text="当日 24:00 前反馈"
    )
    supervised_unit = forms.ModelChoiceField(
        label="被督办部门",
        queryset=None,
        required=False,
        empty_label="（责任中心）",
        help_text="默认为事项的责任部门",
    )

    def __init__(self, *args: Any, case, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supervised_unit"].queryset = units_for_user(user)
        if not self.is_bound:
            workdays = SupervisionPolicy.current().default_response_workdays
            last_day, _ = WorkCalendar().add_workdays(timezone.localdate(), workdays)
            self.initial.setdefault("due_on", last_day)
            self.initial.setdefault("supervised_unit", case.owning_unit_id)

    def clean_due_on(self) -> dt.date:
        value = self.cleaned_data["due_on"]
        if value < timezone.localdate():
            raise forms.ValidationError("反馈期限不能早于今天。")
        return value


class ResponseForm(forms.Form):
    response = forms.CharField(label="反馈情况", widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)


class InstructionForm(forms.Form):
    leader = _UserChoice(label="批示领导", queryset=User.objects.none())
    text = forms.CharField(label="批示内容", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    instructed_at = forms.DateTimeField(
        label="批示时间",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="留空为现在",
    )

    def __init__(self, *args: Any, case, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        leaders = instructing_leaders(case)
        self.fields["leader"].queryset = User.objects.filter(pk__in=[u.pk for u in leaders]).order_by(
            "full_name", "username"
        )
        if not self.is_bound and any(u.pk == user.pk for u in leaders):
            self.initial["leader"] = user.pk


class PeriodForm(forms.Form):
    year = forms.TypedChoiceField(label="年度", coerce=int)
    quarter = forms.TypedChoiceField(
        label="季度", coerce=int, choices=[(1, "第一季度"), (2, "第二季度"), (3, "第三季度"), (4, "第四季度")]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        this_year = timezone.localdate().year
        self.fields["year"].choices = [(y, f"{y} 年") for y in range(this_year, this_year - 6, -1)]

    def period(self) -> tuple[int, int, metrics.Period]:
        if self.is_valid():
            year, quarter = self.cleaned_data["year"], self.cleaned_data["quarter"]
        else:
            year, quarter = metrics.current_quarter(timezone.localdate())
        return year, quarter, metrics.Period.quarter(year, quarter)


class WeightsForm(forms.Form):
    """One field per event kind: its points (negative: deducted)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = {w.kind: w for w in PointWeight.objects.all()}
        for kind, label in PointKind.choices:
            weight = current.get(kind)
            self.fields[kind] = forms.DecimalField(
                label=label,
                max_digits=6,
                decimal_places=1,
                min_value=-100,
                max_value=100,
                initial=weight.points if weight else 0,
                help_text=weight.note if weight else "",
            )
