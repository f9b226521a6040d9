"""Staff import: a sheet is previewed (row-level errors in Chinese, what each row would do), then
its good rows are imported — idempotently.

Identity: a person is found by ID number (the keyed hash in `StaffProfile`) or by mobile phone
(`User.phone`); a place by its code; a unit by (place, name); a post by (person, center or unit,
role); a grid post by (grid, person, role). A row whose person, place and post exist unchanged is
"无变化" and importing the same sheet again writes nothing. Grid workers are linked to their grid
the way `grids.services.grid_team_member_add` does it: a `GridTeamMember` (role 网格员) on the
level-4 grid and a 网格员 post at the village's station, whose jurisdiction the worker reads.

The writes are bulk inserts and updates (with bulk history rows), so a county's 3,500 grid workers
import in seconds; each import runs in one transaction — all good rows or none. New places are
appended after their existing siblings (materialized paths of existing places never move, since
cases and grid rows keep copies of them).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cases.bulk import history_snapshot
from cases.crypto import mask_id_number, mask_phone, normalize_phone
from centers.jurisdiction import forget_scope
from centers.models import Center, DepartmentKind, Membership, Region, RegionKind, Role, Unit, User
from centers.services import DomainError, center_name_for, role_group

from . import access, sheets
from .models import AdminAction, ImportStatus, SheetKind, StaffImport, StaffProfile, id_number_hash
from .sheets import Invalid, text

ERRORS_KEPT = 5000
PREVIEW_ROWS = 30
_CHUNK = 2000
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
HISTORY_REASON = "人员导入"


def _history(model: Any, objs: Sequence[Any], *, created: bool = False, changed: bool = False) -> None:
    """One simple-history row per object, written in one INSERT … SELECT (cases.bulk)."""
    history_snapshot(
        model, objs, reason=HISTORY_REASON, date=timezone.now(), history_type="+" if created else "~"
    )


def _chunks(values: Sequence, size: int = _CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


# --------------------------------------------------------------------------------------------
# Row results
# --------------------------------------------------------------------------------------------


@dataclass
class RowError:
    line: int
    key: str
    errors: dict[str, str] = field(default_factory=dict)

    def as_dict(self, kind: str) -> dict[str, Any]:
        labels = {c.field: c.header for c in sheets.COLUMNS[kind]}
        return {
            "row": self.line,
            "key": self.key,
            "errors": [f"{labels.get(f, f)}：{m}" if f in labels else m for f, m in self.errors.items()],
        }


NEW, CHANGED, UNCHANGED = "new", "changed", "unchanged"
RESULT_LABELS = {
    "accounts_created": "新建账号",
    "accounts_updated": "更新账号",
    "posts_created": "新增岗位",
    "posts_updated": "更新岗位",
    "regions_created": "新增辖区",
    "centers_created": "新设中心",
    "centers_updated": "更新中心",
    "units_created": "新增部门",
    "units_updated": "更新部门",
    "grids_created": "新建网格",
    "grids_updated": "更新网格",
    "grid_posts_created": "新增网格岗位",
    "grid_posts_updated": "更新网格岗位",
    "moved": "调动人数",
}
ACTION_LABELS = {NEW: "新增", CHANGED: "变更", UNCHANGED: "无变化"}


@dataclass
class Plan:
    """What the good rows of a sheet would do, and the errors of the others."""

    kind: str
    total: int = 0
    errors: list[RowError] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # per good row: line, action, text, op
    counts: dict[str, int] = field(default_factory=lambda: {NEW: 0, CHANGED: 0, UNCHANGED: 0})
    warnings: list[str] = field(default_factory=list)

    def add(self, line: int, action: str, summary: str, **op: Any) -> None:
        self.rows.append({"line": line, "action": action, "text": summary, **op})
        self.counts[action] += 1

    def preview(self) -> list[dict[str, Any]]:
        # Changes first: they are what the administrator needs to check.
        order = {CHANGED: 0, NEW: 1, UNCHANGED: 2}
        rows = sorted(self.rows, key=lambda r: (order[r["action"]], r["line"]))[:PREVIEW_ROWS]
        return [{"row": r["line"], "action": ACTION_LABELS[r["action"]], "text": r["text"]} for r in rows]


# --------------------------------------------------------------------------------------------
# Shared lookups
# --------------------------------------------------------------------------------------------


class Scope:
    """The importer's reach: places inside the centers they administer."""

    def __init__(self, by: User) -> None:
        self.by = by
        self.all = bool(by.is_superuser)
        self.paths = access.admin_paths(by)

    def covers(self, region: Region) -> bool:
        return self.all or any(region.path.startswith(p) for p in self.paths)

    def strictly_below(self, region: Region) -> bool:
        """For administrator posts: only below the importer's own center (no peers)."""
        return self.all or any(region.path.startswith(p) and region.path != p for p in self.paths)


class Places:
    """Regions by code (with their centers), loaded in a few queries for the codes of a sheet."""

    def __init__(self, codes: Iterable[str]) -> None:
        codes = sorted({c for c in codes if c})
        self.by_code: dict[str, Region] = {}
        for chunk in _chunks(codes):
            for r in Region.objects.filter(code__in=list(chunk)):
                self.by_code[r.code] = r
        ids = [r.pk for r in self.by_code.values()]
        self.centers: dict[int, Center] = {}
        for chunk in _chunks(ids):
            for c in Center.objects.filter(region_id__in=list(chunk)):
                self.centers[c.region_id] = c

    def get(self, code: str) -> Region | None:
        return self.by_code.get(code)

    def parent_of(self, region: Region) -> Region | None:
        path = region.path[: -Region.steplen]
        return (
            next((r for r in self.by_code.values() if r.path == path), None)
            or Region.objects.filter(path=path).first()
        )


@lru_cache(maxsize=50_000)
def _clean_id(value: str) -> str:
    """python-stdnum's check (its birth-place lookup costs ~1 ms; a re-import asks again)."""
    from petitions.validation import Invalid as NumberInvalid
    from petitions.validation import clean_id_number

    try:
        return clean_id_number(value)
    except NumberInvalid as exc:
        raise Invalid(str(exc)) from exc


def _clean_mobile(value: str) -> str:
    digits = normalize_phone(value)
    if not _MOBILE.match(digits):
        raise Invalid(f"应为 11 位手机号，而不是「{value[:20]}」")
    return digits


def _int(value: Any, label: str) -> int | None:
    raw = text(value)
    if not raw:
        return None
    try:
        number = int(float(raw))
    except ValueError as exc:
        raise Invalid(f"{label}应为整数，而不是「{raw[:10]}」") from exc
    if not 0 <= number <= 1_000_000:
        raise Invalid(f"{label}超出范围")
    return number


@dataclass
class Person:
    """One person of a sheet: an existing account or a new one."""

    key: str
    line: int
    name: str
    phone: str
    id_hash: str
    id_number: str
    username: str
    user: User | None = None
    changes: dict[str, Any] = field(default_factory=dict)  # field → new value (existing users)

    @property
    def label(self) -> str:
        return f"{self.name}（{mask_phone(self.phone)}）"


