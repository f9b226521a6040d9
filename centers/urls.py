from django.urls import path

from . import views

app_name = "centers"

urlpatterns = [
    path("", views.home, name="home"),
    path("regions/", views.regions, name="regions"),
    path("regions/<int:pk>/", views.region_detail, name="region"),
]
