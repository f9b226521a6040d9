from django.urls import path

from . import views

app_name = "grids"

urlpatterns = [
    # The grid worker's phone
    path("", views.today, name="today"),
    path("visits/", views.visit_list, name="visits"),
    path("visits/new/", views.visit_new, name="visit_new"),
    path("visits/<int:pk>/photo/", views.visit_photo, name="visit_photo"),
    path("disputes/new/", views.dispute_new, name="dispute_new"),
    path("hazards/new/", views.hazard_new, name="hazard_new"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:pk>/", views.report_detail, name="report"),
    path("reports/<int:pk>/follow-up/", views.report_follow_up, name="report_follow_up"),
    # Hazards: hand out, rectify, verify
    path("hazards/", views.hazards, name="hazards"),
    path("hazards/<int:pk>/", views.hazard_detail, name="hazard"),
    path("hazards/<int:pk>/act/<slug:action>/", views.hazard_act, name="hazard_act"),
    # Patrol sweeps
    path("sweeps/", views.sweeps, name="sweeps"),
    path("sweeps/new/", views.sweep_new, name="sweep_new"),
    path("sweeps/<int:pk>/", views.sweep_detail, name="sweep"),
    path("sweeps/tasks/<int:pk>/", views.sweep_task, name="sweep_task"),
    # Grids, teams, figures
    path("list/", views.grid_list, name="list"),
    path("g/<int:pk>/", views.grid_detail, name="grid"),
    path("g/<int:pk>/members/", views.grid_member_add, name="member_add"),
    path("g/<int:pk>/members/<int:member_pk>/end/", views.grid_member_end, name="member_end"),
    path("g/<int:pk>/profile/", views.grid_profile, name="profile"),
    path("figures/", views.figures, name="figures"),
]
