"""Pages of county administration (人员账号、工作移交、无人负责事项); imports and settings have their own modules."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cases.models import Case, CaseAssignment, LeaderPackage, SupervisionOrder
from centers.jurisdiction import restrict
from centers.models import Membership, User

from . import access, services
from .forms import AccountSearchForm, PasswordResetForm, ReasonForm, SuccessorForm
from .models import AdminLog


def administrator_required(view):
    """Signed in and administering at least one center; others get 403."""

    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not access.is_administrator(request.user):
            raise PermissionDenied("只有中心领导或系统管理员可以使用系统管理功能。")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@administrator_required
def accounts(request: HttpRequest) -> HttpResponse:
    """人员账号: the staff the user administers, searchable, with their state."""
    form = AccountSearchForm(request.GET or None)
    qs = access.administrable_users(request.user)
    if form.is_valid():
        q = form.cleaned_data["q"].strip()
        if q:
            qs = qs.filter(Q(full_name__contains=q) | Q(username__icontains=q) | Q(phone__contains=q))
        status = form.cleaned_data["status"]
        if status == "active":
            qs = qs.filter(is_active=True)
        elif status == "inactive":
            qs = qs.filter(is_active=False)
        elif status == "locked":
            qs = qs.filter(username__in=list(services.locked_usernames()))
    qs = qs.order_by("-is_active", "full_name", "username").prefetch_related(
        Prefetch(
            "memberships",
            queryset=Membership.objects.filter(is_active=True).select_related("center", "unit"),
            to_attr="posts",
        )
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    locked = services.locked_usernames([u.username for u in page])
    for u in page:
        u.locked = u.username in locked
    return render(
        request,
        "countyadmin/accounts.html",
        {"form": form, "page": page, "centers": access.admin_centers(request.user)},
    )


def _account_context(request: HttpRequest, user: User, **forms) -> dict:
    held = services.holdings_of(user)
    return {
        "account": user,
        "posts": Membership.objects.filter(user=user)
        .select_related("center", "unit")
        .order_by("-is_active", "-created_at"),
        "locked": services.is_locked(user),
        "held": held,
        "reset_form": forms.get("reset_form") or PasswordResetForm(),
        "unlock_form": forms.get("unlock_form") or ReasonForm(prefix="unlock"),
        "deactivate_form": forms.get("deactivate_form")
        or SuccessorForm(prefix="deactivate", admin=request.user, required=False),
        "reactivate_form": forms.get("reactivate_form") or ReasonForm(prefix="reactivate"),
        "handover_form": forms.get("handover_form") or SuccessorForm(prefix="handover", admin=request.user),
        "log": AdminLog.objects.filter(target_user=user).select_related("by")[:30],
        "grid_posts": user.grid_posts.select_related("grid").order_by("-is_active", "-created_at"),
        "temporary_password": forms.get("temporary_password"),
    }


@administrator_required
def account(request: HttpRequest, pk: int) -> HttpResponse:
    user = access.administrable_user_or_404(request.user, pk)
    return render(request, "countyadmin/account.html", _account_context(request, user))


def _fail(request: HttpRequest, user: User, status: int = 400, **forms) -> HttpResponse:
    return render(
        request, "countyadmin/account.html", _account_context(request, user, **forms), status=status
    )


@require_POST
@administrator_required
def account_reset(request: HttpRequest, pk: int) -> HttpResponse:
    user = access.administrable_user_or_404(request.user, pk)
    form = PasswordResetForm(request.POST)
    if not form.is_valid():
        return _fail(request, user, reset_form=form)
    try:
        password = services.account_password_reset(
            by=request.user,
            user=user,
            reason=form.cleaned_data["reason"],
            password=form.cleaned_data["password"],
        )
    except services.DomainError as exc:
        form.add_error(None, str(exc))
        return _fail(request, user, reset_form=form)
    # Shown once, on this response only (never stored in plain text, never in a redirect URL).
    messages.success(request, f"已重置 {user.display_name} 的密码。请将临时密码告知本人，首次登录须修改。")
    return render(
        request, "countyadmin/account.html", _account_context(request, user, temporary_password=password)
    )


@require_POST
@administrator_required
def account_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    user = access.administrable_user_or_404(request.user, pk)
    form = ReasonForm(request.POST, prefix="unlock")
    if not form.is_valid():
        return _fail(request, user, unlock_form=form)
    try:
        services.account_unlock(by=request.user, user=user, reason=form.cleaned_data["reason"])
    except services.DomainError as exc:
        form.add_error(None, str(exc))
        return _fail(request, user, unlock_form=form)
    messages.success(request, f"已解除 {user.display_name} 的登录锁定。")
    return redirect("countyadmin:account", pk=user.pk)


@require_POST
@administrator_required
def account_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    user = access.administrable_user_or_404(request.user, pk)
    form = SuccessorForm(request.POST, prefix="deactivate", admin=request.user, required=False)
    if not form.is_valid():
        return _fail(request, user, deactivate_form=form)
    try:
        services.account_deactivate(
            by=request.user,
            user=user,
            reason=form.cleaned_data["reason"],
            successor=form.cleaned_data["successor"],
        )
    except services.DomainError as exc:
        form.add_error(None, str(exc))
        return _fail(request, user, deactivate_form=form)
    messages.success(request, f"已停用 {user.display_name} 的账号，其岗位已结束，历史记录全部保留。")
    return redirect("countyadmin:account", pk=user.pk)


@require_POST
@administrator_required
def account_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    user = access.administrable_user_or_404(request.user, pk)
    form = ReasonForm(request.POST, prefix="reactivate")
    if not form.is_valid():
        return _fail(request, user, reactivate_form=form)
    try:
        n = services.account_reactivate(by=request.user, user=user, reason=form.cleaned_data["reason"])
    except services.DomainError as exc:
        form.add_error(None, str(exc))
        return _fail(request, user, reactivate_form=form)
    messages.success(request, f"已恢复 {user.display_name} 的账号及 {n} 个岗位；请重置密码后告知本人。")
    return redirect("countyadmin:account", pk=user.pk)


@require_POST
@administrator_required
def account_handover(request: HttpRequest, pk: int) -> HttpResponse:
    user = access.administrable_user_or_404(request.user, pk)
    form = SuccessorForm(request.POST, prefix="handover", admin=request.user)
    if not form.is_valid():
        return _fail(request, user, handover_form=form)
    case_ids = [int(v) for v in request.POST.getlist("case") if v.isdigit()] or None
    try:
        counts = services.handover(
            by=request.user,
            from_user=user,
            to_user=form.cleaned_data["successor"],
            reason=form.cleaned_data["reason"],
            case_ids=case_ids,
        )
    except services.DomainError as exc:
        form.add_error(None, str(exc))
        return _fail(request, user, handover_form=form)
    messages.success(
        request,
        f"已将 {counts['cases']} 件在办事项移交给 {form.cleaned_data['successor'].display_name}，并记入各事项办理记录。",
    )
    return redirect("countyadmin:account", pk=user.pk)


@administrator_required
def orphans(request: HttpRequest) -> HttpResponse:
    """无人负责事项: open matters whose handlers or owners have all left, in the user's area."""
    cases = (
        restrict(services.orphan_cases(), request.user)
        .select_related("owning_center", "owning_unit")
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=CaseAssignment.objects.filter(is_active=True).select_related("user"),
                to_attr="live_assignments",
            )
        )
        .order_by("due_at", "pk")
    )
    orders = restrict(services.orphan_orders(SupervisionOrder.objects.all()), request.user).select_related(
        "case", "issued_by"
    )
    packages = (
        LeaderPackage.objects.filter(case__in=restrict(Case.objects.all(), request.user))
        .filter(pk__in=services.orphan_packages().values("pk"))
        .select_related("case", "leader")
    )
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "countyadmin/orphans.html",
        {"page": page, "orders": orders[:200], "packages": packages[:200]},
    )


@administrator_required
def log_list(request: HttpRequest) -> HttpResponse:
    """管理操作记录 of the user's area."""
    qs = restrict(AdminLog.objects.select_related("by", "target_user", "center"), request.user)
    action = request.GET.get("action", "")
    if action:
        qs = qs.filter(action=action)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    from .models import AdminAction

    return render(
        request, "countyadmin/log.html", {"page": page, "actions": AdminAction.choices, "action": action}
    )
