from django.apps import AppConfig


class CountyadminConfig(AppConfig):
    name = "countyadmin"
    verbose_name = "县级系统管理"

    def ready(self) -> None:
        from centers import navigation

        from .access import ADMIN_ROLES

        navigation.register("人员账号", "countyadmin:accounts", roles=ADMIN_ROLES, order=80)
        navigation.register("人员导入", "countyadmin:imports", roles=ADMIN_ROLES, order=81)
        navigation.register("无人负责事项", "countyadmin:orphans", roles=ADMIN_ROLES, order=82)
        # Shown to every administrator; the page itself admits the county's only (403 otherwise).
        navigation.register("县级设置", "countyadmin:settings", roles=ADMIN_ROLES, order=83)
