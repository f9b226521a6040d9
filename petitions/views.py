"""Server-rendered petition pages. Views parse input and call services; reads go through selectors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cases import lifecycle
from cases.clocks import remaining_text
from cases.models import Case, CaseParty, Channel, Status, WarningLevel
from cases.services import DomainError
from centers.jurisdiction import restrict
from centers.models import Unit
from centers.selectors import ancestor_paths

from . import fusion, selectors, services
from .forms import (
    AnswerForm,
    CommentForm,
    DeclineForm,
    EvaluateForm,
    ExtendForm,
    HandOverForm,
    ImportUploadForm,
    KeyForm,
    PetitionRegisterForm,
    RequiredCommentForm,
    ReviewForm,
    SkipLevelForm,
)
from .models import PHASE_LABELS, DocumentKind, FlagKind, Petition, PetitionDocument, PetitionPolicy


def _units_for(case: Case):
    """Units a petition may be handed to: in the owning center's area or at a level above it."""
    path = case.owning_center.region.path
    return (
        Unit.objects.filter(is_active=True)
        .filter(Q(region__path__startswith=path) | Q(region__path__in=ancestor_paths(path)))
        .order_by("region__path", "name")
    )


@dataclass(frozen=True)
class Action:
    name: str  # URL segment
    transition: str  # the lifecycle action that gates it
    label: str
    form: Callable[..., Any]
    run: Callable[..., Petition | Any]
    style: str = ""
    condition: Callable[[Petition], bool] = lambda p: True


def _v(form) -> int | None:
    return form.cleaned_data.get("version")


def _issue(kind: str, **fields: Callable[[Any], Any]) -> Callable[..., Any]:
    """An action that issues a document: the document IS the transition (services.petition_document_issue)."""

    def run(p: Petition, u, f):
        data = {name: get(f.cleaned_data) for name, get in fields.items()}
        return services.petition_document_issue(
            petition=p, by=u, kind=kind(p) if callable(kind) else kind, expected_version=_v(f), **data
        )

    return run


def _comment(d):
    return d.get("comment", "")