class People:
    """Accounts matching a sheet's ID numbers, phones and login names, loaded in bulk."""

    def __init__(self, by: User, records: list[tuple[int, dict[str, Any]]]) -> None:
        self.by = by
        hashes, phones, usernames = set(), set(), set()
        for _, rec in records:
            idn = re.sub(r"\s+", "", text(rec.get("id_number"))).upper()
            if idn:
                hashes.add(id_number_hash(idn))
            phone = normalize_phone(text(rec.get("phone")))
            if phone:
                phones.add(phone)
                usernames.add(phone)
            if text(rec.get("username")):
                usernames.add(text(rec.get("username")))
        self.by_hash: dict[str, int] = {}
        for chunk in _chunks(sorted(hashes)):
            self.by_hash.update(
                StaffProfile.objects.filter(id_number_hash__in=list(chunk)).values_list(
                    "id_number_hash", "user_id"
                )
            )
        users: dict[int, User] = {}
        for chunk in _chunks(sorted(self.by_hash.values())):
            users.update((u.pk, u) for u in User.objects.filter(pk__in=list(chunk)))
        for chunk in _chunks(sorted(phones)):
            users.update((u.pk, u) for u in User.objects.filter(phone__in=list(chunk)))
        for chunk in _chunks(sorted(usernames)):
            users.update((u.pk, u) for u in User.objects.filter(username__in=list(chunk)))
        self.users = users
        self.by_phone: dict[str, list[int]] = defaultdict(list)
        for u in users.values():
            if u.phone:
                self.by_phone[normalize_phone(u.phone)].append(u.pk)
        self.by_username = {u.username: u.pk for u in users.values()}
        self.profile_hash: dict[int, str] = {}
        for chunk in _chunks(sorted(users)):
            self.profile_hash.update(
                StaffProfile.objects.filter(user_id__in=list(chunk)).values_list("user_id", "id_number_hash")
            )
        self.manageable: set[int] = set()
        for chunk in _chunks(sorted(users)):
            self.manageable |= set(
                access.administrable_users(by).filter(pk__in=list(chunk)).values_list("pk", flat=True)
            )
        # Within the sheet: who each ID hash / phone / login name was first given to.
        self.people: dict[str, Person] = {}
        self._hash_key: dict[str, str] = {}
        self._phone_key: dict[str, str] = {}
        self._username_key: dict[str, str] = {}

    def resolve(
        self, line: int, rec: dict[str, Any], errors: dict[str, str], *, phone_required: bool = True
    ) -> Person | None:
        name = text(rec.get("name"))[:50]
        if not name:
            errors["name"] = "不能为空"
        raw_id, raw_phone, username = (
            text(rec.get("id_number")),
            text(rec.get("phone")),
            text(rec.get("username")),
        )
        id_number = phone = ""
        try:
            id_number = _clean_id(raw_id) if raw_id else ""
        except Invalid as exc:
            errors["id_number"] = str(exc)
        try:
            phone = _clean_mobile(raw_phone) if raw_phone else ""
        except Invalid as exc:
            errors["phone"] = str(exc)
        if not raw_phone and "phone" not in errors:
            if phone_required:
                errors["phone"] = "不能为空"
            elif not raw_id:
                errors["phone"] = "身份证号与手机号至少填写一项"
        if username and not re.fullmatch(r"[\w.@+-]{3,150}", username):
            errors["username"] = "只能包含字母、数字和 @ . + - _，至少 3 位"
        if errors:
            return None
        h = id_number_hash(id_number) if id_number else ""
        user: User | None = None
        if h and h in self.by_hash:
            user = self.users[self.by_hash[h]]
            others = [pk for pk in self.by_phone.get(phone, []) if pk != user.pk] if phone else []
            if others:
                errors["phone"] = f"该手机号已被另一账号（{self.users[others[0]].username}）使用"
        elif phone and self.by_phone.get(phone):
            found = self.by_phone[phone]
            if len(found) > 1:
                errors["phone"] = "该手机号对应多个账号，请填写身份证号以区分"
            else:
                user = self.users[found[0]]
                if h and self.profile_hash.get(user.pk) and self.profile_hash[user.pk] != h:
                    errors["id_number"] = f"与手机号 {mask_phone(phone)} 的账号登记的身份证号不一致"
        elif not phone:
            errors["id_number"] = "找不到该身份证号对应的人员"
        if errors:
            return None
        if user is not None:
            if not user.is_active:
                errors["name"] = f"账号 {user.username} 已停用，请先在“人员账号”中恢复"
            elif user.pk not in self.manageable:
                errors["name"] = f"{user.display_name}（{user.username}）不在您的管理范围内"
            elif username and username != user.username:
                errors["username"] = f"与已有账号的登录名（{user.username}）不一致"
            if errors:
                return None
            key = f"u{user.pk}"
        else:
            username = username or phone
            taken = self.by_username.get(username)
            if taken is not None:
                errors["username"] = f"登录名 {username} 已被其他账号使用"
                return None
            key = f"h{h}" if h else f"p{phone}"
        # One person per ID number, phone and login name within the sheet.
        for index, value, col, what in (
            (self._hash_key, h, "id_number", "身份证号"),
            (self._phone_key, phone, "phone", "手机号"),
            (self._username_key, username if user is None else "", "username", "登录名"),
        ):
            if value and index.get(value, key) != key:
                first = self.people[index[value]]
                errors[col] = f"与第 {first.line} 行（{first.name}）的{what}相同，却不是同一人"
                return None
        person = self.people.get(key)
        if person is not None:
            if person.name != name:
                errors["name"] = f"与第 {person.line} 行同一人的姓名「{person.name}」不一致"
                return None
            return person
        person = Person(
            key, line, name, phone, h, id_number, username if user is None else user.username, user
        )
        if user is not None:
            if user.full_name != name:
                person.changes["full_name"] = name
            if phone and normalize_phone(user.phone) != phone:
                person.changes["phone"] = phone
            if h and not self.profile_hash.get(user.pk):
                person.changes["id_number"] = id_number
        for index, value in (
            (self._hash_key, h),
            (self._phone_key, phone),
            (self._username_key, person.username),
        ):
            if value:
                index.setdefault(value, key)
        self.people[key] = person
        return person


# --------------------------------------------------------------------------------------------
# Writing people and posts
# --------------------------------------------------------------------------------------------


def _write_people(people: Iterable[Person], password_hash: str) -> dict[str, int]:
    """Create new accounts, update changed ones; sets `person.user`. Returns counts."""
    people = list(people)
    new = [p for p in people if p.user is None]
    created = User.objects.bulk_create(
        [
            User(
                username=p.username,
                full_name=p.name,
                phone=p.phone,
                password=password_hash,
                must_change_password=True,
                is_active=True,
            )
            for p in new
        ],
        batch_size=1000,
    )
    for p, u in zip(new, created, strict=True):
        p.user = u
    profiles = []
    for p in new:
        if p.id_number:
            profile = StaffProfile(user=p.user)
            profile.set_id_number(p.id_number)
            profiles.append(profile)
    changed = [p for p in people if p.user is not None and p.changes]
    users = []
    for p in changed:
        for f in ("full_name", "phone"):
            if f in p.changes:
                setattr(p.user, f, p.changes[f])
        users.append(p.user)
        if "id_number" in p.changes:
            profile = StaffProfile(user=p.user)
            profile.set_id_number(p.changes["id_number"])
            profiles.append(profile)
    if users:
        User.objects.bulk_update(users, ["full_name", "phone"], batch_size=1000)
    StaffProfile.objects.bulk_create(
        profiles,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["id_number_enc", "id_number_hash", "id_number_masked"],
    )
    return {"accounts_created": len(new), "accounts_updated": len(users)}


@dataclass(frozen=True)
class PostKey:
    user_key: str
    center_id: int | None
    unit_id: int | None
    role: str


