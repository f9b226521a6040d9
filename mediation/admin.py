from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Agreement, Mediation, MediationCommittee, Mediator, Referral, Session


@admin.register(MediationCommittee)
class CommitteeAdmin(SimpleHistoryAdmin):
    list_display = ("name", "kind", "region", "host_unit", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    raw_id_fields = ("region", "host_unit")


@admin.register(Mediator)
class MediatorAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "committee", "grade", "kind", "region", "max_load", "is_active")
    list_filter = ("grade", "kind", "is_active")
    search_fields = ("user__full_name", "user__username")
    raw_id_fields = ("user", "committee", "region")


class SessionInline(admin.TabularInline):
    model = Session
    extra = 0
    can_delete = False
    readonly_fields = ("number", "held_at", "place", "participants", "record", "result", "recorded_by", "recorded_at")


@admin.register(Mediation)
class MediationAdmin(SimpleHistoryAdmin):
    """Read-only: a mediation changes through its transitions (mediation.services), never by hand."""

    list_display = ("__str__", "committee", "mediator", "outcome", "assigned_at", "ended_at")
    list_filter = ("outcome",)
    inlines = [SessionInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Agreement)
class AgreementAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "status", "amount", "performance_due", "performance", "confirmation")
    list_filter = ("status", "performance", "confirmation")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Referral)
class ReferralAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "kind", "referring_unit", "received_at", "deadline", "reported_at", "report_on_time")
    list_filter = ("kind",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False
