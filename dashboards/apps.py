from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = "指挥大屏与报表"

    def ready(self) -> None:
        from centers import navigation
        from centers.models import Role

        navigation.register(
            "指挥大屏",
            "dashboards:screen",
            roles=[Role.LEADERSHIP, Role.CENTER_LEADER, Role.DISPATCHER],
            order=2,
            home_for=[Role.LEADERSHIP],
        )
        office = [Role.LEADERSHIP, Role.CENTER_LEADER, Role.DISPATCHER]
        navigation.register("调度与研判报表", "dashboards:reports", roles=office, order=63)
        navigation.register("平安指数", "dashboards:safety", roles=office, order=64)
