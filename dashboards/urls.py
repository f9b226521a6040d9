from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("screen/", views.screen, name="screen"),
    path("screen/data/", views.screen_data, name="screen_data"),
    path("screen/map/<int:pk>.json", views.screen_map, name="screen_map"),
    path("reports/", views.report, {"kind": "daily"}, name="reports"),
    path("reports/daily/", views.report, {"kind": "daily"}, name="report_daily"),
    path("reports/weekly/", views.report, {"kind": "weekly"}, name="report_weekly"),
    path("reports/monthly/", views.report, {"kind": "monthly"}, name="report_monthly"),
    path("reports/quarterly/", views.report, {"kind": "quarterly"}, name="report_quarterly"),
    path("safety/", views.safety_index, name="safety"),
    path("safety/<int:pk>/", views.safety_detail, name="safety_detail"),
    path("safety/weights/", views.safety_weights, name="safety_weights"),
]
