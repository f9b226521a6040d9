from django.apps import AppConfig


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = "人民调解"

    def ready(self) -> None:
        from cases import lifecycle
        from cases.models import CaseKind
        from centers import navigation
        from centers.models import Role

        from .services import TRANSITIONS, on_referral_overdue

        for t in TRANSITIONS:
            lifecycle.register(t)
        # A referred matter stays with the mediation its referring body chose: overdue, it turns
        # red and the mediator, the center and the referring body are told; it is not moved up.
        lifecycle.register_overdue_hook(CaseKind.REFERRAL, on_referral_overdue)

        office = [Role.DISPATCHER, Role.CENTER_LEADER]
        navigation.register("我的调解", "mediation:mine", roles=[Role.MEDIATOR], order=5, home_for=[Role.MEDIATOR])
        navigation.register("人民调解", "mediation:list", roles=[*office, Role.LEADERSHIP, Role.MEDIATOR], order=50)
        navigation.register("调解组织", "mediation:committees", roles=[*office, Role.LEADERSHIP, Role.MEDIATOR], order=51)
        navigation.register("调解统计", "mediation:figures", roles=[*office, Role.LEADERSHIP], order=52)
        navigation.register(
            "诉调/警调/访调对接", "mediation:referrals", roles=[*office, Role.UNIT_STAFF, Role.MEDIATOR], order=53
        )

        from . import views

        views.register_case_page()
