from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import ImportBatch, PetitionPolicy


@admin.register(PetitionPolicy)
class PetitionPolicyAdmin(SimpleHistoryAdmin):
    list_display = (
        "__str__",
        "group_size",
        "repeat_days",
        "review_window_days",
        "fusion_window_hours",
        "updated_at",
    )

    def has_add_permission(self, request):
        return not PetitionPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "source",
        "file_name",
        "center",
        "status",
        "total_rows",
        "imported_rows",
        "bad_rows",
    )
    list_filter = ("source", "status")
    readonly_fields = [f.name for f in ImportBatch._meta.fields]

    def has_add_permission(self, request):
        return False
