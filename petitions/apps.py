from django.apps import AppConfig


class PetitionsConfig(AppConfig):
    name = "petitions"
    verbose_name = "信访"

    def ready(self) -> None:
        from cases import lifecycle
        from cases.models import CaseKind
        from centers import navigation
        from centers.models import Role

        from .services import TRANSITIONS, on_petition_overdue

        for t in TRANSITIONS:
            lifecycle.register(t)
        # An overdue petition is supervised (督办) where it stands; it is not moved up a level.
        lifecycle.register_overdue_hook(CaseKind.PETITION, on_petition_overdue)

        staff = [
            Role.DISPATCHER,
            Role.CENTER_LEADER,
            Role.WINDOW_CLERK,
            Role.HALL_SUPERVISOR,
            Role.LEADERSHIP,
            Role.UNIT_STAFF,
        ]
        office = [Role.DISPATCHER, Role.CENTER_LEADER]
        navigation.register("信访件", "petitions:list", roles=staff, order=30)
        navigation.register("信访登记", "petitions:register", roles=[*office, Role.WINDOW_CLERK], order=31)
        navigation.register("渠道数据导入", "petitions:imports", roles=office, order=32)
        navigation.register("数据融合", "petitions:fusion", roles=office, order=33)
        navigation.register(
            "重复来电与职业索赔", "petitions:repeat_callers", roles=[*office, Role.LEADERSHIP], order=34
        )