class Posts:
    """Existing posts of the sheet's known users, keyed (user, center, unit, role)."""

    def __init__(self, user_ids: Sequence[int]) -> None:
        self.rows: dict[tuple[int, int | None, int | None, str], Membership] = {}
        for chunk in _chunks(sorted(set(user_ids))):
            for m in Membership.objects.filter(user_id__in=list(chunk)):
                key = (m.user_id, m.center_id, m.unit_id, m.role)
                # Several historical rows may exist: prefer the active one.
                if key not in self.rows or m.is_active:
                    self.rows[key] = m

    def state(self, person: Person, center_id: int | None, unit_id: int | None, role: str, title: str) -> str:
        if person.user is None:
            return NEW
        m = self.rows.get((person.user.pk, center_id, unit_id, role))
        if m is None:
            return NEW
        if not m.is_active or (title and m.title != title):
            return CHANGED
        return UNCHANGED


def _write_posts(
    wanted: Sequence[tuple[Person, int | None, int | None, str, str]], now: dt.datetime
) -> dict[str, int]:
    """Create or reactivate posts (user, center, unit, role, title); with history rows and role groups."""
    user_ids = [p.user.pk for p, *_ in wanted]
    posts = Posts(user_ids)
    create, update, seen = [], [], set()
    for person, center_id, unit_id, role, title in wanted:
        key = (person.user.pk, center_id, unit_id, role)
        if key in seen:
            continue
        seen.add(key)
        m = posts.rows.get(key)
        if m is None:
            create.append(
                Membership(
                    user_id=person.user.pk, center_id=center_id, unit_id=unit_id, role=role, title=title[:50]
                )
            )
        elif not m.is_active or (title and m.title != title[:50]):
            m.is_active = True
            m.title = title[:50] or m.title
            update.append(m)
    created = Membership.objects.bulk_create(create, batch_size=1000)
    _history(Membership, created, created=True)
    if update:
        Membership.objects.bulk_update(update, ["is_active", "title"], batch_size=1000)
        _history(Membership, update, changed=True)
    groups = {}
    links = []
    for person, _, _, role, _ in wanted:
        group = groups.get(role) or groups.setdefault(role, role_group(role))
        links.append(User.groups.through(user_id=person.user.pk, group_id=group.pk))
    User.groups.through.objects.bulk_create(links, batch_size=1000, ignore_conflicts=True)
    return {"posts_created": len(created), "posts_updated": len(update)}


def _append_regions(parent: Region, rows: Sequence[dict[str, Any]]) -> list[Region]:
    """New children of `parent`, in code order after its existing children (no path ever moves)."""
    if not rows:
        return []
    step = Region.steplen
    parent = Region.objects.select_for_update().get(pk=parent.pk)
    last = (
        Region.objects.filter(path__startswith=parent.path, depth=parent.depth + 1)
        .order_by("-path")
        .values_list("path", flat=True)
        .first()
    )
    start = Region._str2int(last[-step:]) + 1 if last else 1
    objs = [
        Region(
            path=Region._get_path(parent.path, parent.depth + 1, start + i),
            depth=parent.depth + 1,
            numchild=0,
            **data,
        )
        for i, data in enumerate(sorted(rows, key=lambda d: d["code"]))
    ]
    Region.objects.bulk_create(objs, batch_size=1000)
    Region.objects.filter(pk=parent.pk).update(numchild=F("numchild") + len(objs))
    return objs


# --------------------------------------------------------------------------------------------
# The planners: one per sheet
# --------------------------------------------------------------------------------------------


class Planner:
    kind: str

    def __init__(self, *, by: User, records: list[tuple[int, dict[str, Any]]], now: dt.datetime) -> None:
        self.by, self.records, self.now = by, records, now
        self.scope = Scope(by)
        self.plan = Plan(kind=self.kind, total=len(records))

    def error(self, line: int, key: str, errors: dict[str, str]) -> None:
        self.plan.errors.append(RowError(line, key, errors))

    def check(self) -> Plan:
        raise NotImplementedError

    def apply(self, password_hash: str) -> dict[str, int]:
        raise NotImplementedError


def _place_kind(label: str) -> tuple[str, bool]:
    label = label.strip()
    if label in sheets.PLACE_KINDS:
        return sheets.PLACE_KINDS[label]
    raise Invalid(f"应为{'、'.join(sheets.PLACE_KINDS)}之一")


class CentersPlanner(Planner):
    kind = SheetKind.CENTERS

    def check(self) -> Plan:
        recs = self.records
        places = Places(
            [text(r.get("code")) for _, r in recs] + [text(r.get("parent_code")) for _, r in recs]
        )
        self.places = places
        in_file: dict[str, tuple[int, str]] = {}  # code → (line, region kind) of new places in this sheet
        for line, rec in recs:
            code, name = text(rec.get("code")), text(rec.get("name"))[:100]
            parent_code = text(rec.get("parent_code"))
            errors: dict[str, str] = {}
            for f in ("code", "name", "kind", "parent_code"):
                if not text(rec.get(f)):
                    errors[f] = "不能为空"
            if code and not re.fullmatch(r"\d{6,15}", code):
                errors["code"] = "应为 6 到 15 位数字"
            kind = urban = None
            if "kind" not in errors:
                try:
                    kind, urban = _place_kind(text(rec.get("kind")))
                except Invalid as exc:
                    errors["kind"] = str(exc)
            if code in in_file:
                errors["code"] = f"与第 {in_file[code][0]} 行重复"
            parent = places.get(parent_code)
            parent_kind = parent.kind if parent is not None else (in_file.get(parent_code, (0, None))[1])
            if parent_code and "parent_code" not in errors:
                if parent is None and parent_code not in in_file:
                    errors["parent_code"] = f"找不到上级区划 {parent_code}（可在本表上方先列出上级）"
                elif parent is not None and not self.scope.covers(parent):
                    errors["parent_code"] = f"上级区划 {parent_code} 不在您的管理范围内"
                elif kind and parent_kind != {"town": RegionKind.COUNTY, "village": RegionKind.TOWN}[kind]:
                    errors["parent_code"] = "乡镇（街道）的上级应为县，村（社区）的上级应为乡镇（街道）"
            existing = places.get(code)
            if existing is not None and not errors:
                if existing.kind != kind:
                    errors["kind"] = f"区划 {code} 已存在，层级为{existing.get_kind_display()}"
                elif (
                    parent is None
                    or not existing.path.startswith(parent.path)
                    or existing.depth != parent.depth + 1
                ):
                    errors["parent_code"] = f"区划 {code} 已存在于其他上级之下，不能通过导入改变隶属"
                elif not self.scope.covers(existing):
                    errors["code"] = "不在您的管理范围内"
            if errors:
                self.error(line, code or name, errors)
                continue
            values = {
                "name": name,
                "center_name": text(rec.get("center_name"))[:100],
                "phone": text(rec.get("phone"))[:30],
                "address": text(rec.get("address"))[:200],
            }
            if existing is None:
                in_file[code] = (line, kind)
                self.plan.add(
                    line,
                    NEW,
                    f"新增{'乡镇（街道）' if kind == 'town' else '村（社区）'}「{name}」（{code}）及其综治中心",
                    code=code,
                    parent_code=parent_code,
                    kind=kind,
                    urban=urban,
                    **values,
                )
                continue
            center = places.centers.get(existing.pk)
            diffs = []
            if existing.name != name:
                diffs.append(f"名称 {existing.name}→{name}")
            if center is None:
                diffs.append("设立综治中心")
            else:
                want_name = values["center_name"] or center.name
                for label, old, new in (
                    ("中心名称", center.name, want_name),
                    ("值班电话", center.phone, values["phone"] or center.phone),
                    ("地址", center.address, values["address"] or center.address),
                ):
                    if old != new:
                        diffs.append(f"{label} {old or '（空）'}→{new}")
            action = CHANGED if diffs else UNCHANGED
            self.plan.add(
                line, action, f"{name}（{code}）：{'；'.join(diffs) or '无变化'}", code=code, **values
            )
        return self.plan

    def apply(self, password_hash: str) -> dict[str, int]:
        rows = [r for r in self.plan.rows if r["action"] != UNCHANGED]
        new_rows = [r for r in rows if r["action"] == NEW]
        created_regions = 0
        by_code = dict(self.places.by_code)
        # Parents first: towns, then their villages.
        for level in ("town", "village"):
            per_parent: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for r in new_rows:
                if r["kind"] == level:
                    per_parent[r["parent_code"]].append(r)
            for parent_code, children in per_parent.items():
                parent = by_code[parent_code]
                made = _append_regions(
                    parent,
                    [
                        {"code": r["code"], "name": r["name"], "kind": r["kind"], "is_urban": r["urban"]}
                        for r in children
                    ],
                )
                _history(Region, made, created=True)
                for region in made:
                    by_code[region.code] = region
                created_regions += len(made)
        regions = [by_code[r["code"]] for r in rows]
        centers = {c.region_id: c for c in Center.objects.filter(region__in=regions)}
        new_centers, changed_centers, renamed = [], [], []
        for r in rows:
            region = by_code[r["code"]]
            if region.name != r["name"]:
                region.name = r["name"]
                renamed.append(region)
            center = centers.get(region.pk)
            if center is None:
                new_centers.append(
                    Center(
                        region=region,
                        name=r["center_name"] or center_name_for(region),
                        phone=r["phone"],
                        address=r["address"],
                    )
                )
            else:
                center.name = r["center_name"] or center.name
                center.phone = r["phone"] or center.phone
                center.address = r["address"] or center.address
                changed_centers.append(center)
        if renamed:
            Region.objects.bulk_update(renamed, ["name"])
            _history(Region, renamed, changed=True)
        made = Center.objects.bulk_create(new_centers)
        _history(Center, made, created=True)
        if changed_centers:
            Center.objects.bulk_update(changed_centers, ["name", "phone", "address"])
            _history(Center, changed_centers, changed=True)
        return {
            "regions_created": created_regions,
            "centers_created": len(made),
            "centers_updated": len(changed_centers) + len(renamed),
        }


