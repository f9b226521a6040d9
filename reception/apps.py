from django.apps import AppConfig


class ReceptionConfig(AppConfig):
    name = "reception"
    verbose_name = "群众接待大厅"

    def ready(self) -> None:
        from cases.views import register_case_link, register_detail_guard
        from centers import navigation
        from centers.models import Role

        from .views import counselling_guard, counselling_link

        register_case_link(counselling_link)
        register_detail_guard(counselling_guard)

        clerks = [Role.WINDOW_CLERK, Role.HALL_SUPERVISOR]
        navigation.register(
            "窗口工作台", "reception:desk", roles=clerks, order=3, home_for=[Role.WINDOW_CLERK]
        )
        navigation.register("来访登记", "reception:register", roles=clerks, order=4)
        navigation.register("我的登记", "reception:mine", roles=clerks, order=6)
        navigation.register("取号", "reception:take", roles=clerks, order=7)
        navigation.register(
            "大厅总览",
            "reception:overview",
            roles=[Role.HALL_SUPERVISOR],
            order=2,
            home_for=[Role.HALL_SUPERVISOR],
        )
        navigation.register("窗口与排班", "reception:windows", roles=[Role.HALL_SUPERVISOR], order=8)
        navigation.register("联调联处报到", "reception:summonses", roles=[Role.UNIT_STAFF], order=30)
        navigation.register(
            "领导接访日",
            "reception:leader_days",
            roles=[*clerks, Role.DISPATCHER, Role.CENTER_LEADER, Role.LEADERSHIP],
            order=9,
        )
        navigation.register("预约回访", "reception:appointments", roles=clerks, order=10)
        navigation.register(
            "心理咨询室", "reception:counselling_list", roles=[Role.COUNSELLOR], order=5
        )
