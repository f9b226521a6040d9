"""Forms of the mediation pages: validation and field-level messages only; writes go through services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from cases.forms import DateInput, datetime_field, validate_phone
from cases.models import Category, PartyRole, Satisfaction
from centers.models import Region, Unit

from .models import ConsentWay, Performance, ReferralKind, RouteOn, SessionResult


class VersionForm(forms.Form):
    """Carries the case version the user saw; a write on a newer version is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class AssignForm(VersionForm):
    mediator = forms.TypedChoiceField(
        label="调解员",
        coerce=int,
        error_messages={"required": "请选择调解员。", "invalid_choice": "请从建议名单中选择调解员。"},
    )
    comment = forms.CharField(
        label="说明", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="更换调解员时必填（更换理由）",
    )

    def __init__(self, *args: Any, suggestions: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by_id = {s.mediator.pk: s for s in suggestions}
        self.fields["mediator"].choices = [("", "— 请选择 —")] + [
            (s.mediator.pk, f"{s.mediator.name}（{s.committee.name}）") for s in suggestions
        ]

    def clean_mediator(self):
        pk = self.cleaned_data["mediator"]
        if pk not in self.by_id:
            raise forms.ValidationError("请从建议名单中选择调解员。")
        return self.by_id[pk]


class ConsentForm(VersionForm):
    way = forms.ChoiceField(label="调解启动方式", choices=ConsentWay.choices, initial=ConsentWay.APPLICATION)
    note = forms.CharField(label="说明", required=False, max_length=300, help_text="如：双方于调解申请书上签字")


class SessionForm(VersionForm):
    held_at = datetime_field("调解时间", required=True)
    place = forms.CharField(label="调解地点", max_length=200, error_messages={"required": "请填写调解地点。"})
    participants = forms.CharField(
        label="参加人员", widget=forms.Textarea(attrs={"rows": 2}), help_text="当事人、调解员及其他参加人",
        error_messages={"required": "请填写参加人员。"},
    )
    record = forms.CharField(
        label="调解笔录", widget=forms.Textarea(attrs={"rows": 10}), error_messages={"required": "请填写调解笔录。"}
    )
    result = forms.ChoiceField(label="本次结果", choices=SessionResult.choices)

    def clean_held_at(self):
        value = self.cleaned_data["held_at"]
        if value > timezone.now() + dt.timedelta(hours=1):
            raise forms.ValidationError("调解时间不能晚于现在：请在调解后记录。")
        return value


class AgreementForm(VersionForm):
    facts = forms.CharField(label="纠纷主要事实、争议事项", widget=forms.Textarea(attrs={"rows": 5}))
    terms = forms.CharField(
        label="协议内容", widget=forms.Textarea(attrs={"rows": 6}), help_text="每行一项，协议书中逐项编号"
    )
    amount = forms.DecimalField(label="协议金额（元）", required=False, min_value=0, max_digits=14, decimal_places=2)
    beneficiaries = forms.IntegerField(
        label="受益人数", required=False, min_value=0, initial=0, help_text="如欠薪纠纷中拿到工资的劳动者人数"
    )
    performance_way = forms.CharField(label="履行方式", required=False, max_length=200)
    performance_due = forms.DateField(label="履行期限", required=False, widget=DateInput(), help_text="留空为当场履行")
    copies = forms.IntegerField(label="协议书份数", min_value=2, max_value=10, initial=3)

    def clean_performance_due(self):
        value = self.cleaned_data.get("performance_due")
        if value and value < timezone.localdate():
            raise forms.ValidationError("履行期限不能早于今天。")
        return value


class FailForm(VersionForm):
    reason = forms.CharField(
        label="调解不成原因", widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写调解不成的原因。"},
    )
    route_on = forms.ChoiceField(label="分流去向", choices=RouteOn.choices)
    unit = forms.ModelChoiceField(
        label="受理单位", queryset=Unit.objects.none(), required=False,
        help_text="引导诉讼选法院或法庭，仲裁选仲裁机构所在部门；终止调解不选",
    )

    def __init__(self, *args: Any, units, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units

    def clean(self):
        data = super().clean()
        if data.get("route_on") and data["route_on"] != RouteOn.NONE and not data.get("unit"):
            self.add_error("unit", f"请选择「{RouteOn(data['route_on']).label}」的受理单位。")
        return data


class ReferralFailForm(VersionForm):
    reason = forms.CharField(
        label="调解不成原因", widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写调解不成的原因。"},
    )


class FollowUpForm(VersionForm):
    performance = forms.ChoiceField(
        label="履行情况", choices=[(v, label) for v, label in Performance.choices if v != Performance.PENDING]
    )
    performed_amount = forms.DecimalField(
        label="已履行金额（元）", required=False, min_value=0, max_digits=14, decimal_places=2,
        help_text="全部履行时可留空（按协议金额）",
    )
    satisfaction = forms.ChoiceField(label="回访满意度", choices=Satisfaction.choices)
    note = forms.CharField(label="回访情况", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ConfirmApplyForm(forms.Form):
    court = forms.ModelChoiceField(label="受理法院", queryset=Unit.objects.none())
    applied_on = forms.DateField(label="申请日期", widget=DateInput())

    def __init__(self, *args: Any, courts, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["court"].queryset = courts


class ConfirmRecordForm(forms.Form):
    confirmed = forms.TypedChoiceField(
        label="裁定结果", choices=[("1", "确认调解协议有效"), ("0", "驳回申请")], coerce=lambda v: v == "1"
    )
    decided_on = forms.DateField(label="裁定日期", widget=DateInput())
    court_ref = forms.CharField(label="法院案号", max_length=60)
    note = forms.CharField(label="说明", required=False, max_length=300)


class ReportForm(VersionForm):
    text = forms.CharField(label="结果告知内容", widget=forms.Textarea(attrs={"rows": 5}))


class ReferralForm(forms.Form):
    kind = forms.ChoiceField(label="对接类型", choices=ReferralKind.choices)
    referring_unit = forms.ModelChoiceField(label="委派/移送单位", queryset=Unit.objects.none())
    external_no = forms.CharField(label="委派/移送编号", max_length=64, help_text="法院诉前调解案号、警情编号或信访件编号")
    deadline = forms.DateField(label="委派方要求的期限", required=False, widget=DateInput(), help_text="法院确定的调解期限；留空按规定期限")
    contact = forms.CharField(label="对方联系人", required=False, max_length=100)
    title = forms.CharField(label="纠纷摘要", max_length=200)
    category = forms.ChoiceField(label="纠纷类别", choices=Category.choices)
    description = forms.CharField(label="纠纷详情", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    region = forms.ModelChoiceField(label="纠纷发生地", queryset=Region.objects.none())
    amount = forms.DecimalField(label="涉及金额（元）", required=False, min_value=0, max_digits=14, decimal_places=2)
    people_count = forms.IntegerField(label="涉及人数", min_value=1, initial=1)
    applicant = forms.CharField(label="申请人（原告）", max_length=100)
    applicant_phone = forms.CharField(label="申请人电话", required=False, max_length=30)
    respondent = forms.CharField(label="被申请人（被告）", required=False, max_length=100)
    respondent_phone = forms.CharField(label="被申请人电话", required=False, max_length=30)
    source_case = forms.CharField(
        label="原信访件受理编号", required=False, max_length=32, help_text="访调对接时填写，系统关联原信访件"
    )

    def __init__(self, *args: Any, units, regions, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["referring_unit"].queryset = units
        self.fields["region"].queryset = regions
        self.fields["region"].label_from_instance = lambda r: "\u3000" * max(r.depth - 1, 0) + r.name

    def clean_deadline(self):
        value = self.cleaned_data.get("deadline")
        if value and value < timezone.localdate():
            raise forms.ValidationError("期限不能早于今天。")
        return value

    def clean_applicant_phone(self):
        value = self.cleaned_data.get("applicant_phone", "").strip()
        return validate_phone(value) if value else ""

    def clean_respondent_phone(self):
        value = self.cleaned_data.get("respondent_phone", "").strip()
        return validate_phone(value) if value else ""

    def parties(self):
        from cases.services import PartyInput

        d = self.cleaned_data
        out = [PartyInput(name=d["applicant"], role=PartyRole.APPLICANT, phone=d.get("applicant_phone", ""))]
        if d.get("respondent"):
            out.append(PartyInput(name=d["respondent"], role=PartyRole.RESPONDENT, phone=d.get("respondent_phone", "")))
        return out


class FiguresForm(forms.Form):
    start = forms.DateField(label="终结日期从", required=False, widget=DateInput())
    end = forms.DateField(label="至", required=False, widget=DateInput())
    by = forms.ChoiceField(
        label="分组",
        required=False,
        choices=[("committee", "按调解组织"), ("mediator", "按调解员"), ("domain", "按纠纷类别"), ("month", "按月份")],
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "结束日期不能早于开始日期。")
        return data