class UnitsPlanner(Planner):
    kind = SheetKind.UNITS

    def check(self) -> Plan:
        places = Places(text(r.get("region_code")) for _, r in self.records)
        self.places = places
        region_ids = [r.pk for r in places.by_code.values()]
        existing = {(u.region_id, u.name): u for u in Unit.objects.filter(region_id__in=region_ids)}
        seen: dict[tuple[str, str], int] = {}
        for line, rec in self.records:
            name, code = text(rec.get("name"))[:100], text(rec.get("region_code"))
            errors: dict[str, str] = {}
            for f in ("name", "kind", "region_code"):
                if not text(rec.get(f)):
                    errors[f] = "不能为空"
            kind = sheets.UNIT_KIND_BY_LABEL.get(text(rec.get("kind")))
            if text(rec.get("kind")) and kind is None:
                errors["kind"] = "请从下拉列表中选择部门类别"
            region = places.get(code)
            if code and region is None:
                errors["region_code"] = f"找不到区划 {code}"
            elif region is not None:
                if region.kind == RegionKind.GRID:
                    errors["region_code"] = "部门不能设在网格"
                elif not self.scope.covers(region):
                    errors["region_code"] = "不在您的管理范围内"
            if (code, name) in seen:
                errors["name"] = f"与第 {seen[(code, name)]} 行重复"
            if errors:
                self.error(line, name, errors)
                continue
            seen[(code, name)] = line
            phone = text(rec.get("phone"))[:30]
            unit = existing.get((region.pk, name))
            if unit is None:
                self.plan.add(
                    line,
                    NEW,
                    f"新增 {region.name}「{name}」",
                    region_id=region.pk,
                    name=name,
                    unit_kind=kind,
                    phone=phone,
                )
                continue
            diffs = []
            if unit.kind != kind:
                diffs.append(f"类别 {unit.get_kind_display()}→{DepartmentKind(kind).label}")
            if phone and unit.phone != phone:
                diffs.append(f"电话 {unit.phone or '（空）'}→{phone}")
            if not unit.is_active:
                diffs.append("重新启用")
            self.plan.add(
                line,
                CHANGED if diffs else UNCHANGED,
                f"{region.name}「{name}」：{'；'.join(diffs) or '无变化'}",
                unit_id=unit.pk,
                unit_kind=kind,
                phone=phone,
            )
        return self.plan

    def apply(self, password_hash: str) -> dict[str, int]:
        new = [
            Unit(region_id=r["region_id"], name=r["name"], kind=r["unit_kind"], phone=r["phone"])
            for r in self.plan.rows
            if r["action"] == NEW
        ]
        made = Unit.objects.bulk_create(new)
        _history(Unit, made, created=True)
        changed = []
        units = Unit.objects.in_bulk([r["unit_id"] for r in self.plan.rows if r["action"] == CHANGED])
        for r in self.plan.rows:
            if r["action"] == CHANGED:
                u = units[r["unit_id"]]
                u.kind, u.phone, u.is_active = r["unit_kind"], r["phone"] or u.phone, True
                changed.append(u)
        if changed:
            Unit.objects.bulk_update(changed, ["kind", "phone", "is_active"])
            _history(Unit, changed, changed=True)
        return {"units_created": len(made), "units_updated": len(changed)}


def _role(value: Any, errors: dict[str, str], *, required: bool = True) -> str:
    label = text(value)
    if not label:
        if required:
            errors["role"] = "不能为空"
        return ""
    role = sheets.ROLE_BY_LABEL.get(label)
    if role is None:
        errors["role"] = f"「{label[:20]}」不是可选的角色"
        return ""
    return role


class _PostTarget:
    """Resolves 'a center by region code' or 'a unit by name (and region code)' for a row."""

    def __init__(self, records, code_field: str, unit_field: str, unit_region_field: str) -> None:
        self.places = Places(
            [text(r.get(code_field)) for _, r in records]
            + [text(r.get(unit_region_field)) for _, r in records]
        )
        names = sorted({text(r.get(unit_field)) for _, r in records if text(r.get(unit_field))})
        self.units: dict[str, list[Unit]] = defaultdict(list)
        for chunk in _chunks(names):
            for u in Unit.objects.filter(name__in=list(chunk), is_active=True).select_related("region"):
                self.units[u.name].append(u)
        self.code_field, self.unit_field, self.unit_region_field = code_field, unit_field, unit_region_field

    def resolve(
        self, rec, errors: dict[str, str], scope: Scope
    ) -> tuple[Center | None, Unit | None, Region | None]:
        code, unit_name = text(rec.get(self.code_field)), text(rec.get(self.unit_field))
        if code and unit_name:
            errors[self.unit_field] = "中心与部门只能填写一项"
            return None, None, None
        if code:
            region = self.places.get(code)
            center = self.places.centers.get(region.pk) if region is not None else None
            if region is None:
                errors[self.code_field] = f"找不到区划 {code}"
            elif center is None:
                errors[self.code_field] = f"{region.name} 未设综治中心（网格员请用网格员表）"
            elif not scope.covers(region):
                errors[self.code_field] = "不在您的管理范围内"
            return center, None, region
        if unit_name:
            candidates = self.units.get(unit_name, [])
            rcode = text(rec.get(self.unit_region_field))
            if rcode:
                candidates = [u for u in candidates if u.region.code == rcode]
            if not candidates:
                errors[self.unit_field] = f"找不到部门「{unit_name}」"
            elif len(candidates) > 1:
                errors[self.unit_field] = "有多个同名部门，请填写部门所在区划代码"
            elif not scope.covers(candidates[0].region):
                errors[self.unit_field] = "不在您的管理范围内"
            else:
                return None, candidates[0], candidates[0].region
            return None, None, None
        errors[self.code_field] = "请填写所属中心区划代码或所属部门名称"
        return None, None, None


