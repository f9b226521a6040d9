from django.apps import AppConfig


class CentersConfig(AppConfig):
    name = "centers"
    verbose_name = "中心与辖区"

    def ready(self) -> None:
        from . import navigation

        # Every signed-in staff user; the home page sends each role on to its own first page.
        navigation.register("首页", "home", order=0)
        navigation.register("辖区概况", "centers:regions", order=90)
