from django.urls import path

from . import views, views_imports, views_settings

app_name = "countyadmin"

urlpatterns = [
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/<int:pk>/", views.account, name="account"),
    path("accounts/<int:pk>/reset/", views.account_reset, name="account_reset"),
    path("accounts/<int:pk>/unlock/", views.account_unlock, name="account_unlock"),
    path("accounts/<int:pk>/deactivate/", views.account_deactivate, name="account_deactivate"),
    path("accounts/<int:pk>/reactivate/", views.account_reactivate, name="account_reactivate"),
    path("accounts/<int:pk>/handover/", views.account_handover, name="account_handover"),
    path("orphans/", views.orphans, name="orphans"),
    path("imports/", views_imports.imports, name="imports"),
    path("imports/templates/<slug:kind>/", views_imports.import_template, name="import_template"),
    path("imports/<int:pk>/", views_imports.import_detail, name="import_detail"),
    path("log/", views.log_list, name="log"),
    path("settings/", views_settings.home, name="settings"),
    path("settings/rules/", views_settings.rules, name="rules"),
    path("settings/rules/<int:pk>/", views_settings.rule_edit, name="rule_edit"),
    path("settings/calendar/", views_settings.calendar, name="calendar"),
    path("settings/warnings/", views_settings.warnings, name="warnings"),
    path("settings/points/", views_settings.points, name="points"),
    path("settings/wall/", views_settings.wall_links, name="wall_links"),
]
