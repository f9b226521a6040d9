"""Forms of the hall. They check input shape and show field-level Chinese errors; the rules live
in the services (which run the same validators again)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from cases.models import Category, PartyRole, Satisfaction
from centers.models import Center, DepartmentKind, Region, RegionKind, Role, Unit, User

from . import routing, uploads
from .models import Route, Window
from .selectors import mediators_in_county, units_in_county
from .validators import InvalidNumber, clean_id_number, clean_phone

# Route choices with a digit in front: in the select, typing the digit picks the route.
ROUTE_CHOICES = [("", "— 请选择分类 —")] + [
    (v, f"{i} {label}") for i, (v, label) in enumerate(Route.choices, 1)
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": uploads.ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        out = []
        for f in files:
            cleaned = super().clean(f, initial)
            reason = uploads.problem(cleaned)
            if reason:
                raise forms.ValidationError(f"{cleaned.name}：{reason}")
            out.append(cleaned)
        return out


def region_choices(center: Center) -> list[tuple[int, str]]:
    """The center's own place and the towns and villages under it, indented by depth."""
    base = center.region
    qs = Region.objects.filter(
        path__startswith=base.path,
        kind__in=[RegionKind.COUNTY, RegionKind.TOWN, RegionKind.VILLAGE, base.kind],
    ).order_by("path")
    return [
        (r.pk, "\u3000" * (r.depth - base.depth) + r.name) for r in qs.only("pk", "name", "depth", "path")
    ]


