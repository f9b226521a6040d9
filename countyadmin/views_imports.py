"""Pages of the staff import: upload, templates, preview with row-level errors, import."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from centers.jurisdiction import get_for_user_or_404, restrict
from centers.services import DomainError

from . import importer, sheets
from .forms import ImportUploadForm
from .models import ImportStatus, SheetKind, StaffImport
from .views import administrator_required

SYNC_IMPORT_ROWS = 4000  # a county's grid-worker sheet imports at once; bigger ones in the background


@administrator_required
def imports(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = importer.staff_import_preview(
                by=request.user,
                kind=form.cleaned_data["kind"],
                file=form.cleaned_data["file"],
                initial_password=form.cleaned_data["initial_password"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            form.add_error("initial_password" if "密码" in str(exc) else "file", str(exc))
        else:
            return redirect("countyadmin:import_detail", pk=batch.pk)
    batches = restrict(StaffImport.objects.select_related("uploaded_by", "center"), request.user)[:20]
    columns = [(SheetKind(k).label, k, cols) for k, cols in sheets.COLUMNS.items()]
    return render(
        request,
        "countyadmin/imports.html",
        {"form": form, "batches": batches, "columns": columns},
        status=400 if request.method == "POST" else 200,
    )


@administrator_required
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in SheetKind.values:
        raise Http404("没有该模板。")
    from urllib.parse import quote

    response = HttpResponse(
        sheets.template_bytes(kind),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = sheets.template_name(kind)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@administrator_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_for_user_or_404(
        StaffImport.objects.select_related("uploaded_by", "center"), request.user, pk=pk
    )
    if request.method == "POST":
        if batch.good_rows > SYNC_IMPORT_ROWS:
            from .tasks import import_run

            StaffImport.objects.filter(pk=batch.pk, status=ImportStatus.PREVIEWED).update(
                message="已转入后台导入"
            )
            user_id = request.user.pk
            transaction.on_commit(lambda: import_run.delay(batch.pk, user_id))
            messages.success(
                request, f"共 {batch.good_rows} 行有效数据，已转入后台导入，完成后本页显示结果。"
            )
        else:
            try:
                batch = importer.staff_import_run(batch=batch, by=request.user)
            except DomainError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, batch.message)
        return redirect("countyadmin:import_detail", pk=batch.pk)
    return render(
        request,
        "countyadmin/import_detail.html",
        {
            "batch": batch,
            "running": batch.status == ImportStatus.RUNNING,
            "result": [(importer.RESULT_LABELS.get(k, k), v) for k, v in (batch.result or {}).items()],
        },
    )