def _check_admin_role(
    role: str,
    region: Region | None,
    unit: Unit | None,
    scope: Scope,
    errors: dict[str, str],
    field_name: str = "role",
) -> None:
    if role in access.ADMIN_ROLES:
        if unit is not None:
            errors[field_name] = f"{Role(role).label}只能设在综治中心"
        elif region is not None and not scope.strictly_below(region):
            errors[field_name] = f"只能为下级中心设置{Role(role).label}"


class StaffPlanner(Planner):
    kind = SheetKind.STAFF

    def check(self) -> Plan:
        self.people = People(self.by, self.records)
        targets = _PostTarget(self.records, "center_code", "unit_name", "unit_region_code")
        self.posts = Posts([u for u in self.people.users])
        seen: dict[tuple[str, int | None, int | None, str], int] = {}
        for line, rec in self.records:
            errors: dict[str, str] = {}
            role = _role(rec.get("role"), errors)
            center, unit, region = targets.resolve(rec, errors, self.scope)
            if role:
                _check_admin_role(role, region, unit, self.scope, errors)
            person = self.people.resolve(line, rec, errors) if not errors else None
            if errors or person is None:
                self.error(line, text(rec.get("name")), errors or {"name": "无法识别"})
                continue
            key = (person.key, center.pk if center else None, unit.pk if unit else None, role)
            if key in seen:
                self.error(line, person.name, {"role": f"与第 {seen[key]} 行重复"})
                continue
            seen[key] = line
            title = text(rec.get("title"))[:50]
            where = center.name if center else unit.name
            post_state = self.posts.state(person, key[1], key[2], role, title)
            if person.user is None:
                action, what = NEW, f"新建账号 {person.username}，{where}·{Role(role).label}"
            elif post_state == NEW:
                action, what = NEW, f"新增岗位 {where}·{Role(role).label}"
            else:
                action = CHANGED if (post_state == CHANGED or person.changes) else UNCHANGED
                what = f"{where}·{Role(role).label}" + (f"（{_describe(person)}）" if person.changes else "")
            self.plan.add(
                line,
                action,
                f"{person.label}：{what}",
                person=person.key,
                center_id=key[1],
                unit_id=key[2],
                role=role,
                title=title,
            )
        return self.plan

    def apply(self, password_hash: str) -> dict[str, int]:
        rows = [r for r in self.plan.rows if r["action"] != UNCHANGED]
        people = {r["person"]: self.people.people[r["person"]] for r in rows}
        counts = _write_people(people.values(), password_hash)
        counts |= _write_posts(
            [
                (self.people.people[r["person"]], r["center_id"], r["unit_id"], r["role"], r["title"])
                for r in rows
            ],
            self.now,
        )
        return counts


def _describe(person: Person) -> str:
    parts = []
    if "full_name" in person.changes:
        parts.append(f"姓名 {person.user.full_name}→{person.changes['full_name']}")
    if "phone" in person.changes:
        parts.append(f"手机号 {mask_phone(person.user.phone)}→{mask_phone(person.changes['phone'])}")
    if "id_number" in person.changes:
        parts.append(f"补录身份证号 {mask_id_number(person.changes['id_number'])}")
    return "；".join(parts)


