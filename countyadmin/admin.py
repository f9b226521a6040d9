from django.contrib import admin

from .models import AdminLog, StaffImport


@admin.register(AdminLog)
class AdminLogAdmin(admin.ModelAdmin):
    list_display = ("at", "by", "action", "target_user", "summary", "reason")
    list_filter = ("action",)
    search_fields = ("summary", "reason", "subject")
    readonly_fields = [f.name for f in AdminLog._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StaffImport)
class StaffImportAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "file_name",
        "center",
        "uploaded_by",
        "status",
        "total_rows",
        "bad_rows",
    )
    list_filter = ("kind", "status")
    exclude = ("password_hash",)
    readonly_fields = (
        "kind",
        "file",
        "file_name",
        "center",
        "uploaded_by",
        "created_at",
        "status",
        "errors",
        "result",
    )

    def has_add_permission(self, request) -> bool:
        return False