ACTIONS: list[Action] = [
    Action(
        "accept",
        "accept",
        "受理（出具受理告知书）",
        CommentForm,
        style="primary",
        run=_issue(DocumentKind.ACCEPTANCE, reason=_comment),
    ),
    Action(
        "decline",
        "petition_decline",
        "不予受理（出具告知书）",
        DeclineForm,
        style="danger",
        run=_issue(DocumentKind.DECLINE, reason=_comment, remedy=lambda d: d.get("remedy", "")),
    ),
    Action(
        "litigation",
        "petition_to_litigation",
        "诉访分离（告知通过诉讼解决）",
        DeclineForm,
        style="danger",
        run=_issue(DocumentKind.LITIGATION, reason=_comment, remedy=lambda d: d.get("remedy", "")),
    ),
    Action(
        "hand-over",
        "transfer",
        "转送交办（出具交办单）",
        HandOverForm,
        style="primary",
        run=_issue(DocumentKind.HAND_OVER, reason=_comment, unit=lambda d: d["unit"]),
        condition=lambda p: p.case.status != Status.REGISTERED,
    ),
    Action(
        "acknowledge",
        "start",
        "签收 / 自行办理",
        CommentForm,
        style="primary",
        run=lambda p, u, f: services.petition_acknowledge(
            petition=p, by=u, comment=f.cleaned_data["comment"], expected_version=_v(f)
        ),
    ),
    Action(
        "supervise",
        "petition_supervise",
        "督办",
        RequiredCommentForm,
        run=lambda p, u, f: services.petition_supervise(petition=p, by=u, note=f.cleaned_data["comment"]),
        condition=lambda p: p.case.owning_unit_id is not None,
    ),
    Action(
        "feedback",
        "petition_feedback",
        "督办反馈",
        RequiredCommentForm,
        run=lambda p, u, f: services.petition_feedback(petition=p, by=u, text=f.cleaned_data["comment"]),
    ),
    Action(
        "extend",
        "petition_extend",
        "延期",
        ExtendForm,
        run=lambda p, u, f: services.petition_extend(
            petition=p,
            by=u,
            approver=f.cleaned_data["approver"],
            days=f.cleaned_data["days"],
            reason=f.cleaned_data["comment"],
            expected_version=_v(f),
        ),
        condition=lambda p: not p.extension_days and not p.case.phase,
    ),
    Action(
        "answer",
        "petition_answer",
        "出具处理（复查、复核）意见书",
        AnswerForm,
        style="primary",
        run=_issue(services.answer_document_kind, reason=_comment, outcome=lambda d: d["outcome"]),
    ),
    Action(
        "evaluate",
        "close",
        "评价结案",
        EvaluateForm,
        style="primary",
        run=lambda p, u, f: services.petition_evaluate(
            petition=p,
            by=u,
            satisfaction=f.cleaned_data["satisfaction"],
            reopen=f.cleaned_data["reopen"],
            comment=f.cleaned_data["comment"],
            expected_version=_v(f),
        ),
    ),
    Action(
        "review",
        "petition_request_review",
        "申请复查",
        ReviewForm,
        run=lambda p, u, f: services.petition_request_review(
            petition=p,
            by=u,
            reason=f.cleaned_data["comment"],
            unit=f.cleaned_data["unit"],
            expected_version=_v(f),
        ),
        condition=lambda p: p.case.phase == "" and p.answered_at is not None,
    ),
    Action(
        "re-review",
        "petition_request_re_review",
        "申请复核",
        ReviewForm,
        run=lambda p, u, f: services.petition_request_re_review(
            petition=p,
            by=u,
            reason=f.cleaned_data["comment"],
            unit=f.cleaned_data["unit"],
            expected_version=_v(f),
        ),
        condition=lambda p: p.case.phase == "review" and p.reviewed_at is not None,
    ),
    Action(
        "skip-level",
        "petition_skip_level",
        "越级访通报",
        SkipLevelForm,
        run=lambda p, u, f: services.petition_record_skip_level(
            petition=p,
            by=u,
            target=f.cleaned_data["target"],
            at=f.cleaned_data["at"],
            reported_by=f.cleaned_data["reported_by"],
            note=f.cleaned_data["comment"],
        ),
        condition=lambda p: not p.skip_level_to,
    ),
    Action(
        "key",
        "petition_mark_key",
        "列为重点件",
        KeyForm,
        run=lambda p, u, f: services.petition_mark_key(
            petition=p, by=u, leader=f.cleaned_data["leader"], reason=f.cleaned_data["comment"]
        ),
        condition=lambda p: not p.key_leader_id,
    ),
]
ACTIONS_BY_NAME = {a.name: a for a in ACTIONS}


def _make_form(action: Action, petition: Petition, data=None):
    kwargs: dict[str, Any] = {"prefix": action.name}
    if action.form in (HandOverForm, ReviewForm):
        kwargs["units"] = _units_for(petition.case)
    initial = {"version": petition.case.version}
    return action.form(data, initial=initial, **kwargs)


def _available(user, petition: Petition) -> list[Action]:
    case = petition.case
    if not lifecycle.can_read(user, case):
        return []
    out = []
    for a in ACTIONS:
        if a.transition not in lifecycle.TRANSITIONS:
            continue
        if lifecycle.allowed(user, case, a.transition) and a.condition(petition):
            out.append(a)
    return out


# --------------------------------------------------------------------------------------------
# List, register, detail
# --------------------------------------------------------------------------------------------