class VisitForm(forms.Form):
    id_number = forms.CharField(
        label="身份证号码",
        required=False,
        max_length=24,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "data-key": "i",
                "autocomplete": "off",
                "inputmode": "text",
                "data-lookup": "id_number",
            }
        ),
        help_text="18 位；旧版 15 位自动升位。Alt+I",
    )
    phone = forms.CharField(
        label="联系电话",
        required=False,
        max_length=24,
        widget=forms.TextInput(
            attrs={"type": "tel", "data-key": "p", "autocomplete": "off", "data-lookup": "phone"}
        ),
        help_text="手机号或带区号固话，可带 +86。Alt+P",
    )
    name = forms.CharField(
        label="姓名", max_length=100, widget=forms.TextInput(attrs={"data-key": "n", "autocomplete": "off"})
    )
    address = forms.CharField(label="住址", max_length=200, required=False)
    region = forms.TypedChoiceField(label="事项发生地", coerce=int)
    people_count = forms.IntegerField(
        label="来访人数",
        min_value=1,
        max_value=9999,
        initial=1,
        help_text="5 人及以上为集体访",
    )
    representatives = forms.CharField(
        label="集体访代表",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "data-key": "d"}),
        help_text="5 人及以上须推选代表，最多 5 人；每行一人：姓名 电话（电话可省略）。留空则以来访人为代表。Alt+D",
    )
    category = forms.ChoiceField(label="类别", choices=Category.choices, initial=Category.OTHER)
    matter = forms.CharField(
        label="来访事由",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"data-key": "m"}),
        help_text="一句话概括诉求。Alt+M",
    )
    description = forms.CharField(
        label="详细情况",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Ctrl+Enter 直接提交",
    )
    photos = MultipleFileField(label="照片或扫描件", required=False, help_text="JPG/PNG/WebP/PDF，最多 6 个")
    route = forms.ChoiceField(
        label="分类受理",
        choices=ROUTE_CHOICES,
        widget=forms.Select(attrs={"data-key": "r"}),
        help_text="按数字键选择。Alt+R",
    )
    result = forms.CharField(
        label="办理结果（当场答复）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="即接即办必填；法律咨询当场解答时填写即办结",
    )
    satisfaction = forms.ChoiceField(
        label="来访人评价", choices=Satisfaction.choices, initial=Satisfaction.SATISFIED
    )
    unit = forms.TypedChoiceField(label="转办单位", coerce=int, required=False, empty_value=None)
    units = forms.TypedMultipleChoiceField(
        label="召集部门",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    summons_hours = forms.IntegerField(label="报到时限（小时）", min_value=1, max_value=72, initial=2)
    mediator = forms.TypedChoiceField(label="调解员", coerce=int, required=False, empty_value=None)
    attach = forms.TypedMultipleChoiceField(
        label="并入已有事项", coerce=int, required=False, widget=forms.MultipleHiddenInput
    )
    ticket = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, center: Center, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.center = center
        self.fields["region"].choices = region_choices(center)
        self.fields["region"].initial = center.region_id
        units = list(units_in_county(center))
        self.units_by_id = {u.pk: u for u in units}
        by_kind = {
            "political": [u for u in units if u.kind in routing.POLITICAL_LEGAL],
            "legal": [u for u in units if u.kind in routing.LEGAL_SERVICES],
        }
        self.fields["unit"].choices = [("", "— 请选择 —")] + [(u.pk, u.name) for u in by_kind["political"]]
        self.fields["units"].choices = [(u.pk, u.name) for u in units]
        mediators = list(mediators_in_county(center))
        self.mediators_by_id = {m.pk: m for m in mediators}
        self.fields["mediator"].choices = [("", "— 请选择 —")] + [(m.pk, m.display_name) for m in mediators]
        # The attach choices are whatever ids were posted; the service re-reads them through the gate.
        posted = self.data.getlist("attach") if hasattr(self.data, "getlist") else []
        self.fields["attach"].choices = [(int(v), v) for v in posted if str(v).isdigit()]

    def clean_id_number(self) -> str:
        value = self.cleaned_data["id_number"].strip()
        if not value:
            return ""
        try:
            return clean_id_number(value)
        except InvalidNumber as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        if not value:
            return ""
        try:
            return clean_phone(value)
        except InvalidNumber as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_unit(self) -> Unit | None:
        pk = self.cleaned_data.get("unit")
        return self.units_by_id.get(pk) if pk else None

    def clean_representatives(self) -> list:
        from .services import MAX_REPRESENTATIVES, REPRESENTATIVES_ERROR, PartyInput

        reps = []
        for n, line in enumerate((self.cleaned_data.get("representatives") or "").splitlines(), start=1):
            parts = line.split()
            if not parts:
                continue
            phone = ""
            if len(parts) > 1:
                try:
                    phone = clean_phone("".join(parts[1:]))
                except InvalidNumber as exc:
                    raise forms.ValidationError(f"第 {n} 行（{parts[0]}）：{exc}") from exc
            reps.append(PartyInput(name=parts[0], role="representative", phone=phone))
        if len(reps) > MAX_REPRESENTATIVES:
            raise forms.ValidationError(REPRESENTATIVES_ERROR)
        return reps

    def clean(self) -> dict:
        data = super().clean()
        route = data.get("route")
        if (
            not data.get("id_number")
            and not data.get("phone")
            and not self.has_error("id_number")
            and not self.has_error("phone")
        ):
            self.add_error("id_number", "身份证号码和联系电话至少填写一项，以便回访和识别再次来访。")
        if route and route != Route.COUNSELLING and not (data.get("matter") or "").strip():
            self.add_error("matter", "请填写来访事由。")
        if route == Route.ON_THE_SPOT and not (data.get("result") or "").strip():
            self.add_error("result", "即接即办须填写办理结果。")
        if route == Route.LAW_LITIGATION and not data.get("unit"):
            self.add_error("unit", "请选择转办的政法单位。")
        if route in (Route.LEGAL_AID,) or (
            route == Route.CONSULTATION and not (data.get("result") or "").strip()
        ):
            if not data.get("unit"):
                self.add_error("unit", "请选择法律服务部门（司法局/司法所），或当场解答后填写办理结果。")
        if route == Route.MEDIATION and not data.get("mediator"):
            self.add_error("mediator", "请选择调解员。")
        if route == Route.JOINT and len(data.get("units") or []) < 2:
            self.add_error("units", "联调联处须召集至少两个部门。")
        if route == Route.ATTACH and not data.get("attach"):
            self.add_error("route", "请先在右侧勾选要并入的已有事项。")
        return data

    @property
    def legal_unit_ids(self) -> list[int]:
        return [u.pk for u in self.units_by_id.values() if u.kind in routing.LEGAL_SERVICES]


class PartyForm(forms.Form):
    name = forms.CharField(label="对方当事人", max_length=100, required=False)
    role = forms.ChoiceField(
        label="身份", choices=PartyRole.choices, initial=PartyRole.RESPONDENT, required=False
    )
    phone = forms.CharField(label="电话", max_length=24, required=False)

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        if not value:
            return ""
        try:
            return clean_phone(value)
        except InvalidNumber as exc:
            raise forms.ValidationError(str(exc)) from exc


PartyFormSet = forms.formset_factory(PartyForm, extra=2, max_num=10)


class TicketForm(forms.Form):
    target = forms.ChoiceField(label="办理窗口或部门", widget=forms.Select(attrs={"autofocus": True}))
    people_count = forms.IntegerField(label="人数", min_value=1, max_value=999, initial=1)

    def __init__(self, *args: Any, center: Center, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        windows = list(Window.objects.filter(center=center, is_active=True).order_by("number"))
        departments = sorted({w.department for w in windows}, key=lambda d: DepartmentKind.values.index(d))
        self.windows = {f"w{w.pk}": w for w in windows}
        self.fields["target"].choices = (
            [("", "综合受理（任一窗口）")]
            + [(d, f"{DepartmentKind(d).label}（任一{DepartmentKind(d).label}窗口）") for d in departments]
            + [(key, str(w)) for key, w in self.windows.items()]
        )


class WindowForm(forms.Form):
    number = forms.IntegerField(label="窗口号", min_value=1, max_value=99)
    name = forms.CharField(label="窗口名称", max_length=50)
    department = forms.ChoiceField(label="部门类别", choices=DepartmentKind.choices)
    unit = forms.TypedChoiceField(label="进驻部门", coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, center: Center, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.units = {u.pk: u for u in units_in_county(center)}
        self.fields["unit"].choices = [("", "— 无 —")] + [(pk, u.name) for pk, u in self.units.items()]


class DutyForm(forms.Form):
    window = forms.TypedChoiceField(label="窗口", coerce=int)
    date = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}))
    users = forms.TypedMultipleChoiceField(
        label="值班人员", coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, center: Center, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.window_map = {
            w.pk: w for w in Window.objects.filter(center=center, is_active=True).order_by("number")
        }
        self.fields["window"].choices = [(pk, str(w)) for pk, w in self.window_map.items()]
        self.fields["date"].initial = timezone.localdate()
        self.clerks = {
            u.pk: u
            for u in User.objects.filter(
                memberships__center=center,
                memberships__role__in=(Role.WINDOW_CLERK, Role.HALL_SUPERVISOR),
                memberships__is_active=True,
                is_active=True,
            )
            .distinct()
            .order_by("username")
        }
        self.fields["users"].choices = [(pk, u.display_name) for pk, u in self.clerks.items()]

    def clean_date(self) -> dt.date:
        value = self.cleaned_data["date"]
        if value < timezone.localdate():
            raise forms.ValidationError("不能为过去的日期排班。")
        return value


class StatusQueryForm(forms.Form):
    tracking_no = forms.CharField(
        label="受理编号", max_length=32, widget=forms.TextInput(attrs={"autofocus": True})
    )
    code = forms.CharField(label="查询码", max_length=32)


# ============================================================================================
# Counselling, leader reception days, appointments
# ============================================================================================


class CounsellingSessionForm(forms.Form):
    minutes = forms.IntegerField(label="时长（分钟）", min_value=1, max_value=480, initial=50)
    notes = forms.CharField(label="咨询记录", widget=forms.Textarea(attrs={"rows": 4, "data-key": "s"}))


class CounsellingFinishForm(forms.Form):
    outcome = forms.CharField(label="咨询结果", widget=forms.Textarea(attrs={"rows": 3}))
    follow_up_on = forms.DateField(
        label="回访日期", required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="将短信提醒来访人"
    )
    follow_up_note = forms.CharField(label="回访安排", max_length=200, required=False)


class LeaderSlotForm(forms.Form):
    leader = forms.TypedChoiceField(label="接访领导", coerce=int)
    date = forms.DateField(label="接访日期", widget=forms.DateInput(attrs={"type": "date"}))
    starts_at = forms.TimeField(label="开始", widget=forms.TimeInput(attrs={"type": "time"}), initial="09:00")
    ends_at = forms.TimeField(label="结束", widget=forms.TimeInput(attrs={"type": "time"}), initial="12:00")
    topics = forms.CharField(label="接访主题", max_length=200, help_text="如：征地拆迁、劳动保障")
    place = forms.CharField(label="地点", max_length=100, required=False, initial="领导接待室")
    capacity = forms.IntegerField(label="可预约人数", min_value=1, max_value=100, initial=10)

    def __init__(self, *args: Any, leaders: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.leaders = {u.pk: u for u in leaders}
        self.fields["leader"].choices = [(u.pk, u.display_name) for u in leaders]

    def clean_date(self) -> dt.date:
        value = self.cleaned_data["date"]
        if value < timezone.localdate():
            raise forms.ValidationError("接访日期不能早于今天。")
        return value

    def clean(self) -> dict:
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", "结束时间须晚于开始时间。")
        return data


class VisitorLookupForm(forms.Form):
    """The visitor by ID number or phone, as at registration."""

    id_number = forms.CharField(
        label="身份证号码", required=False, max_length=24, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    phone = forms.CharField(
        label="联系电话", required=False, max_length=24, widget=forms.TextInput(attrs={"type": "tel"})
    )

    def clean_id_number(self) -> str:
        value = self.cleaned_data["id_number"].strip()
        try:
            return clean_id_number(value) if value else ""
        except InvalidNumber as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        try:
            return clean_phone(value) if value else ""
        except InvalidNumber as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("id_number") and not data.get("phone") and not self.errors.get("id_number"):
            if not self.errors.get("phone"):
                self.add_error("id_number", "请填写来访人的身份证号码或联系电话。")
        return data


class LeaderBookingForm(VisitorLookupForm):
    tracking_no = forms.CharField(label="事项受理编号", max_length=32)


class LeaderOutcomeForm(forms.Form):
    instruction = forms.CharField(label="领导批示（接访处理意见）", widget=forms.Textarea(attrs={"rows": 3}))


class AppointmentForm(VisitorLookupForm):
    tracking_no = forms.CharField(label="事项受理编号", max_length=32, required=False)
    purpose = forms.ChoiceField(label="事由", choices=[])
    at = forms.DateTimeField(
        label="预约时间",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    place = forms.CharField(label="地点", max_length=100, required=False)
    note = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from .models import AppointmentPurpose

        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = AppointmentPurpose.choices

    def clean_at(self) -> dt.datetime:
        value = self.cleaned_data["at"]
        if value <= timezone.now():
            raise forms.ValidationError("预约时间须晚于现在。")
        return value
