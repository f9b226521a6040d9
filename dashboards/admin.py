from django.contrib import admin

from .models import RollupState, SafetyIndex, SafetyIndicator


@admin.register(SafetyIndicator)
class SafetyIndicatorAdmin(admin.ModelAdmin):
    list_display = ("label", "code", "weight", "best", "worst", "unit", "updated_at")
    readonly_fields = ("code", "updated_at")


@admin.register(SafetyIndex)
class SafetyIndexAdmin(admin.ModelAdmin):
    list_display = ("region", "period_kind", "period_start", "value", "computed_at")
    list_filter = ("period_kind",)
    readonly_fields = [f.name for f in SafetyIndex._meta.fields]


@admin.register(RollupState)
class RollupStateAdmin(admin.ModelAdmin):
    list_display = ("name", "watermark", "refreshed_at", "rebuilt_at", "last_changed", "last_ms")
    readonly_fields = ("name", "watermark", "refreshed_at", "rebuilt_at", "last_changed", "last_ms")