class GridWorkersPlanner(Planner):
    """网格员及网格: the worker, their grid (created under its village when new), the grid post
    and the 网格员 post at the village's station."""

    kind = SheetKind.GRID_WORKERS

    def check(self) -> Plan:
        from grids.models import GridTeamMember, TeamRole

        recs = self.records
        self.people = People(self.by, recs)
        places = Places(
            [text(r.get("grid_code")) for _, r in recs] + [text(r.get("village_code")) for _, r in recs]
        )
        self.places = places
        grid_ids = [r.pk for r in places.by_code.values() if r.kind == RegionKind.GRID]
        # Villages of the existing grids (their parents), for the station and the consistency check.
        parents = {}
        parent_paths = {
            r.path[: -Region.steplen] for r in places.by_code.values() if r.kind == RegionKind.GRID
        }
        for chunk in _chunks(sorted(parent_paths)):
            for v in Region.objects.filter(path__in=list(chunk)):
                parents[v.path] = v
        stations = {c.region_id: c for c in Center.objects.filter(region__in=list(parents.values()))}
        stations |= places.centers
        team: dict[tuple[int, int], GridTeamMember] = {}
        user_ids = list(self.people.users)
        for chunk in _chunks(grid_ids):
            for m in GridTeamMember.objects.filter(
                grid_id__in=list(chunk), role=TeamRole.GRID_WORKER, is_active=True, user_id__in=user_ids
            ):
                team[(m.grid_id, m.user_id)] = m
        self.posts = Posts(user_ids)
        grids_in_file: dict[str, dict[str, Any]] = {}
        seen: dict[tuple[str, str], int] = {}
        for line, rec in recs:
            errors: dict[str, str] = {}
            code = text(rec.get("grid_code"))
            grid_name = text(rec.get("grid_name"))[:100]
            village_code = text(rec.get("village_code"))
            post = text(rec.get("post")) or sheets.GRID_POSTS[0]
            if post not in sheets.GRID_POSTS:
                errors["post"] = f"应为{'或'.join(sheets.GRID_POSTS)}"
            households = population = None
            try:
                households = _int(rec.get("households"), "实有户数")
            except Invalid as exc:
                errors["households"] = str(exc)
            try:
                population = _int(rec.get("population"), "实有人口")
            except Invalid as exc:
                errors["population"] = str(exc)
            if not code:
                errors["grid_code"] = "不能为空"
            elif not re.fullmatch(r"\d{6,20}", code):
                errors["grid_code"] = "应为数字编码"
            grid = places.get(code) if code else None
            village = None
            if code and "grid_code" not in errors:
                if grid is not None:
                    village = parents.get(grid.path[: -Region.steplen])
                    if grid.kind != RegionKind.GRID:
                        errors["grid_code"] = f"{code} 是{grid.get_kind_display()}「{grid.name}」，不是网格"
                    elif not self.scope.covers(grid):
                        errors["grid_code"] = "不在您的管理范围内"
                    elif village_code and village is not None and village.code != village_code:
                        errors["village_code"] = (
                            f"网格 {code} 属于「{village.name}」（{village.code}），与所填不符"
                        )
                else:
                    village = places.get(village_code) if village_code else None
                    if not village_code:
                        errors["village_code"] = "新网格须填写所属村（社区）区划代码"
                    elif village is None:
                        errors["village_code"] = f"找不到村（社区）{village_code}"
                    elif village.kind != RegionKind.VILLAGE:
                        errors["village_code"] = f"{village_code} 不是村（社区）"
                    elif not self.scope.covers(village):
                        errors["village_code"] = "不在您的管理范围内"
                    if not grid_name:
                        errors["grid_name"] = "新网格须填写网格名称"
            station = stations.get(village.pk) if village is not None else None
            if village is not None and station is None and "village_code" not in errors:
                errors["village_code"] = f"「{village.name}」尚未设立综治工作站，请先导入综治中心表"
            # One grid, one description: a second row of the same grid must agree with the first.
            first = grids_in_file.get(code)
            if first is not None and not errors:
                for f, value in (
                    ("grid_name", grid_name),
                    ("households", households),
                    ("population", population),
                ):
                    if value not in (None, "") and first[f] not in (None, "") and first[f] != value:
                        errors[f] = f"与第 {first['line']} 行同一网格的填写不一致"
            person = self.people.resolve(line, rec, errors) if not errors else None
            if errors or person is None:
                self.error(line, text(rec.get("name")) or code, errors or {"name": "无法识别"})
                continue
            if (code, person.key) in seen:
                self.error(line, person.name, {"grid_code": f"与第 {seen[(code, person.key)]} 行重复"})
                continue
            seen[(code, person.key)] = line
            if first is None:
                first = grids_in_file[code] = {
                    "line": line,
                    "grid_name": grid_name,
                    "households": households,
                    "population": population,
                    "village_id": village.pk,
                    "new": grid is None,
                }
            else:
                for f, value in (
                    ("grid_name", grid_name),
                    ("households", households),
                    ("population", population),
                ):
                    if first[f] in (None, ""):
                        first[f] = value
            title = post
            grid_diffs = []
            if grid is not None:
                if grid_name and grid.name != grid_name:
                    grid_diffs.append(f"网格名称 {grid.name}→{grid_name}")
                if households is not None and grid.households != households:
                    grid_diffs.append(f"户数 {grid.households}→{households}")
                if population is not None and grid.population != population:
                    grid_diffs.append(f"人口 {grid.population}→{population}")
            member = (
                team.get((grid.pk, person.user.pk)) if grid is not None and person.user is not None else None
            )
            post_title = f"{grid_name or (grid.name if grid else '')}{post}"
            post_state = self.posts.state(person, station.pk, None, Role.GRID_WORKER, "")
            if person.user is None or grid is None or member is None:
                action = NEW
                what = (
                    ("新建账号 " + person.username + "，" if person.user is None else "")
                    + (f"新建网格「{grid_name}」（{code}）并" if grid is None else "")
                    + f"任「{grid_name or grid.name}」{post}"
                )
            else:
                member_diff = (
                    member.title != post
                    or member.name != person.name
                    or (person.phone and member.phone != person.phone)
                )
                changed = bool(grid_diffs or person.changes or member_diff or post_state != UNCHANGED)
                action = CHANGED if changed else UNCHANGED
                what = f"{grid.name}{post}" + (
                    f"（{'；'.join(filter(None, [*grid_diffs, _describe(person)]))}）"
                    if grid_diffs or person.changes
                    else ""
                )
            self.plan.add(
                line,
                action,
                f"{person.label}：{what}",
                person=person.key,
                grid_code=code,
                station_id=station.pk,
                title=title,
                post_title=post_title,
            )
        self.grids_in_file = grids_in_file
        return self.plan

    def apply(self, password_hash: str) -> dict[str, int]:
        from grids.models import GridTeamMember, TeamRole

        rows = [r for r in self.plan.rows if r["action"] != UNCHANGED]
        touched_codes = {r["grid_code"] for r in rows}
        counts = _write_people(
            {r["person"]: self.people.people[r["person"]] for r in rows}.values(), password_hash
        )
        # Grids: create the new ones per village, update names and counts of the others.
        by_code = {c: g for c, g in self.places.by_code.items() if g.kind == RegionKind.GRID}
        per_village: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for code, g in self.grids_in_file.items():
            if g["new"] and code in touched_codes:
                per_village[g["village_id"]].append(
                    {
                        "code": code,
                        "name": g["grid_name"],
                        "kind": RegionKind.GRID,
                        "households": g["households"] or 0,
                        "population": g["population"] or 0,
                    }
                )
        villages = Region.objects.in_bulk(list(per_village))
        created = []
        for village_id, children in per_village.items():
            created += _append_regions(villages[village_id], children)
        _history(Region, created, created=True)
        for g in created:
            by_code[g.code] = g
        deltas: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for g in created:
            for end in range(Region.steplen, len(g.path), Region.steplen):
                deltas[g.path[:end]][0] += g.households
                deltas[g.path[:end]][1] += g.population
        changed_grids = []
        for code in touched_codes:
            g, spec = by_code[code], self.grids_in_file[code]
            if spec["new"]:
                continue
            households = spec["households"] if spec["households"] is not None else g.households
            population = spec["population"] if spec["population"] is not None else g.population
            name = spec["grid_name"] or g.name
            if (g.name, g.households, g.population) != (name, households, population):
                for end in range(Region.steplen, len(g.path), Region.steplen):
                    deltas[g.path[:end]][0] += households - g.households
                    deltas[g.path[:end]][1] += population - g.population
                g.name, g.households, g.population = name, households, population
                changed_grids.append(g)
        if changed_grids:
            Region.objects.bulk_update(changed_grids, ["name", "households", "population"], batch_size=1000)
            _history(Region, changed_grids, changed=True)
        # Villages, towns and the county hold the sums of their cells (as grids.services keeps them).
        for path, (dh, dp) in deltas.items():
            if dh or dp:
                Region.objects.filter(path=path).update(
                    households=F("households") + dh, population=F("population") + dp
                )
        # Grid posts (GridTeamMember) and the 网格员 post at the village station.
        people = self.people.people
        grid_ids = [by_code[c].pk for c in touched_codes]
        user_ids = [people[r["person"]].user.pk for r in rows]
        existing = {}
        for chunk in _chunks(grid_ids):
            for m in GridTeamMember.objects.filter(
                grid_id__in=list(chunk), role=TeamRole.GRID_WORKER, is_active=True, user_id__in=user_ids
            ):
                existing[(m.grid_id, m.user_id)] = m
        new_members, changed_members = [], []
        for r in rows:
            person, grid = people[r["person"]], by_code[r["grid_code"]]
            m = existing.get((grid.pk, person.user.pk))
            if m is None:
                m = GridTeamMember(
                    grid=grid,
                    grid_path=grid.path,
                    role=TeamRole.GRID_WORKER,
                    user=person.user,
                    name=person.name,
                    phone=person.phone,
                    title=r["title"],
                    since=timezone.localdate(self.now),
                )
                existing[(grid.pk, person.user.pk)] = m
                new_members.append(m)
            elif (m.title, m.name, m.phone) != (r["title"], person.name, person.phone or m.phone):
                m.title, m.name, m.phone = r["title"], person.name, person.phone or m.phone
                changed_members.append(m)
        made = GridTeamMember.objects.bulk_create(new_members, batch_size=1000)
        _history(GridTeamMember, made, created=True)
        if changed_members:
            GridTeamMember.objects.bulk_update(changed_members, ["title", "name", "phone"], batch_size=1000)
            _history(GridTeamMember, changed_members, changed=True)
        counts |= _write_posts(
            [(people[r["person"]], r["station_id"], None, Role.GRID_WORKER, r["post_title"]) for r in rows],
            self.now,
        )
        counts |= {
            "grids_created": len(created),
            "grids_updated": len(changed_grids),
            "grid_posts_created": len(made),
            "grid_posts_updated": len(changed_members),
        }
        return counts


