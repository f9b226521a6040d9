"""Server-rendered case pages: the work queue, the list and its export, the case page, registration,
the inbox. Views parse input and render; every read goes through the selectors (the jurisdiction
gate) and every write through a service.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from centers.models import PII_ROLES, Role
from centers.selectors import parent_center, roles_of

from . import forms, lifecycle, selectors, services
from .models import Attachment, CaseParty, RevealLog, WarningLevel
from .paging import CappedPaginator, paginate
from .services import DomainError, NotAllowed, StaleEdit

# Who registers cases on this page (the reception hall and grid workers have their own pages).
CREATE_ROLES = (Role.DISPATCHER, Role.CENTER_LEADER, Role.WINDOW_CLERK, Role.HALL_SUPERVISOR)
STALE_HINT = "页面已更新为最新内容，您填写的内容保留在下方，核对后可再次提交。"


# ============================================================================================
# Actions: which form each transition shows and which service it calls
# ============================================================================================


@dataclass(frozen=True)
class ActionSpec:
    form_class: type[forms.ActionForm]
    run: Callable[..., Any]  # run(case=, by=, data=cleaned_data, version=) -> Case


def _simple(service: Callable[..., Any]) -> Callable[..., Any]:
    def run(*, case, by, data, version):
        return service(case=case, by=by, comment=data.get("comment", ""), expected_version=version)

    return run


ACTIONS: dict[str, ActionSpec] = {
    "accept": ActionSpec(forms.ActionForm, _simple(services.case_accept)),
    "assign": ActionSpec(
        forms.AssignForm,
        lambda *, case, by, data, version: services.case_assign(
            case=case,
            by=by,
            users=list(data["users"]),
            role=data["role"],
            comment=data.get("comment", ""),
            expected_version=version,
        ),
    ),
    "start": ActionSpec(forms.ActionForm, _simple(services.case_start)),
    "pause": ActionSpec(forms.ActionForm, _simple(services.case_pause)),
    "resume": ActionSpec(forms.ActionForm, _simple(services.case_resume)),
    "resolve": ActionSpec(forms.ActionForm, _simple(services.case_resolve)),
    "fail": ActionSpec(forms.ActionForm, _simple(services.case_fail)),
    "close": ActionSpec(
        forms.CloseForm,
        lambda *, case, by, data, version: services.case_close(
            case=case,
            by=by,
            satisfaction=data["satisfaction"],
            comment=data.get("comment", ""),
            expected_version=version,
        ),
    ),
    "escalate": ActionSpec(forms.ActionForm, _simple(services.case_escalate)),
    "transfer": ActionSpec(
        forms.TransferForm,
        lambda *, case, by, data, version: services.case_transfer(
            case=case,
            by=by,
            unit=data["unit"],
            comment=data.get("comment", ""),
            expected_version=version,
        ),
    ),
    "take_over": ActionSpec(forms.ActionForm, _simple(services.case_take_over)),
    "reopen": ActionSpec(forms.ActionForm, _simple(services.case_reopen)),
    "extend": ActionSpec(
        forms.ExtendForm,
        lambda *, case, by, data, version: services.case_extend(
            case=case,
            by=by,
            days=data["days"],
            comment=data.get("comment", ""),
            expected_version=version,
        ),
    ),
}


def register_action(action: str, form_class: type[forms.ActionForm], run: Callable[..., Any]) -> None:
    """A kind's own transition gets a button on the case page (call from AppConfig.ready())."""
    ACTIONS[action] = ActionSpec(form_class, run)


# A kind's own page for a case: link(user, case) -> (label, url) or None. Apps register theirs from
# AppConfig.ready() (e.g. mediation's "调解详情" / "交人民调解"); the case page shows the links.
CASE_LINKS: list[Callable[[Any, Any], tuple[str, str] | None]] = []


def register_case_link(link: Callable[[Any, Any], tuple[str, str] | None]) -> None:
    if link not in CASE_LINKS:
        CASE_LINKS.append(link)


# A kind whose content is stricter than the gate (the counselling room's): guard(user, case) -> the
# URL of that kind's own masked page when `user` may know the case exists but not read it, else None.
DETAIL_GUARDS: list[Callable[[Any, Any], str | None]] = []


def register_detail_guard(guard: Callable[[Any, Any], str | None]) -> None:
    if guard not in DETAIL_GUARDS:
        DETAIL_GUARDS.append(guard)


# ============================================================================================
# The case page
# ============================================================================================


def _can_edit(user: Any, case: Any) -> bool:
    return bool(lifecycle.relations(user, case) & {lifecycle.OWNER, lifecycle.ASSIGNEE, lifecycle.ABOVE})


