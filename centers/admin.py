"""Admin for the hierarchy and the people: searchable, filtered by town, and behind the jurisdiction gate.

The system administrator (a superuser) sees everything. A staff account with admin rights at a town
sees and edits only its town, like every other page: lists go through `restrict()`, and an object
outside the jurisdiction is "not there".
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Q, QuerySet
from guardian.admin import GuardedModelAdmin
from simple_history.admin import SimpleHistoryAdmin
from treebeard.admin import TreeAdmin
from treebeard.forms import MoveNodeForm, movenodeform_factory

from .jurisdiction import restrict
from .models import Center, Membership, Region, RegionKind, Unit, User


def town_filter(*path_fields: str) -> type[admin.SimpleListFilter]:
    """A list filter "所属乡镇（街道）" over the towns the user may see, matching any of `path_fields`
    (materialized paths) against the town's subtree."""

    class TownFilter(admin.SimpleListFilter):
        title = "所属乡镇（街道）"
        parameter_name = "town"

        def lookups(self, request, model_admin) -> list[tuple[str, str]]:
            towns = restrict(Region.objects.filter(kind=RegionKind.TOWN), request.user).order_by("path")
            return [(str(t.pk), f"{t.name}（{t.code}）") for t in towns]

        def queryset(self, request, queryset: QuerySet) -> QuerySet:
            if not self.value():
                return queryset
            town = (
                restrict(Region.objects.filter(kind=RegionKind.TOWN), request.user)
                .filter(pk=self.value())
                .first()
            )
            if town is None:
                return queryset.none()
            q = Q()
            for field in path_fields:
                q |= Q(**{f"{field}__startswith": town.path})
            # A subquery rather than a join: a user with two posts in the town is listed once.
            return queryset.filter(pk__in=queryset.model._default_manager.filter(q).values("pk"))

    return TownFilter


class ScopedForeignKeys:
    """Choices (and accepted ids, raw-id widgets included) of a foreign key to a place-bound model
    are restricted to the user's jurisdiction: nobody posts themselves to a neighbouring town."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if getattr(related, "JURISDICTION", None) is not None and "queryset" not in kwargs:
            kwargs["queryset"] = restrict(related._default_manager.all(), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class JurisdictionAdmin(ScopedForeignKeys, admin.ModelAdmin):
    """Lists and single objects restricted to the user's jurisdiction (a no-op for superusers)."""

    def get_queryset(self, request) -> QuerySet:
        return self.restrict(super().get_queryset(request), request.user)

    def restrict(self, qs: QuerySet, user: Any) -> QuerySet:
        return restrict(qs, user)

    def in_scope(self, request, obj: Any) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        return self.restrict(self.model._default_manager.filter(pk=obj.pk), request.user).exists()

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) and self.in_scope(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self.in_scope(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self.in_scope(request, obj)


class MembershipInline(ScopedForeignKeys, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("center", "unit")
    fields = ("role", "center", "unit", "title", "is_active")


@admin.register(User)
class UserAdmin(JurisdictionAdmin, BaseUserAdmin):
    list_display = ("username", "full_name", "phone", "is_active", "is_api_client", "last_login")
    list_filter = (
        "is_active",
        "is_api_client",
        "memberships__role",
        town_filter("memberships__center__region__path", "memberships__unit__region__path"),
    )
    search_fields = ("username", "full_name", "phone", "memberships__center__name", "memberships__unit__name")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("综治平台", {"fields": ("full_name", "phone", "must_change_password", "is_api_client")}),
    )
    inlines = [MembershipInline]

    def restrict(self, qs: QuerySet, user: Any) -> QuerySet:
        """Users have no place of their own: they are in scope through a post in scope (or are you)."""
        if user.is_superuser:
            return qs
        posts = restrict(Membership.objects.all(), user).values("user_id")
        return qs.filter(Q(pk__in=posts) | Q(pk=user.pk))


class RegionMoveForm(MoveNodeForm):
    """Grid cells have no children, so they are not offered as places to move to: the list holds
    the few hundred towns and villages instead of thousands of cells."""

    def _set_ref_model_queryset(self, opts, instance) -> None:
        super()._set_ref_model_queryset(opts, instance)
        field = self.fields["treebeard_ref_node"]
        field.queryset = field.queryset.exclude(kind=RegionKind.GRID)


@admin.register(Region)
class RegionAdmin(JurisdictionAdmin, TreeAdmin, GuardedModelAdmin):
    form = movenodeform_factory(Region, form=RegionMoveForm)
    list_display = ("name", "kind", "code", "population", "households")
    list_filter = ("kind", "is_urban", town_filter("path"))
    search_fields = ("name", "code")

    # The place tree is structural data kept by the system administrator; the move form lists
    # every node of the tree, so other staff do not get it even read-only.
    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)


@admin.register(Center)
class CenterAdmin(JurisdictionAdmin, SimpleHistoryAdmin):
    list_display = ("name", "region", "phone")
    ordering = ("region__path",)
    list_filter = (town_filter("region__path"), "region__kind")
    list_select_related = ("region",)
    search_fields = ("name", "region__name", "region__code")
    raw_id_fields = ("region",)


@admin.register(Unit)
class UnitAdmin(JurisdictionAdmin, SimpleHistoryAdmin):
    list_display = ("name", "kind", "region", "is_active")
    ordering = ("region__path", "name")
    list_filter = ("kind", town_filter("region__path"), "region__kind", "is_active")
    list_select_related = ("region",)
    search_fields = ("name", "region__name")
    raw_id_fields = ("region",)


@admin.register(Membership)
class MembershipAdmin(JurisdictionAdmin, SimpleHistoryAdmin):
    list_display = ("user", "role", "center", "unit", "title", "is_active")
    ordering = ("user__username", "pk")
    list_filter = (
        "role",
        "is_active",
        town_filter("center__region__path", "unit__region__path"),
        "center__region__kind",
    )
    list_select_related = ("user", "center", "unit")
    search_fields = ("user__username", "user__full_name", "center__name", "unit__name")
    raw_id_fields = ("user", "center", "unit")
