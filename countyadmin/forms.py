"""Forms of the administration pages: validation and field-level messages only; writes go through services."""

from __future__ import annotations

from typing import Any

from django import forms

from centers.models import User

from . import access
from .models import SheetKind


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="原因", max_length=300, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )


class PasswordResetForm(ReasonForm):
    password = forms.CharField(
        label="临时密码",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="留空则由系统生成。请当面或电话告知本人；首次登录须修改。",
    )


def find_successor(admin: Any, text: str) -> User | None:
    """A successor by login name or mobile number, among the staff in post in `admin`'s area."""
    text = (text or "").strip()
    if not text:
        return None
    from cases.crypto import normalize_phone

    pool = access.staff_in_area(admin)
    user = pool.filter(username=text, is_active=True).first()
    if user is None and normalize_phone(text):
        matches = list(pool.filter(phone=normalize_phone(text), is_active=True)[:2])
        user = matches[0] if len(matches) == 1 else None
    return user


class SuccessorForm(ReasonForm):
    successor = forms.CharField(
        label="接手人", max_length=150, help_text="接手人的登录名或手机号，须为您管理范围内的在岗人员。"
    )

    def __init__(self, *args: Any, admin: Any, required: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.admin = admin
        self.fields["successor"].required = required

    def clean_successor(self) -> User | None:
        text = self.cleaned_data.get("successor", "")
        if not text:
            return None
        user = find_successor(self.admin, text)
        if user is None:
            raise forms.ValidationError("找不到该人员（或不在您的管理范围内、已停用、手机号对应多个账号）。")
        return user


class AccountSearchForm(forms.Form):
    q = forms.CharField(label="姓名、登录名或手机号", required=False)
    status = forms.ChoiceField(
        label="状态",
        required=False,
        choices=[("", "全部"), ("active", "启用"), ("inactive", "已停用"), ("locked", "已锁定")],
    )


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label="表格类型", choices=[("", "请选择"), *SheetKind.choices])
    file = forms.FileField(label="文件", help_text="按模板填写的 .xlsx 或 .csv 文件")
    initial_password = forms.CharField(
        label="新账号初始密码",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="工作人员表、网格员表必填：本表新建的账号使用此初始密码，首次登录须修改。",
    )
    reason = forms.CharField(
        label="说明", max_length=200, required=False, help_text="如“2026 年网格员队伍调整”"
    )

    def clean_file(self):
        from django.conf import settings

        f = self.cleaned_data["file"]
        if f.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(f"文件过大，不能超过 {settings.UPLOAD_MAX_BYTES // 1048576} MB。")
        if not f.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError("请上传 .xlsx（Excel）或 .csv 文件。")
        return f


# --------------------------------------------------------------------------------------------
# County settings
# --------------------------------------------------------------------------------------------


def _blank(choices, label: str = "不限") -> list[tuple[str, str]]:
    return [("", label), *choices]


class ClockRuleForm(forms.Form):
    from cases.models import CaseKind, Category, Level, LimitUnit, Status

    kind = forms.ChoiceField(label="事项类型", choices=_blank(CaseKind.choices), required=False)
    status = forms.ChoiceField(
        label="环节（状态）",
        choices=[(v, label) for v, label in Status.choices if v not in ("waiting", "closed", "merged")],
    )
    phase = forms.CharField(
        label="阶段", max_length=32, required=False, help_text="事项类型自有的阶段（如信访复查）；一般留空"
    )
    level = forms.ChoiceField(label="层级", choices=_blank(Level.choices), required=False)
    category = forms.ChoiceField(label="类别", choices=_blank(Category.choices), required=False)
    limit = forms.IntegerField(label="时限", min_value=1, max_value=10000)
    unit = forms.ChoiceField(label="单位", choices=LimitUnit.choices)
    yellow_ratio = forms.DecimalField(
        label="黄色预警比例",
        min_value=0.1,
        max_value=0.99,
        decimal_places=2,
        help_text="用时达到时限的该比例时转黄色预警，如 0.70",
    )
    note = forms.CharField(label="依据/说明", max_length=200, required=False)
    is_active = forms.BooleanField(label="启用", required=False, initial=True)
    reason = forms.CharField(label="修改原因", max_length=300, help_text="将记入操作记录和规则的修改历史")

    del CaseKind, Category, Level, LimitUnit, Status


class CalendarForm(forms.Form):
    year = forms.IntegerField(label="年份", min_value=2000, max_value=2100)
    holidays = forms.CharField(
        label="放假日期",
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="按国务院办公厅放假通知逐行填写，如“2027-01-01 元旦”或“2027-02-06至2027-02-12 春节”。",
    )
    workdays = forms.CharField(
        label="调休上班日期",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="周末调休上班的日期，如“2027-02-14 春节调休”。",
    )
    reason = forms.CharField(label="说明", max_length=300, help_text="如“国办发明电〔2026〕X号”")


class WarningPolicyForm(forms.Form):
    group_size = forms.IntegerField(label="群体人数阈值（人）", min_value=2, max_value=10000)
    amount_threshold = forms.DecimalField(
        label="金额阈值（元）", min_value=1, max_digits=14, decimal_places=2
    )
    failed_mediations = forms.IntegerField(label="调解未成次数阈值", min_value=1, max_value=20)
    reason = forms.CharField(label="修改原因", max_length=300)


class PointWeightsForm(forms.Form):
    reason = forms.CharField(label="修改原因", max_length=300)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from cases.models import PointKind, PointWeight

        super().__init__(*args, **kwargs)
        current = dict(PointWeight.objects.values_list("kind", "points"))
        for kind in PointKind:
            self.fields[f"w_{kind.value}"] = forms.DecimalField(
                label=kind.label,
                max_digits=6,
                decimal_places=1,
                min_value=-100,
                max_value=100,
                initial=current.get(kind.value, 0),
            )
        self.order_fields([*(f"w_{k.value}" for k in PointKind), "reason"])

    def points(self) -> dict[str, Any]:
        return {k[2:]: v for k, v in self.cleaned_data.items() if k.startswith("w_")}


class WallLinkForm(forms.Form):
    region = forms.ModelChoiceField(label="展示辖区", queryset=None, empty_label="请选择")
    label = forms.CharField(label="名称", max_length=100, help_text="如“县指挥中心主屏”")
    reason = forms.CharField(label="用途说明", max_length=300, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        from .wall import screen_regions

        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = screen_regions(user)
        self.fields["region"].label_from_instance = lambda r: f"{r.name}（{r.get_kind_display()}）"