def _red_response_forms(user: Any, case: Any) -> dict[str, bool]:
    """领导包案 / 联席会议 are offered on an open red case at the county (or above) to its leaders."""
    red_top = (
        case.is_open
        and case.warning_level == WarningLevel.RED
        and case.level in ("county", "city", "province")
    )
    leader = red_top and lifecycle.is_leader_above_or_owner(user, case)
    return {"package": leader, "meeting": leader and selectors.meeting_center_for(user, case) is not None}


def _detail_context(request: HttpRequest, case: Any, **bound: Any) -> dict[str, Any]:
    user = request.user
    action_forms = []
    bound_action = bound.get("action_form")
    for t in lifecycle.allowed_actions(user, case):
        spec = ACTIONS.get(t.action)
        if spec is None:
            continue  # a kind's transition that its own app shows on its own page
        if t.action == "escalate" and parent_center(case.owning_center) is None:
            continue  # already at the top level: nowhere to escalate to
        if bound_action is not None and bound_action.transition.action == t.action:
            action_forms.append(bound_action)
        else:
            action_forms.append(spec.form_class(case=case, user=user, transition=t))
    if bound_action is not None and bound_action not in action_forms:
        action_forms.append(bound_action)  # refused (e.g. stale): keep what the user typed
    offers = _red_response_forms(user, case)
    parts = selectors.case_detail_parts(case)
    has_package = any(p.is_active for p in parts["packages"])
    roles = roles_of(user)
    return {
        "case": case,
        **parts,
        "kind_links": [link for link in (f(user, case) for f in CASE_LINKS) if link],
        "action_forms": action_forms,
        "can_edit": _can_edit(user, case),
        "comment_form": bound.get("comment_form") or forms.CommentForm(),
        "attachment_form": bound.get("attachment_form") or forms.AttachmentForm(),
        "package_form": (bound.get("package_form") or forms.PackageForm(case=case, user=user))
        if offers["package"] and not has_package
        else None,
        "meeting_form": (bound.get("meeting_form") or forms.MeetingForm(case=case))
        if offers["meeting"]
        else None,
        "meeting_tasks": (
            bound.get("meeting_tasks") or forms.MeetingTaskFormSet(prefix="task", form_kwargs={"case": case})
        )
        if offers["meeting"]
        else None,
        "can_reveal": user.is_superuser or bool(roles & PII_ROLES),
        "revealed": bound.get("revealed", {}),
        "page_error": bound.get("page_error", ""),
    }


def _render_detail(request: HttpRequest, case: Any, *, status: int = 200, **bound: Any) -> HttpResponse:
    response = render(request, "cases/detail.html", _detail_context(request, case, **bound), status=status)
    if bound.get("revealed"):
        response["Cache-Control"] = "no-store"
    return response


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_get_for_user(request.user, pk)
    for guard in DETAIL_GUARDS:
        url = guard(request.user, case)
        if url:
            return redirect(url)
    return _render_detail(request, case)


