"""The place tree, centers, functional units, staff and their roles.

The place tree is the seeds' own model: county = level-1 grid, town = level 2, village or community =
level 3, grid cell = level 4, and levels above the county for a city or province installation.
It is a materialized path (django-treebeard's MP_Node): "everything under this town" is one
`path LIKE 'prefix%'` on an indexed column, and every matter copies its place's path into its own
indexed `region_path`, so a jurisdiction filter over a million matters needs no join and no
recursive query. Treebeard rather than a hand-written path: it keeps `path`, `depth` and
`numchild` consistent on insert and move, and the admin can show the tree.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords
from treebeard.mp_tree import MP_Node

from .jurisdiction import Jurisdiction


class RegionKind(models.TextChoices):
    PROVINCE = "province", "省"
    CITY = "city", "市"
    COUNTY = "county", "县（市、区）"
    TOWN = "town", "乡镇（街道）"
    VILLAGE = "village", "村（社区）"
    GRID = "grid", "网格"


# Grid level of each kind as the seeds count it (county = level-1 grid … cell = level 4).
GRID_LEVEL = {RegionKind.COUNTY: 1, RegionKind.TOWN: 2, RegionKind.VILLAGE: 3, RegionKind.GRID: 4}
# Kinds that have a center (综治中心 / 综治工作站).
CENTER_KINDS = (RegionKind.PROVINCE, RegionKind.CITY, RegionKind.COUNTY, RegionKind.TOWN, RegionKind.VILLAGE)


class User(AbstractUser):
    full_name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("手机号", max_length=20, blank=True)
    must_change_password = models.BooleanField("下次登录须修改密码", default=False)
    is_api_client = models.BooleanField("接口账户", default=False)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username


class Region(MP_Node):
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("层级", max_length=16, choices=RegionKind.choices, db_index=True)
    code = models.CharField("区划代码", max_length=32, unique=True)
    is_urban = models.BooleanField("街道/社区", default=False, help_text="街道、社区（而非乡镇、村）")
    population = models.PositiveIntegerField("实有人口", default=0)
    households = models.PositiveIntegerField("实有户数", default=0)
    lat = models.FloatField("纬度", null=True, blank=True)
    lng = models.FloatField("经度", null=True, blank=True)

    node_order_by = ["code"]
    history = HistoricalRecords()
    JURISDICTION = Jurisdiction(path="path")

    class Meta:
        verbose_name = "辖区"
        verbose_name_plural = "辖区"

    def __str__(self) -> str:
        return self.name

    @property
    def grid_level(self) -> int | None:
        return GRID_LEVEL.get(self.kind)

    @property
    def full_name(self) -> str:
        from .selectors import ancestors_of

        names = [a.name for a in ancestors_of(self) if a.kind not in (RegionKind.PROVINCE, RegionKind.CITY)]
        return "".join([*names, self.name])


class RegionUserObjectPermission(UserObjectPermissionBase):
    """Guardian grant of a whole region (e.g. a county department's user over one town)."""

    content_object = models.ForeignKey(Region, on_delete=models.CASCADE)


class RegionGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Region, on_delete=models.CASCADE)


class Center(models.Model):
    """A comprehensive governance center (综治中心) or village station (综治工作站)."""

    region = models.OneToOneField(Region, on_delete=models.PROTECT, related_name="center", verbose_name="辖区")
    name = models.CharField("名称", max_length=100)
    phone = models.CharField("值班电话", max_length=30, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    history = HistoricalRecords()
    JURISDICTION = Jurisdiction(path="region__path", center="pk")

    class Meta:
        verbose_name = "综治中心"
        verbose_name_plural = "综治中心"

    def __str__(self) -> str:
        return self.name

    @property
    def kind(self) -> str:
        return self.region.kind

    @property
    def path(self) -> str:
        return self.region.path


class DepartmentKind(models.TextChoices):
    PUBLIC_SECURITY = "public_security", "公安局"
    POLICE_STATION = "police_station", "派出所"
    PROCURATORATE = "procuratorate", "检察院"
    COURT = "court", "法院"
    TRIBUNAL = "tribunal", "人民法庭"
    JUSTICE = "justice", "司法局"
    JUSTICE_OFFICE = "justice_office", "司法所"
    PETITION = "petition", "信访局"
    HRSS = "hrss", "人社局"
    HOUSING = "housing", "住建局"
    CIVIL_AFFAIRS = "civil_affairs", "民政局"
    MARKET = "market", "市场监管局"
    NATURAL_RESOURCES = "natural_resources", "自然资源局"
    HEALTH = "health", "卫健局"
    TRANSPORT = "transport", "交通运输局"
    ENVIRONMENT = "environment", "生态环境局"
    EMERGENCY = "emergency", "应急管理局"
    EDUCATION = "education", "教育局"
    AGRICULTURE = "agriculture", "农业农村局"
    WOMEN = "women", "妇联"
    TOWN_OFFICE = "town_office", "乡镇职能办"
    OTHER = "other", "其他部门"


class Unit(models.Model):
    """A functional department (职能部门) at some level of the tree."""

    name = models.CharField("名称", max_length=100)
    kind = models.CharField("部门类别", max_length=32, choices=DepartmentKind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="units", verbose_name="所在辖区")
    phone = models.CharField("电话", max_length=30, blank=True)
    is_active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()
    JURISDICTION = Jurisdiction(path="region__path", unit="pk")

    class Meta:
        verbose_name = "职能部门"
        verbose_name_plural = "职能部门"
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="unit_unique_name_per_region")]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    WINDOW_CLERK = "window_clerk", "窗口工作人员"
    HALL_SUPERVISOR = "hall_supervisor", "大厅主管"
    MEDIATOR = "mediator", "调解员"
    GRID_WORKER = "grid_worker", "网格员"
    DISPATCHER = "dispatcher", "中心工作人员"
    CENTER_LEADER = "center_leader", "中心领导"
    LEADERSHIP = "leadership", "县领导（大屏）"
    UNIT_STAFF = "unit_staff", "部门工作人员"
    COUNSELLOR = "counsellor", "心理咨询师"
    SYSADMIN = "sysadmin", "系统管理员"
    API_CLIENT = "api_client", "接口账户"


# Roles that may see full ID and phone numbers (after a logged click); the others see them masked.
PII_ROLES = frozenset({Role.WINDOW_CLERK, Role.HALL_SUPERVISOR, Role.MEDIATOR, Role.DISPATCHER, Role.CENTER_LEADER})


class Membership(models.Model):
    """A user's post: a role at a center or at a unit. One user may hold several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name="用户")
    center = models.ForeignKey(
        Center, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships", verbose_name="中心"
    )
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships", verbose_name="部门"
    )
    role = models.CharField("角色", max_length=32, choices=Role.choices, db_index=True)
    title = models.CharField("职务", max_length=50, blank=True)
    is_active = models.BooleanField("在岗", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    history = HistoricalRecords()
    JURISDICTION = Jurisdiction(path=("center__region__path", "unit__region__path"), center="center", unit="unit")

    class Meta:
        verbose_name = "岗位"
        verbose_name_plural = "岗位"
        constraints = [
            models.CheckConstraint(
                condition=(Q(center__isnull=False, unit__isnull=True) | Q(center__isnull=True, unit__isnull=False)),
                name="membership_center_xor_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.center or self.unit}"

    @property
    def region(self) -> Region:
        return self.center.region if self.center_id else self.unit.region
