"""Forms of the petition pages: input checks and field-level messages only; writes go to services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from cases.models import Category, Channel, Satisfaction
from cases.services import PersonData
from centers.jurisdiction import restrict
from centers.models import Region, RegionKind, Role, Unit, User

from .models import AnswerOutcome, ImportSource, SkipLevelTarget
from .validation import Invalid, clean_id_number, clean_phone

PETITION_CHANNELS = [
    (c.value, c.label)
    for c in (
        Channel.VISIT,
        Channel.LETTER,
        Channel.ONLINE,
        Channel.HOTLINE_12345,
        Channel.LEADER_MAILBOX,
        Channel.PHONE,
        Channel.POLICE_110,
    )
]


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        indent = "　" * max(obj.depth - 1, 0)
        return f"{indent}{obj.name}（{obj.get_kind_display()}）"


def regions_for(user: User):
    """Towns and villages the user may register petitions about, in tree order."""
    return restrict(
        Region.objects.filter(kind__in=[RegionKind.COUNTY, RegionKind.TOWN, RegionKind.VILLAGE]), user
    ).order_by("path")


def _person(name: str, id_number: str, phone: str, address: str = "") -> PersonData:
    return PersonData(name=name.strip(), id_number=id_number, phone=phone, address=address.strip())


class PetitionRegisterForm(forms.Form):
    channel = forms.ChoiceField(label="信访形式", choices=PETITION_CHANNELS, initial=Channel.VISIT)
    category = forms.ChoiceField(label="问题类别", choices=Category.choices)
    title = forms.CharField(label="事项摘要", max_length=200)
    description = forms.CharField(label="事项详情", widget=forms.Textarea(attrs={"rows": 4}), required=False)
    request = forms.CharField(label="信访诉求", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    region = RegionChoiceField(label="问题属地", queryset=Region.objects.none())
    address = forms.CharField(label="详细地址", max_length=200, required=False)
    occurred_at = forms.DateTimeField(
        label="发生时间",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    name = forms.CharField(label="信访人姓名", max_length=100)
    id_number = forms.CharField(label="身份证号", max_length=30, required=False)
    phone = forms.CharField(label="联系电话", max_length=30, required=False)
    person_address = forms.CharField(label="信访人住址", max_length=200, required=False)
    others = forms.CharField(
        label="其他信访人",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="每行一人：姓名 身份证号 电话（证件号、电话可省略，用空格分隔）",
    )
    people_count = forms.IntegerField(
        label="信访人数", min_value=1, initial=1, help_text="集体访时填写实际人数（5 人及以上为集体访）"
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions_for(user)

    def clean_id_number(self) -> str:
        try:
            return clean_id_number(self.cleaned_data["id_number"])
        except Invalid as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_phone(self) -> str:
        try:
            return clean_phone(self.cleaned_data["phone"])
        except Invalid as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_occurred_at(self):
        value = self.cleaned_data.get("occurred_at")
        if value and value > timezone.now():
            raise forms.ValidationError("发生时间不能晚于现在。")
        return value

    def clean_others(self) -> list[PersonData]:
        people = []
        for n, line in enumerate((self.cleaned_data.get("others") or "").splitlines(), start=1):
            parts = line.split()
            if not parts:
                continue
            name, id_number, phone = parts[0], "", ""
            for token in parts[1:]:
                try:
                    if len(token) >= 15 and not token.startswith(("+", "0086")) and token[:-1].isdigit():
                        id_number = clean_id_number(token)
                    else:
                        phone = clean_phone(token)
                except Invalid as exc:
                    raise forms.ValidationError(f"第 {n} 行（{name}）：{exc}") from exc
            people.append(_person(name, id_number, phone))
        return people

    def clean(self):
        data = super().clean()
        if (
            not data.get("id_number")
            and not data.get("phone")
            and "id_number" not in self.errors
            and "phone" not in self.errors
        ):
            self.add_error("phone", "身份证号和联系电话至少填写一项，以便回复和查询既往信访。")
        return data

    def petitioners(self) -> list[PersonData]:
        d = self.cleaned_data
        return [_person(d["name"], d["id_number"], d["phone"], d["person_address"]), *d["others"]]


class CommentForm(forms.Form):
    comment = forms.CharField(label="说明", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class RequiredCommentForm(CommentForm):
    comment = forms.CharField(label="说明", widget=forms.Textarea(attrs={"rows": 2}))


class HandOverForm(RequiredCommentForm):
    unit = forms.ModelChoiceField(label="责任单位", queryset=Unit.objects.none())
    comment = forms.CharField(label="交办意见", widget=forms.Textarea(attrs={"rows": 2}))
    field_order = ["unit", "comment", "version"]

    def __init__(self, *args: Any, units=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units if units is not None else Unit.objects.none()


class ReviewForm(RequiredCommentForm):
    comment = forms.CharField(label="信访人请求及理由", widget=forms.Textarea(attrs={"rows": 2}))
    unit = forms.ModelChoiceField(
        label="复查（复核）机关",
        queryset=Unit.objects.none(),
        required=False,
        help_text="留空则由原责任中心组织",
    )
    field_order = ["comment", "unit", "version"]

    def __init__(self, *args: Any, units=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units if units is not None else Unit.objects.none()


def leaders_queryset():
    return (
        User.objects.filter(
            memberships__role__in=[Role.CENTER_LEADER, Role.LEADERSHIP],
            memberships__is_active=True,
            is_active=True,
        )
        .distinct()
        .order_by("full_name", "username")
    )


class ExtendForm(forms.Form):
    days = forms.IntegerField(label="延期天数", min_value=1, max_value=30, initial=30)
    approver = forms.ModelChoiceField(label="批准人（本机关负责人）", queryset=User.objects.none())
    comment = forms.CharField(label="延期理由", widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["approver"].queryset = leaders_queryset()


class DeclineForm(forms.Form):
    comment = forms.CharField(label="不予受理理由", widget=forms.Textarea(attrs={"rows": 2}))
    remedy = forms.CharField(
        label="救济途径",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="留空则使用标准表述",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class AnswerForm(forms.Form):
    outcome = forms.ChoiceField(label="处理意见", choices=AnswerOutcome.choices)
    comment = forms.CharField(label="答复内容", widget=forms.Textarea(attrs={"rows": 4}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class EvaluateForm(forms.Form):
    satisfaction = forms.ChoiceField(
        label="信访人评价", choices=Satisfaction.choices, widget=forms.RadioSelect
    )
    reopen = forms.BooleanField(
        label="不满意，重新办理（不勾选则结案，信访人仍可在期限内申请复查）", required=False
    )
    comment = forms.CharField(label="回访情况", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class SkipLevelForm(forms.Form):
    target = forms.ChoiceField(label="越级去向", choices=SkipLevelTarget.choices)
    at = forms.DateTimeField(
        label="越级时间",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    reported_by = forms.CharField(label="通报机关", max_length=100, help_text="如：国家信访局、省信访局")
    comment = forms.CharField(label="通报内容", widget=forms.Textarea(attrs={"rows": 2}))


class KeyForm(forms.Form):
    leader = forms.ModelChoiceField(label="督办领导", queryset=User.objects.none())
    comment = forms.CharField(label="列为重点件的理由", widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = leaders_queryset()


class ImportUploadForm(forms.Form):
    source = forms.ChoiceField(label="数据来源", choices=ImportSource.choices)
    file = forms.FileField(label="文件（CSV 或 Excel .xlsx）")

    def clean_file(self):
        f = self.cleaned_data["file"]
        name = f.name.lower()
        if not name.endswith((".csv", ".xlsx")):
            raise forms.ValidationError("只支持 CSV（UTF-8 或 GBK 编码）和 Excel（.xlsx）文件。")
        return f
