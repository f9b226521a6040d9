"""The jurisdiction gate: the one place that decides what a user may see.

Read rule (shared/ARCHITECTURE.md): a user sees an object when its place lies in the subtree of one
of their centers' places (or of a region granted to them through guardian), or its owning center
or unit is theirs, or they are assigned to it (a guardian object permission on that one object).
County staff therefore see the whole county, a town sees its villages, and nobody sees a sibling
town. Every list, page, export, report, dashboard and API goes through `restrict()` for lists and
`get_for_user_or_404()` for one object; "not there" and "not yours" both answer 404.

Models opt in by declaring `JURISDICTION = Jurisdiction(...)` naming their fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Model, Q, QuerySet
from django.http import Http404

if TYPE_CHECKING:
    from .models import User


@dataclass(frozen=True)
class Jurisdiction:
    """Names of the fields that place an object and say who owns it."""

    # The field (or fields, any of which may match) holding the materialized path of the object's place.
    path: str | tuple[str, ...]
    center: str | None = None  # owning center FK (lookup path allowed, e.g. "case__owning_center")
    unit: str | None = None  # owning unit FK
    # Guardian direct object-permission model (a UserObjectPermissionBase subclass) and the
    # lookup from this model to the object the permission is on ("pk" or e.g. "case_id").
    perm_model: str | None = None  # "app_label.ModelName"
    perm_target: str = "pk"
    perm_codename: str | None = None  # default: view_<model of perm target>


@dataclass(frozen=True)
class Scope:
    unrestricted: bool = False
    paths: tuple[str, ...] = ()
    center_ids: frozenset[int] = field(default_factory=frozenset)
    unit_ids: frozenset[int] = field(default_factory=frozenset)
    user_id: int | None = None

    @property
    def empty(self) -> bool:
        return not (self.unrestricted or self.paths or self.center_ids or self.unit_ids or self.user_id)

    def covers_path(self, path: str) -> bool:
        return self.unrestricted or any(path.startswith(p) for p in self.paths)


def _collapse(paths: list[str]) -> tuple[str, ...]:
    """Drop paths that lie under another path in the list."""
    out: list[str] = []
    for p in sorted(set(paths), key=len):
        if not any(p.startswith(q) for q in out):
            out.append(p)
    return tuple(sorted(out))


def scope_for(user: User | Any) -> Scope:
    """What `user` may read, computed once per request (cached on the user object)."""
    cached = getattr(user, "_zongzhi_scope", None)
    if cached is not None:
        return cached
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        scope = Scope()
    elif user.is_superuser:
        scope = Scope(unrestricted=True, user_id=user.pk)
    else:
        from .models import Membership, Region, RegionGroupObjectPermission, RegionUserObjectPermission

        paths: list[str] = []
        centers: set[int] = set()
        units: set[int] = set()
        for m in Membership.objects.filter(user=user, is_active=True).select_related(
            "center__region", "unit__region"
        ):
            if m.center_id:
                centers.add(m.center_id)
                paths.append(m.center.region.path)
            else:
                units.add(m.unit_id)
        # Regions granted through guardian (to the user or to one of their groups).
        granted = Region.objects.filter(
            Q(
                pk__in=RegionUserObjectPermission.objects.filter(
                    user=user, permission__codename="view_region"
                ).values("content_object_id")
            )
            | Q(
                pk__in=RegionGroupObjectPermission.objects.filter(
                    group__user=user, permission__codename="view_region"
                ).values("content_object_id")
            )
        ).values_list("path", flat=True)
        paths.extend(granted)
        scope = Scope(
            paths=_collapse(paths), center_ids=frozenset(centers), unit_ids=frozenset(units), user_id=user.pk
        )
    try:
        user._zongzhi_scope = scope
    except AttributeError:
        pass
    return scope


def forget_scope(user: Any) -> None:
    if hasattr(user, "_zongzhi_scope"):
        del user._zongzhi_scope


def _spec(model: type[Model]) -> Jurisdiction:
    spec = getattr(model, "JURISDICTION", None)
    if spec is None:
        raise TypeError(f"{model.__name__} declares no JURISDICTION")
    return spec


def scope_q(model: type[Model], user: Any) -> Q | None:
    """The filter for `user` on `model`, or None for no restriction. An empty Q-set means nothing."""
    scope = scope_for(user)
    if scope.unrestricted:
        return None
    spec = _spec(model)
    q = Q(pk__in=[])
    path_fields = (spec.path,) if isinstance(spec.path, str) else spec.path
    for p in scope.paths:
        for f in path_fields:
            q |= Q(**{f"{f}__startswith": p})
    if spec.center and scope.center_ids:
        q |= Q(**{f"{spec.center}__in": sorted(scope.center_ids)})
    if spec.unit and scope.unit_ids:
        q |= Q(**{f"{spec.unit}__in": sorted(scope.unit_ids)})
    if spec.perm_model and scope.user_id:
        from django.apps import apps

        perm_model = apps.get_model(spec.perm_model)
        target_model = perm_model._meta.get_field("content_object").related_model
        codename = spec.perm_codename or f"view_{target_model._meta.model_name}"
        granted = perm_model.objects.filter(user_id=scope.user_id, permission__codename=codename).values(
            "content_object_id"
        )
        q |= Q(**{f"{spec.perm_target}__in": granted})
    return q


def restrict(qs: QuerySet, user: Any) -> QuerySet:
    """`qs` narrowed to what `user` may read. Use it for every list, export, report and API."""
    q = scope_q(qs.model, user)
    return qs if q is None else qs.filter(q)


def get_for_user_or_404(qs: QuerySet | type[Model], user: Any, **lookup: Any) -> Any:
    """The one object `user` may read, or 404 for "not there" and "not yours" alike."""
    if not isinstance(qs, QuerySet):
        qs = qs._default_manager.all()
    try:
        return restrict(qs, user).get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("未找到该记录，或您无权查看。") from exc
