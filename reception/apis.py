"""REST endpoints of this app, collected under /api/v1/ by zongzhi.api."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()
urlpatterns: list = []