class MovesPlanner(Planner):
    """人员调动: end the posts being left (kept as history) and take up the new one."""

    kind = SheetKind.MOVES

    def check(self) -> Plan:
        from grids.models import GridTeamMember, TeamRole

        recs = self.records
        self.people = People(self.by, recs)
        targets = _PostTarget(recs, "to_center_code", "to_unit_name", "to_unit_region_code")
        user_ids = list(self.people.users)
        active_posts: dict[int, list[Membership]] = defaultdict(list)
        for m in Membership.objects.filter(user_id__in=user_ids, is_active=True).select_related(
            "center__region", "unit__region"
        ):
            active_posts[m.user_id].append(m)
        grid_posts: dict[int, list[GridTeamMember]] = defaultdict(list)
        for m in GridTeamMember.objects.filter(
            user_id__in=user_ids, is_active=True, role=TeamRole.GRID_WORKER
        ).select_related("grid"):
            grid_posts[m.user_id].append(m)
        grids = Places(text(r.get("to_grid_code")) for _, r in recs)
        # The station (village center) of every grid involved: the new grids and those being left.
        all_grids = [g for g in grids.by_code.values() if g.kind == RegionKind.GRID]
        all_grids += [m.grid for posts in grid_posts.values() for m in posts]
        station_of: dict[int, Center] = {}
        by_path = {
            c.region.path: c
            for c in Center.objects.filter(
                region__path__in=list({g.path[: -Region.steplen] for g in all_grids})
            ).select_related("region")
        }
        for g in all_grids:
            if g.path[: -Region.steplen] in by_path:
                station_of[g.pk] = by_path[g.path[: -Region.steplen]]
        open_work = _open_work_counts(user_ids)
        moved: set[str] = set()
        for line, rec in recs:
            errors: dict[str, str] = {}
            reason = text(rec.get("reason"))[:200]
            if not reason:
                errors["reason"] = "不能为空"
            to_grid_code = text(rec.get("to_grid_code"))
            to_center_code, to_unit = text(rec.get("to_center_code")), text(rec.get("to_unit_name"))
            if sum(bool(v) for v in (to_grid_code, to_center_code, to_unit)) != 1:
                errors["to_grid_code"] = "调入网格、调入中心、调入部门须且只能填写一项"
            role = _role(rec.get("role"), errors, required=False)
            person = self.people.resolve(line, rec, errors, phone_required=False) if not errors else None
            if person is not None and person.user is None:
                errors["name"] = "找不到该人员；新人员请用工作人员表或网格员表导入"
            elif person is not None and "full_name" in person.changes:
                errors["name"] = f"姓名与账号登记的「{person.user.full_name}」不一致"
            if not errors and person.key in moved:
                errors["name"] = "同一人在本表中只能调动一次"
            if errors or person is None:
                self.error(line, text(rec.get("name")), errors or {"name": "无法识别"})
                continue
            user = person.user
            from_code = text(rec.get("from_code"))
            new_grid = center = unit = region = None
            if to_grid_code:
                role = Role.GRID_WORKER
                new_grid = grids.get(to_grid_code)
                if new_grid is None or new_grid.kind != RegionKind.GRID:
                    errors["to_grid_code"] = f"找不到网格 {to_grid_code}"
                elif not self.scope.covers(new_grid):
                    errors["to_grid_code"] = "不在您的管理范围内"
                elif new_grid.pk not in station_of:
                    errors["to_grid_code"] = "该网格所在村（社区）未设综治工作站"
                else:
                    center = station_of[new_grid.pk]
            else:
                center, unit, region = targets.resolve(rec, errors, self.scope)
                if not role and not errors:
                    current = {m.role for m in active_posts[user.pk]}
                    if len(current) == 1:
                        role = current.pop()
                    else:
                        errors["role"] = "原岗位不止一个角色（或没有在岗岗位），请填写调入后的角色"
                if role:
                    _check_admin_role(role, region, unit, self.scope, errors)
            if errors:
                self.error(line, person.name, errors)
                continue
            # What is being left: the grids (for a grid worker) and the posts of the same role.
            leaving_grids = [g for g in grid_posts[user.pk] if role == Role.GRID_WORKER]
            leaving = [m for m in active_posts[user.pk] if m.role == role]
            if from_code:
                leaving_grids = [g for g in leaving_grids if g.grid.code == from_code]
                if leaving_grids:
                    stations = {station_of[g.grid_id].pk for g in leaving_grids if g.grid_id in station_of}
                    leaving = [m for m in leaving if m.center_id in stations]
                else:
                    leaving = [
                        m
                        for m in leaving
                        if (m.center_id and m.center.region.code == from_code)
                        or (m.unit_id and m.unit.region.code == from_code)
                    ]
                if not leaving and not leaving_grids:
                    self.error(
                        line, person.name, {"from_code": f"该人员在 {from_code} 没有{Role(role).label}岗位"}
                    )
                    continue
            if new_grid is not None:
                leaving_grids = [g for g in leaving_grids if g.grid_id != new_grid.pk]
                already = any(g.grid_id == new_grid.pk for g in grid_posts[user.pk])
                # Station posts still needed by the grids the worker keeps serving.
                kept = [g for g in grid_posts[user.pk] if g not in leaving_grids]
                needed = {station_of[g.grid_id].pk for g in kept if g.grid_id in station_of} | {center.pk}
                leaving = [m for m in leaving if m.center_id not in needed]
                if already and not leaving_grids and not leaving:
                    self.plan.add(
                        line, UNCHANGED, f"{person.label}：已在「{new_grid.name}」任网格员", person=person.key
                    )
                    moved.add(person.key)
                    continue
            else:
                here = (center.pk if center else None, unit.pk if unit else None)
                if any((m.center_id, m.unit_id) == here for m in leaving):
                    self.plan.add(
                        line,
                        UNCHANGED,
                        f"{person.label}：已在 {(center or unit).name} 任{Role(role).label}",
                        person=person.key,
                    )
                    moved.add(person.key)
                    continue
            moved.add(person.key)
            to_text = (
                f"{new_grid.name}（{new_grid.code}）网格员"
                if new_grid is not None
                else f"{(center or unit).name}·{Role(role).label}"
            )
            from_text = (
                "、".join(
                    [f"{g.grid.name}（{g.grid.code}）网格员" for g in leaving_grids]
                    + [
                        f"{m.center.name if m.center_id else m.unit.name}·{m.get_role_display()}"
                        for m in leaving
                    ]
                )
                or "（无原岗位）"
            )
            warn = ""
            if open_work.get(user.pk):
                warn = f"；有 {open_work[user.pk]} 件在办事项，调动后请办理工作移交"
                self.plan.warnings.append(f"第 {line} 行 {person.name}{warn}")
            title = text(rec.get("title"))[:50]
            if new_grid is not None:
                title = title or f"{new_grid.name}{sheets.GRID_POSTS[0]}"
            self.plan.add(
                line,
                CHANGED,
                f"{person.label}：{from_text} → {to_text}{warn}",
                person=person.key,
                end_posts=[m.pk for m in leaving],
                end_grid_posts=[g.pk for g in leaving_grids],
                center_id=center.pk if center else None,
                unit_id=unit.pk if unit else None,
                role=role,
                title=title,
                grid_id=new_grid.pk if new_grid else None,
                reason=reason,
            )
        return self.plan

    def apply(self, password_hash: str) -> dict[str, int]:
        from grids.models import GridTeamMember, TeamRole

        from .services import end_posts, log

        rows = [r for r in self.plan.rows if r["action"] == CHANGED]
        people = self.people.people
        logs = 0
        for r in rows:
            person = people[r["person"]]
            user = person.user
            reason = f"人员调动：{r['reason']}"[:100]
            for member in GridTeamMember.objects.filter(pk__in=r["end_grid_posts"], is_active=True):
                member.is_active = False
                member._change_reason = reason
                member.save(update_fields=["is_active"])
            end_posts(user=user, reason=reason, memberships=Membership.objects.filter(pk__in=r["end_posts"]))
            if r["grid_id"]:
                grid = Region.objects.get(pk=r["grid_id"])
                if not GridTeamMember.objects.filter(
                    grid=grid, user=user, role=TeamRole.GRID_WORKER, is_active=True
                ).exists():
                    member = GridTeamMember(
                        grid=grid,
                        grid_path=grid.path,
                        role=TeamRole.GRID_WORKER,
                        user=user,
                        name=user.display_name,
                        phone=user.phone,
                        title=sheets.GRID_POSTS[0],
                        since=timezone.localdate(self.now),
                    )
                    member._change_reason = reason
                    member.save()
            from centers.services import membership_create

            membership_create(
                user=user,
                role=r["role"],
                center=Center.objects.get(pk=r["center_id"]) if r["center_id"] else None,
                unit=Unit.objects.get(pk=r["unit_id"]) if r["unit_id"] else None,
                title=r["title"],
            )
            forget_scope(user)
            log(
                by=self.by,
                action=AdminAction.MOVE,
                target_user=user,
                reason=r["reason"],
                subject=user.username,
                summary=r["text"],
                now=self.now,
                data={"ended": r["end_posts"], "ended_grid_posts": r["end_grid_posts"]},
            )
            logs += 1
        return {"moved": logs}