@login_required
def petition_list(request: HttpRequest) -> HttpResponse:
    filters = {k: request.GET.get(k, "") for k in ("status", "channel", "warning", "flag", "key", "q")}
    qs = selectors.petition_list_for_user(request.user, filters=filters)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = []
    for p in page.object_list:
        rows.append({"p": p, "remaining": remaining_text(p.case.due_at) if p.case.is_open else ("", "none")})
    query = request.GET.copy()
    query.pop("page", None)
    counts = selectors.flag_counts(request.user)
    return render(
        request,
        "petitions/list.html",
        {
            "page": page,
            "rows": rows,
            "filters": filters,
            "query": query.urlencode(),
            "statuses": Status.choices,
            "channels": Channel.choices,
            "warnings": WarningLevel.choices,
            "flags": FlagKind.choices,
            "flag_counts": [(v, label, counts[v]) for v, label in FlagKind.choices],
        },
    )


@login_required
def petition_register(request: HttpRequest) -> HttpResponse:
    form = PetitionRegisterForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            petition = services.petition_register(
                by=request.user,
                channel=d["channel"],
                category=d["category"],
                title=d["title"],
                description=d["description"],
                request=d["request"],
                region=d["region"],
                address=d["address"],
                occurred_at=d["occurred_at"],
                petitioners=form.petitioners(),
                people_count=d["people_count"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            flags = list(petition.flags.all())
            text = f"已登记 {petition.case.tracking_no}"
            if flags:
                text += "；" + "；".join(f"{f.get_kind_display()}：{f.reason}" for f in flags)
            messages.success(request, text)
            return redirect("petitions:detail", pk=petition.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "petitions/register.html", {"form": form}, status=status)


def _detail_context(
    request: HttpRequest, petition: Petition, bound: dict[str, Any] | None = None
) -> dict[str, Any]:
    case = petition.case
    available = _available(request.user, petition)
    forms = []
    for a in available:
        form = (bound or {}).get(a.name) or _make_form(a, petition)
        forms.append({"action": a, "form": form, "open": a.name in (bound or {})})
    parties = case.parties.select_related("person").order_by("pk")
    earlier = []
    if petition.person_key or petition.phone_hash:
        q = Q()
        if petition.person_key:
            q |= Q(person_key=petition.person_key)
        if petition.phone_hash:
            q |= Q(phone_hash=petition.phone_hash)
        earlier = list(
            selectors.petition_list_for_user(request.user)
            .filter(q)
            .exclude(pk=petition.pk)
            .order_by("-reported_at")[:20]
        )
    visible = restrict(Case.objects.all(), request.user)
    related = visible.filter(Q(pk__in=case.related.values("pk")) | Q(merged_into=case)).order_by("created_at")
    matches = selectors.fusion_suggestions_for_user(request.user).filter(Q(case=case) | Q(other=case))
    policy = PetitionPolicy.current()
    remaining = remaining_text(case.due_at) if case.is_open else ("", "none")
    return {
        "p": petition,
        "case": case,
        "forms": forms,
        "parties": parties,
        "earlier": earlier,
        "related": related,
        "matches": matches,
        "flags": petition.flags.select_related("related_case"),
        "supervisions": petition.supervisions.select_related("by", "feedback_by"),
        "timeline": case.timeline.select_related("actor", "to_center").order_by("at", "id"),
        "remaining": remaining,
        "phase_label": PHASE_LABELS.get(case.phase, case.phase),
        "review_deadline": services.review_deadline(petition, policy),
        "documents": _documents(petition),
        "issued": petition.documents.select_related("issued_by").order_by("issued_at", "pk"),
    }


@login_required
def petition_detail(request: HttpRequest, pk: int) -> HttpResponse:
    petition = selectors.petition_get_for_user(request.user, pk)
    return render(request, "petitions/detail.html", _detail_context(request, petition))


@login_required
@require_POST
def petition_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    petition = selectors.petition_get_for_user(request.user, pk)
    a = ACTIONS_BY_NAME.get(action)
    if a is None:
        raise Http404("未知的操作。")
    form = _make_form(a, petition, request.POST)
    if form.is_valid():
        try:
            a.run(petition, request.user, form)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已{a.label}。")
            return redirect("petitions:detail", pk=petition.pk)
    petition = selectors.petition_get_for_user(request.user, pk)
    return render(
        request, "petitions/detail.html", _detail_context(request, petition, {a.name: form}), status=400
    )


# --------------------------------------------------------------------------------------------
# Documents-lite: the regulation's notices, printable from the browser
# --------------------------------------------------------------------------------------------

DOCUMENTS = {
    "acceptance": "受理告知书",
    "decline": "不予受理告知书",
    "hand-over": "信访事项转送交办单",
    "answer": "信访事项处理意见书",
    "review": "信访事项复查意见书",
    "re-review": "信访事项复核意见书",
}


def _documents(p: Petition) -> list[tuple[str, str]]:
    available = {
        "acceptance": p.acceptance == "accepted",
        "decline": p.acceptance == "declined",
        "hand-over": p.handed_over_at is not None,
        "answer": p.answered_at is not None,
        "review": p.reviewed_at is not None,
        "re-review": p.re_reviewed_at is not None,
    }
    return [(k, DOCUMENTS[k]) for k, ok in available.items() if ok]


@login_required
def petition_document(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    petition = selectors.petition_get_for_user(request.user, pk)
    if kind not in dict(_documents(petition)):
        raise Http404("该文书尚不能出具。")
    case = petition.case
    policy = PetitionPolicy.current()
    return render(
        request,
        "petitions/document.html",
        {
            "p": petition,
            "case": case,
            "kind": kind,
            "title": DOCUMENTS[kind],
            "petitioners": [cp.person for cp in case.parties.select_related("person").order_by("pk")],
            "policy": policy,
            "review_deadline": services.review_deadline(petition, policy),
        },
    )


@login_required
def petition_document_pdf(request: HttpRequest, pk: int, doc_pk: int) -> HttpResponse:
    """An issued document's stored PDF (the petition's gate decides who may read it)."""
    petition = selectors.petition_get_for_user(request.user, pk)
    doc = PetitionDocument.objects.filter(petition=petition, pk=doc_pk).first()
    if doc is None:
        raise Http404("没有该文书。")
    return FileResponse(doc.file.open("rb"), content_type="application/pdf", filename=f"{doc.number}.pdf")


# --------------------------------------------------------------------------------------------
# Data fusion review, repeat callers and frequent complainants
# --------------------------------------------------------------------------------------------


@login_required
def fusion_review(request: HttpRequest) -> HttpResponse:
    qs = selectors.fusion_suggestions_for_user(request.user)
    case_id = request.GET.get("case", "")
    if case_id.isdigit():
        qs = qs.filter(Q(case_id=int(case_id)) | Q(other_id=int(case_id)))
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    ids = {m.case_id for m in page.object_list} | {m.other_id for m in page.object_list}
    parties: dict[int, list[str]] = {}
    for cp in CaseParty.objects.filter(case_id__in=ids).select_related("person").order_by("pk"):
        parties.setdefault(cp.case_id, []).append(f"{cp.person.name} {cp.person.phone_masked}".strip())
    rows = [
        {"m": m, "a_parties": parties.get(m.case_id, []), "b_parties": parties.get(m.other_id, [])}
        for m in page.object_list
    ]
    return render(
        request,
        "petitions/fusion.html",
        {"page": page, "rows": rows, "case_id": case_id, "method": fusion.method()},
    )


@login_required
@require_POST
def fusion_decide(request: HttpRequest, pk: int) -> HttpResponse:
    match = selectors.fusion_match_get_for_user(request.user, pk)
    decision = request.POST.get("decision", "")
    comment = request.POST.get("comment", "").strip()
    try:
        if match.status != "suggested":
            raise DomainError("该疑似重复已研判。")
        new = selectors.petition_get_for_user(request.user, match.case_id)
        old = selectors.petition_get_for_user(request.user, match.other_id)
        if decision == "merge_into_other":
            services.petition_merge(duplicate=new, primary=old, by=request.user, comment=comment, match=match)
            text = f"已将 {new.case.tracking_no} 合并至 {old.case.tracking_no}。"
        elif decision == "merge_into_case":
            services.petition_merge(duplicate=old, primary=new, by=request.user, comment=comment, match=match)
            text = f"已将 {old.case.tracking_no} 合并至 {new.case.tracking_no}。"
        elif decision == "link":
            services.petition_link(petition=new, other=old, by=request.user, comment=comment, match=match)
            text = f"已关联 {new.case.tracking_no} 与 {old.case.tracking_no}。"
        elif decision == "dismiss":
            services.fusion_dismiss(match=match, by=request.user)
            text = "已标记为非同一事项。"
        else:
            raise DomainError("请选择研判结果。")
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, text)
    back = request.POST.get("next", "")
    if back.startswith("/petitions/"):
        return redirect(back)
    return redirect("petitions:fusion")


@login_required
def repeat_callers(request: HttpRequest) -> HttpResponse:
    policy = PetitionPolicy.current()
    try:
        days = max(1, min(int(request.GET.get("days", policy.list_period_days)), 3650))
    except ValueError:
        days = policy.list_period_days
    since = timezone.now() - dt.timedelta(days=days)
    channels = [(c, Channel(c).label) for c in selectors.LIST_CHANNELS]
    callers = selectors.repeat_callers(request.user, since=since)
    claimants = selectors.frequent_complainants(request.user, since=since)
    for person in (*callers, *claimants):
        person.channel_counts = [person.by_channel[c] for c, _ in channels]
    return render(
        request,
        "petitions/repeat_callers.html",
        {"callers": callers, "claimants": claimants, "channels": channels, "days": days, "policy": policy},
    )


# --------------------------------------------------------------------------------------------
# Channel imports
# --------------------------------------------------------------------------------------------

SYNC_IMPORT_ROWS = 3000  # bigger files import in the background (petitions.tasks.import_run)


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.import_preview(
                by=request.user, source=form.cleaned_data["source"], file=form.cleaned_data["file"]
            )
        except DomainError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("petitions:import_detail", pk=batch.pk)
    batches = selectors.import_batches_for_user(request.user)[:20]
    return render(
        request,
        "petitions/imports.html",
        {"form": form, "batches": batches, "columns": _column_table(), "samples": SAMPLES},
        status=400 if request.method == "POST" else 200,
    )


SAMPLES = [
    ("hotline_12345", "12345热线工单样例", "12345_sample.csv"),
    ("police_110", "110非警务警情样例", "110_sample.csv"),
    ("online", "网上信访件样例", "online_sample.xlsx"),
]


def _column_table() -> list[dict[str, Any]]:
    from .imports import COLUMNS, FIELDS, LABELS, REQUIRED

    rows = []
    for f in FIELDS:
        rows.append(
            {
                "field": f,
                "label": LABELS[f],
                "required": f in REQUIRED,
                "names": [
                    " / ".join(COLUMNS[s].get(f, ("—",))) for s in ("hotline_12345", "police_110", "online")
                ],
            }
        )
    return rows


@login_required
def import_sample(request: HttpRequest, source: str) -> HttpResponse:
    from pathlib import Path

    from django.http import FileResponse

    name = next((n for s, _, n in SAMPLES if s == source), None)
    if name is None:
        raise Http404("没有该样例。")
    path = Path(__file__).resolve().parent / "samples" / name
    return FileResponse(path.open("rb"), as_attachment=True, filename=name)


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.import_batch_get_for_user(request.user, pk)
    if request.method == "POST":
        if batch.good_rows > SYNC_IMPORT_ROWS:
            from django.db import transaction

            from .tasks import import_run

            user_id = request.user.pk
            transaction.on_commit(lambda: import_run.delay(batch.pk, user_id))
            messages.success(
                request, f"共 {batch.good_rows} 行有效数据，已转入后台导入，完成后本页显示结果。"
            )
        else:
            try:
                batch = services.import_run(batch=batch, by=request.user)
            except DomainError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, batch.message)
        return redirect("petitions:import_detail", pk=batch.pk)
    return render(
        request, "petitions/import_detail.html", {"batch": batch, "running": batch.status == "running"}
    )
