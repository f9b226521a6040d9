from django.apps import AppConfig


class ApiauthConfig(AppConfig):
    name = "apiauth"
    verbose_name = "接口授权"

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the token scheme with drf-spectacular)
