"""The audit log page (审计日志): read-only, GET only, for center leaders, leadership and administrators."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import selectors_audit as audit
from .paging import paginate


class AuditFilterForm(forms.Form):
    tab = forms.ChoiceField(choices=[("changes", "事项变更"), ("access", "查看与导出")], required=False)
    date_from = forms.DateField(label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    who = forms.CharField(label="操作人", required=False, max_length=50)
    tracking_no = forms.CharField(label="事项编号", required=False, max_length=40)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "截止日期不能早于起始日期。")
        return data


@login_required
@require_GET
def audit_log(request):
    if not audit.can_audit(request.user):
        raise PermissionDenied("审计日志仅供中心负责人、领导和系统管理员查看。")
    form = AuditFilterForm(request.GET or None)
    valid = form.is_valid() if request.GET else True
    data = form.cleaned_data if request.GET and valid else {}
    tab = data.get("tab") or "changes"
    filters = audit.AuditFilters(
        date_from=data.get("date_from"), date_to=data.get("date_to"), who=data.get("who", ""),
        tracking_no=data.get("tracking_no", ""),
    )
    if not valid:
        page = None
    elif tab == "access":
        page = paginate(request, audit.access_entries(request.user, filters))
    else:
        page = paginate(request, audit.change_entries(request.user, filters))
        for record in page:
            record.changed = audit.changed_fields(record)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "cases/audit.html", {"form": form, "page": page, "tab": tab, "query": query.urlencode()})