def _open_work_counts(user_ids: Sequence[int]) -> dict[int, int]:
    from django.db.models import Count

    from cases.models import OPEN_STATES, Case, CaseAssignment

    out: dict[int, int] = defaultdict(int)
    for uid, n in (
        CaseAssignment.objects.filter(
            user_id__in=list(user_ids), is_active=True, case__status__in=OPEN_STATES
        )
        .values("user_id")
        .annotate(n=Count("id"))
        .values_list("user_id", "n")
    ):
        out[uid] += n
    for uid, n in (
        Case.objects.filter(registered_by_id__in=list(user_ids), status__in=OPEN_STATES)
        .values("registered_by_id")
        .annotate(n=Count("id"))
        .values_list("registered_by_id", "n")
    ):
        out[uid] += n
    return out


PLANNERS: dict[str, type[Planner]] = {
    SheetKind.CENTERS: CentersPlanner,
    SheetKind.UNITS: UnitsPlanner,
    SheetKind.STAFF: StaffPlanner,
    SheetKind.GRID_WORKERS: GridWorkersPlanner,
    SheetKind.MOVES: MovesPlanner,
}
NEEDS_PASSWORD = (SheetKind.STAFF, SheetKind.GRID_WORKERS)


def plan_for(*, by: User, kind: str, name: str, stream: Any, now: dt.datetime) -> Planner:
    try:
        records = sheets.records_from_file(kind, name, stream)
    except Invalid as exc:
        raise DomainError(str(exc)) from exc
    planner = PLANNERS[kind](by=by, records=records, now=now)
    planner.check()
    return planner


# --------------------------------------------------------------------------------------------
# Services: preview, then import
# --------------------------------------------------------------------------------------------


def importer_center(by: User) -> Center:
    centers = access.admin_centers(by)
    if not centers:
        raise DomainError("只有中心领导或系统管理员可以导入人员和机构。")
    return centers[0]


def staff_import_preview(
    *,
    by: User,
    kind: str,
    file: Any,
    initial_password: str = "",
    reason: str = "",
    now: dt.datetime | None = None,
) -> StaffImport:
    """Read and check an uploaded sheet; the batch keeps the file, the errors and a preview."""
    if kind not in SheetKind.values:
        raise DomainError("请选择表格类型。")
    center = importer_center(by)
    now = now or timezone.now()
    password_hash = ""
    if kind in NEEDS_PASSWORD:
        if not initial_password:
            raise DomainError("请设置新账号的初始密码（新账号首次登录须修改）。")
        try:
            validate_password(initial_password)
        except ValidationError as exc:
            raise DomainError("初始密码：" + "；".join(exc.messages)) from exc
        password_hash = make_password(initial_password)  # once per sheet, not per account
    name = getattr(file, "name", "upload.xlsx").rsplit("/", 1)[-1][:200]
    file.seek(0)
    planner = plan_for(by=by, kind=kind, name=name, stream=file, now=now)
    plan = planner.plan
    file.seek(0)
    with transaction.atomic():
        batch = StaffImport(
            kind=kind,
            file_name=name,
            center=center,
            uploaded_by=by,
            created_at=now,
            password_hash=password_hash,
            reason=reason[:200],
            total_rows=plan.total,
            good_rows=len(plan.rows),
            bad_rows=len(plan.errors),
            new_rows=plan.counts[NEW],
            changed_rows=plan.counts[CHANGED],
            unchanged_rows=plan.counts[UNCHANGED],
            errors=[e.as_dict(kind) for e in plan.errors[:ERRORS_KEPT]],
            preview=plan.preview(),
            message="；".join(plan.warnings[:50]),
        )
        batch.file.save(name, file, save=False)
        batch.save()
    return batch


def staff_import_run(*, batch: StaffImport, by: User, now: dt.datetime | None = None) -> StaffImport:
    """Import the good rows of a previewed sheet, checked again against the data as it is now.

    One transaction: every good row or none. Safe to run again: what exists is not written twice.
    """
    claimed = StaffImport.objects.filter(
        pk=batch.pk, status__in=[ImportStatus.PREVIEWED, ImportStatus.FAILED]
    ).update(status=ImportStatus.RUNNING)
    if not claimed:
        raise DomainError("该文件正在导入或已导入。")
    batch.refresh_from_db()
    now = now or timezone.now()
    try:
        with transaction.atomic():
            with batch.file.open("rb") as f:
                planner = plan_for(by=by, kind=batch.kind, name=batch.file_name, stream=f, now=now)
            plan = planner.plan
            counts = planner.apply(batch.password_hash) if plan.counts[NEW] or plan.counts[CHANGED] else {}
            from .services import log

            summary = (
                f"导入{SheetKind(batch.kind).label}：新增 {plan.counts[NEW]} 行，变更 {plan.counts[CHANGED]} 行，"
                f"无变化 {plan.counts[UNCHANGED]} 行，错误 {len(plan.errors)} 行"
            )
            log(
                by=by,
                action=AdminAction.IMPORT,
                center=batch.center,
                subject=batch.file_name,
                summary=summary,
                reason=batch.reason,
                now=now,
                data={"batch": batch.pk, **counts},
            )
            StaffImport.objects.filter(pk=batch.pk).update(
                status=ImportStatus.DONE,
                finished_at=timezone.now(),
                password_hash="",
                total_rows=plan.total,
                good_rows=len(plan.rows),
                bad_rows=len(plan.errors),
                new_rows=plan.counts[NEW],
                changed_rows=plan.counts[CHANGED],
                unchanged_rows=plan.counts[UNCHANGED],
                errors=[e.as_dict(batch.kind) for e in plan.errors[:ERRORS_KEPT]],
                result=counts,
                message=summary,
            )
    except Exception as exc:
        StaffImport.objects.filter(pk=batch.pk).update(
            status=ImportStatus.FAILED,
            message=f"导入中断，未写入任何数据：{exc}"[:1000],
            finished_at=timezone.now(),
        )
        raise
    batch.refresh_from_db()
    return batch