@login_required
@require_POST
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    case = selectors.case_get_for_user(request.user, pk)
    spec = ACTIONS.get(action)
    transition = lifecycle.TRANSITIONS.get(action)
    if spec is None or transition is None:
        raise Http404("没有这个操作。")
    form = spec.form_class(request.POST, case=case, user=request.user, transition=transition)
    if not form.is_valid():
        return _render_detail(request, case, action_form=form, status=400)
    try:
        spec.run(case=case, by=request.user, data=form.cleaned_data, version=form.cleaned_data["version"])
    except StaleEdit as exc:
        fresh = selectors.case_get_for_user(request.user, pk)
        form.case = fresh
        form.stale(f"{exc} {STALE_HINT}")
        return _render_detail(request, fresh, action_form=form, status=409)
    except DomainError as exc:
        form.add_error(None, str(exc))
        return _render_detail(
            request, case, action_form=form, status=403 if isinstance(exc, NotAllowed) else 400
        )
    messages.success(request, f"已{transition.label}。")
    return redirect("cases:detail", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_get_for_user(request.user, pk)
    if not _can_edit(request.user, case):
        raise PermissionDenied("您无权修改该事项。")
    status = 200
    if request.method == "POST":
        form = forms.CaseEditForm(request.POST, instance=case)
        if form.is_valid():
            version = form.cleaned_data["version"]
            changes = form.changes()
            try:
                services.case_update(case=case, by=request.user, expected_version=version, **changes)
            except StaleEdit as exc:
                fresh = selectors.case_get_for_user(request.user, pk)
                form.stale(f"{exc} {STALE_HINT}", fresh.version)
                status = 409
            except DomainError as exc:
                form.add_error(None, str(exc))
                status = 400
            else:
                messages.success(request, "已保存。" if changes else "没有改动。")
                return redirect("cases:detail", pk=pk)
        else:
            status = 400
    else:
        form = forms.CaseEditForm(instance=case)
    return render(request, "cases/edit.html", {"case": case, "form": form}, status=status)


@login_required
@require_POST
def comment(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_get_for_user(request.user, pk)
    form = forms.CommentForm(request.POST)
    if form.is_valid():
        try:
            services.case_comment(case=case, by=request.user, text=form.cleaned_data["text"])
        except DomainError as exc:
            form.add_error("text", str(exc))
        else:
            messages.success(request, "已记录。")
            return redirect("cases:detail", pk=pk)
    return _render_detail(request, case, comment_form=form, status=400)


@login_required
@require_POST
def attach(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_get_for_user(request.user, pk)
    form = forms.AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attachment_add(case=case, by=request.user, file=form.cleaned_data["file"])
        except DomainError as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(request, "附件已上传。")
            return redirect("cases:detail", pk=pk)
    return _render_detail(request, case, attachment_form=form, status=400)


INLINE_TYPES = ("image/", "application/pdf")


@login_required
def attachment(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    case = selectors.case_get_for_user(request.user, pk)
    att = get_object_or_404(Attachment, pk=attachment_pk, case=case)
    try:
        handle = att.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("附件文件不存在。") from exc
    inline = att.content_type.startswith(INLINE_TYPES)
    response = FileResponse(handle, as_attachment=not inline, filename=att.name, content_type=att.content_type)
    # An uploaded file never runs as part of the site: no scripts, no forms, its own origin.
    response["Content-Security-Policy"] = "sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """The full ID or phone number of one party, shown once in this response (never stored in a
    message or a cookie) and logged by the service."""
    case = selectors.case_get_for_user(request.user, pk)
    party = get_object_or_404(
        CaseParty.objects.select_related("person"), pk=request.POST.get("party") or 0, case=case
    )
    what = request.POST.get("what", "")
    if what not in (RevealLog.What.ID_NUMBER, RevealLog.What.PHONE):
        raise Http404("没有这个号码。")
    try:
        value = services.person_reveal(
            user=request.user, person=party.person, what=what, reason=f"查看事项 {case.tracking_no}"
        )
    except DomainError as exc:
        return _render_detail(request, case, page_error=str(exc), status=403)
    return _render_detail(request, case, revealed={party.pk: {what: value}})


@login_required
@require_POST
def package(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_get_for_user(request.user, pk)
    if not _red_response_forms(request.user, case)["package"]:
        raise PermissionDenied("只有县级红色预警事项由领导包案。")
    form = forms.PackageForm(request.POST, case=case, user=request.user)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.case_package(
                case=case,
                by=request.user,
                leader=d["leader"],
                plan=d["plan"],
                report_back_on=d["report_back_on"],
                task_force=list(d["task_force"]),
                task_force_units=list(d["task_force_units"]),
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "已安排领导包案。")
            return redirect("cases:detail", pk=pk)
    return _render_detail(request, case, package_form=form, status=400)


@login_required
@require_POST
def meeting(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_get_for_user(request.user, pk)
    if not _red_response_forms(request.user, case)["meeting"]:
        raise PermissionDenied("只有中心领导可就县级红色预警事项召开联席会议。")
    form = forms.MeetingForm(request.POST, case=case)
    tasks = forms.MeetingTaskFormSet(request.POST, prefix="task", form_kwargs={"case": case})
    if form.is_valid() and tasks.is_valid():
        d = form.cleaned_data
        rows = [
            {"task": t["task"], "due_on": t["due_on"], "unit": t.get("unit"), "assignee": t.get("assignee")}
            for t in tasks.cleaned_data
            if t.get("task")
        ]
        try:
            services.joint_meeting_create(
                by=request.user,
                center=selectors.meeting_center_for(request.user, case),
                case=case,
                title=d["title"],
                held_at=d["held_at"],
                place=d["place"],
                participants=d["participants"],
                participant_units=list(d["participant_units"]),
                decisions=d["decisions"],
                tasks=rows,
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "联席会议已记录。")
            return redirect("cases:detail", pk=pk)
    return _render_detail(request, case, meeting_form=form, meeting_tasks=tasks, status=400)


# ============================================================================================
# Queue, list, export
# ============================================================================================


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.my_queue(request.user).select_related("owning_unit"), per_page=30)
    return render(request, "cases/queue.html", {"page": page, "now": timezone.now()})


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    form = forms.CaseFilterForm(request.GET or None, user=request.user)
    page = None
    if form.is_valid() or not request.GET:
        filters = form.filters() if form.is_bound else selectors.CaseFilters()
        rows = selectors.case_list_rows(selectors.case_search(request.user, filters))
        page = paginate(request, rows, per_page=50)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "cases/list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "now": timezone.now(),
            "sync_max": services.EXPORT_SYNC_MAX_ROWS,
        },
        status=200 if page is not None else 400,
    )


@login_required
@require_POST
def export(request: HttpRequest) -> HttpResponse:
    """Excel of exactly the filtered rows: written at once when small, as a task when large."""
    form = forms.CaseFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        messages.error(request, "筛选条件有误，请修改后再导出。")
        return redirect(f"{reverse('cases:list')}?{request.GET.urlencode()}")
    filters, description = form.filters(), form.description()
    base = selectors.case_search(request.user, filters)
    counter = CappedPaginator(base, 1, cap=services.EXPORT_SYNC_MAX_ROWS)
    if counter.count == 0:
        messages.info(request, "没有符合条件的事项，无需导出。")
        return redirect(f"{reverse('cases:list')}?{request.GET.urlencode()}")
    if counter.capped:
        services.case_export_start(user=request.user, filters=filters, description=description)
        messages.success(
            request,
            f"符合条件的事项超过 {services.EXPORT_SYNC_MAX_ROWS:,} 条，已转为后台导出；完成后将在「消息」中提供下载链接。",
        )
        return redirect(f"{reverse('cases:list')}?{request.GET.urlencode()}")
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to FileResponse, which closes it
    services.case_export_write(user=request.user, filters=filters, description=description, out=out)
    out.seek(0)
    name = f"事项导出-{timezone.localtime():%Y%m%d-%H%M}.xlsx"
    return FileResponse(out, as_attachment=True, filename=name, content_type=XLSX)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


@login_required
def export_download(request: HttpRequest, token: str) -> FileResponse:
    """A finished background export; only its owner can fetch it (the file sits in their folder)."""
    if not TOKEN_RE.match(token):
        raise Http404
    path = services.export_dir(request.user.pk) / f"{token}.xlsx"
    if not path.is_file():
        raise Http404("导出文件不存在或已过期（保留 7 天），请重新导出。")
    return FileResponse(
        open(path, "rb"), as_attachment=True, filename=f"事项导出-{token[:8]}.xlsx", content_type=XLSX
    )  # noqa: SIM115


# ============================================================================================
# Registration
# ============================================================================================


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    if not (request.user.is_superuser or roles_of(request.user) & set(CREATE_ROLES)):
        raise PermissionDenied("您的岗位不能在此登记事项。")
    status = 200
    if request.method == "POST":
        form = forms.CaseCreateForm(request.POST, user=request.user)
        parties = forms.PartyFormSet(request.POST, prefix="party")
        if form.is_valid() and parties.is_valid():
            d = form.cleaned_data
            try:
                case = services.case_register_with_parties(
                    by=request.user,
                    kind=d["kind"],
                    channel=d["channel"],
                    category=d["category"],
                    title=d["title"],
                    description=d["description"],
                    region=form.place(),
                    address=d["address"],
                    occurred_at=d["occurred_at"],
                    amount=d["amount"],
                    people_count=d["people_count"],
                    has_casualty=d["has_casualty"],
                    petition_risk=d["petition_risk"],
                    risk_note=d["risk_note"],
                    parties=[
                        services.PartyInput(
                            name=p["name"].strip(),
                            role=p["role"],
                            kind=p["kind"],
                            id_number=p.get("id_number", ""),
                            phone=p.get("phone", ""),
                            address=p.get("address", ""),
                        )
                        for p in parties.cleaned_data
                        if p
                    ],
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"已登记，受理编号 {case.tracking_no}。")
                return redirect("cases:detail", pk=case.pk)
        status = 400
    else:
        form = forms.CaseCreateForm(user=request.user)
        parties = forms.PartyFormSet(prefix="party")
    return render(request, "cases/create.html", {"form": form, "parties": parties}, status=status)


# ============================================================================================
# Inbox
# ============================================================================================


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = paginate(request, selectors.inbox_for(request.user, unread_only=unread_only), per_page=30)
    return render(request, "cases/inbox.html", {"page": page, "unread_only": unread_only})


@login_required
@require_POST
def inbox_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification read (and open it) or, without an id, all of them."""
    raw = request.POST.get("id", "")
    if raw:
        if not raw.isdigit():
            raise Http404
        note = get_object_or_404(selectors.inbox_for(request.user), pk=int(raw))
        services.notifications_mark_read(user=request.user, ids=[note.pk])
        if (
            request.POST.get("open")
            and note.url
            and url_has_allowed_host_and_scheme(note.url, allowed_hosts={request.get_host()})
        ):
            return redirect(note.url)
    else:
        n = services.notifications_mark_read(user=request.user)
        messages.success(request, f"已将 {n} 条消息标为已读。")
    return redirect("cases:inbox")
