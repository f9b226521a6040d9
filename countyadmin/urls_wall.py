"""/wall/<token>/: the wall display (no login). Kept apart from /admin-county/ on purpose."""

from django.urls import path

from . import views_wall

app_name = "wall"

urlpatterns = [
    path("<str:token>/", views_wall.screen, name="screen"),
    path("<str:token>/data/", views_wall.data, name="data"),
    path("<str:token>/map.json", views_wall.map_json, name="map"),
]
