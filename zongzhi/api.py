"""The /api/v1/ router: collects each app's `apis.router` and `apis.urlpatterns`."""

from importlib import import_module

from django.urls import include, path

APPS = ["cases", "grids", "petitions", "mediation", "reception", "dashboards", "centers"]

urlpatterns: list = []
for app in APPS:
    try:
        module = import_module(f"{app}.apis")
    except ModuleNotFoundError as exc:
        if exc.name != f"{app}.apis":
            raise
        continue
    urlpatterns += list(getattr(module, "urlpatterns", []))
    router = getattr(module, "router", None)
    if router is not None:
        urlpatterns.append(path("", include(router.urls)))
