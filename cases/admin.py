"""Admin: the county edits the rules (clocks, calendar, thresholds); cases are read here, written
only through the services (the case pages and the API); the access log can be read, never changed."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import CalendarYear, Case, ClockRule, Notification, RevealLog, WarningPolicy, WorkDay
from .paging import CappedPaginator


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ClockRule)
class ClockRuleAdmin(SimpleHistoryAdmin):
    list_display = (
        "__str__",
        "kind",
        "status",
        "phase",
        "level",
        "category",
        "limit",
        "unit",
        "yellow_ratio",
        "is_active",
    )
    list_filter = ("is_active", "kind", "status", "level", "unit")
    list_editable = ("limit", "unit", "yellow_ratio", "is_active")
    search_fields = ("note", "phase")


@admin.register(WorkDay)
class WorkDayAdmin(SimpleHistoryAdmin):
    list_display = ("date", "is_workday", "name", "source")
    list_filter = ("is_workday", "source")
    date_hierarchy = "date"
    search_fields = ("name",)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ("year", "source", "entered_at")


@admin.register(WarningPolicy)
class WarningPolicyAdmin(SimpleHistoryAdmin):
    list_display = ("group_size", "amount_threshold", "failed_mediations", "updated_at")

    def has_add_permission(self, request) -> bool:
        return not WarningPolicy.objects.exists()  # one row (pk=1)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    """Read-mostly: a case changes only through its transitions (timeline, clock, colour)."""

    list_display = (
        "tracking_no",
        "title",
        "kind",
        "status",
        "warning_level",
        "level",
        "owning_center",
        "due_at",
        "created_at",
    )
    list_filter = ("status", "warning_level", "level", "kind")
    list_select_related = ("owning_center",)
    # "=" : an exact, indexed lookup, fast at a million cases.
    search_fields = ("=tracking_no",)
    search_help_text = "输入完整受理编号，如 430124-2026-000123"
    show_full_result_count = False
    paginator = CappedPaginator
    ordering = ("-created_at",)
    readonly_fields = [f.name for f in Case._meta.fields]
    exclude = ("related",)


@admin.register(RevealLog)
class RevealLogAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("at", "user", "what", "person", "reason", "filter_description", "row_count")
    list_filter = ("what",)
    list_select_related = ("user", "person")
    date_hierarchy = "at"
    search_fields = ("user__username", "user__full_name", "reason")
    show_full_result_count = False
    paginator = CappedPaginator

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser or super().has_view_permission(request, obj)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "user", "kind", "title", "read_at", "sms", "sent_at")
    list_filter = ("kind", "sms")
    list_select_related = ("user",)
    search_fields = ("user__username", "title")
    show_full_result_count = False
    paginator = CappedPaginator
