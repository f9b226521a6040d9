from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "事项与预警"

    def ready(self) -> None:
        from centers import navigation
        from centers.models import Role

        navigation.register(
            "我的待办",
            "cases:queue",
            roles=[
                Role.DISPATCHER,
                Role.CENTER_LEADER,
                Role.WINDOW_CLERK,
                Role.HALL_SUPERVISOR,
                Role.UNIT_STAFF,
                Role.MEDIATOR,
                Role.COUNSELLOR,
                Role.GRID_WORKER,
            ],
            order=10,
            home_for=[Role.DISPATCHER, Role.CENTER_LEADER, Role.WINDOW_CLERK, Role.UNIT_STAFF],
        )
        navigation.register(
            "事项查询",
            "cases:list",
            roles=[
                Role.DISPATCHER,
                Role.CENTER_LEADER,
                Role.LEADERSHIP,
                Role.HALL_SUPERVISOR,
                Role.WINDOW_CLERK,
                Role.UNIT_STAFF,
            ],
            order=30,
        )
        navigation.register(
            "登记事项",
            "cases:create",
            roles=[Role.DISPATCHER, Role.CENTER_LEADER, Role.WINDOW_CLERK, Role.HALL_SUPERVISOR],
            order=40,
        )
        navigation.register(
            "审计日志", "cases:audit", roles=[Role.CENTER_LEADER, Role.SYSADMIN, Role.LEADERSHIP], order=95
        )
        from .views_supervision import register_navigation

        register_navigation()
