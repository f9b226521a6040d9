from django.apps import AppConfig


class GridsConfig(AppConfig):
    name = "grids"
    verbose_name = "网格化管理"

    def ready(self) -> None:
        from cases import lifecycle as case_lifecycle
        from centers import navigation
        from centers.models import Role

        from . import lifecycle

        for t in lifecycle.TRANSITIONS:
            case_lifecycle.register(t)
        navigation.register(
            "今日任务", "grids:today", roles=[Role.GRID_WORKER], order=5, home_for=[Role.GRID_WORKER]
        )
        navigation.register(
            "网格管理", "grids:list", roles=[Role.DISPATCHER, Role.CENTER_LEADER, Role.LEADERSHIP], order=40
        )
        navigation.register(
            "网格统计",
            "grids:figures",
            roles=[Role.DISPATCHER, Role.CENTER_LEADER, Role.LEADERSHIP],
            order=41,
        )
        navigation.register("排查任务", "grids:sweeps", roles=[Role.DISPATCHER, Role.CENTER_LEADER], order=42)
        navigation.register(
            "隐患整改",
            "grids:hazards",
            roles=[Role.DISPATCHER, Role.CENTER_LEADER, Role.UNIT_STAFF],
            order=45,
        )
