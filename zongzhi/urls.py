from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from centers.views import PasswordChange, home

from .views import healthz

admin.site.site_header = "综治中心平台 · 系统管理"
admin.site.site_title = "综治中心平台"
admin.site.index_title = "系统管理"

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", PasswordChange.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("admin/", admin.site.urls),
    path("centers/", include("centers.urls")),
    path("cases/", include("cases.urls")),
    path("grids/", include("grids.urls")),
    path("petitions/", include("petitions.urls")),
    path("mediation/", include("mediation.urls")),
    path("reception/", include("reception.urls")),
    path("dashboards/", include("dashboards.urls")),
    path("admin-county/", include("countyadmin.urls")),
    path("wall/", include("countyadmin.urls_wall")),
    path("api/v1/", include("zongzhi.api")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.DEBUG:
    urlpatterns += [path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})]

handler404 = "zongzhi.views.not_found"
