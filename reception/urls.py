from django.urls import path

from . import views

app_name = "reception"

urlpatterns = [
    path("", views.desk, name="desk"),
    path("take/", views.take, name="take"),
    path("register/", views.register, name="register"),
    path("lookup/", views.lookup, name="lookup"),
    path("visits/<int:pk>/", views.visit_detail, name="visit"),
    path("visits/<int:pk>/receipt.pdf", views.receipt, name="receipt"),
    path("mine/", views.mine, name="mine"),
    path("overview/", views.overview, name="overview"),
    path("windows/", views.windows, name="windows"),
    path("summonses/", views.summonses, name="summonses"),
    path("summonses/<int:pk>/ack/", views.summons_ack, name="summons_ack"),
    path("counselling/", views.counselling_list, name="counselling_list"),
    path("counselling/<int:pk>/", views.counselling_detail, name="counselling"),
    path("leader-days/", views.leader_days, name="leader_days"),
    path("leader-days/<int:pk>/", views.leader_day, name="leader_day"),
    path("appointments/", views.appointments, name="appointments"),
    # Public, no login: tracking number + token, no personal data.
    path("s/", views.status_query, name="status_query"),
    path("s/<str:tracking_no>/<str:token>/", views.status, name="status"),
]
