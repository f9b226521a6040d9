"""Reads on petitions. Every list takes the user and goes through the jurisdiction gate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from cases.models import Case, Category, Channel, Person
from centers.jurisdiction import get_for_user_or_404, restrict

from .models import FlagKind, FusionMatch, ImportBatch, MatchStatus, Petition, PetitionPolicy

PETITION_RELATED = (
    "case",
    "case__owning_center__region",
    "case__owning_unit",
    "case__region",
    "case__registered_by",
    "petitioner",
    "handling_unit",
)


def petition_get_for_user(user: Any, pk: int) -> Petition:
    """The petition, or 404 for "not there" and "not yours" alike."""
    return get_for_user_or_404(Petition.objects.select_related(*PETITION_RELATED), user, pk=pk)


def petition_list_for_user(user: Any, *, filters: dict[str, Any] | None = None) -> QuerySet[Petition]:
    qs = restrict(Petition.objects.select_related(*PETITION_RELATED), user)
    f = filters or {}
    if f.get("status"):
        qs = qs.filter(case__status=f["status"])
    if f.get("channel"):
        qs = qs.filter(channel=f["channel"])
    if f.get("warning"):
        qs = qs.filter(case__warning_level=f["warning"])
    if f.get("flag"):
        qs = qs.filter(flags__kind=f["flag"])
    if f.get("key"):
        qs = qs.filter(is_key=True)
    if f.get("q"):
        q = f["q"].strip()
        qs = qs.filter(
            Q(case__tracking_no__icontains=q) | Q(case__title__icontains=q) | Q(petitioner__name=q)
        )
    return qs.prefetch_related("flags").order_by("-case__created_at", "-pk")


def fusion_suggestions_for_user(user: Any, *, status: str = MatchStatus.SUGGESTED) -> QuerySet[FusionMatch]:
    """Suggested pairs whose two records the user may both see."""
    visible = restrict(Case.objects.all(), user).values("pk")
    related = (
        "case__region",
        "case__owning_center",
        "other__region",
        "other__owning_center",
        "case__petition__petitioner",
        "other__petition__petitioner",
    )
    return (
        restrict(FusionMatch.objects.select_related(*related), user)
        .filter(status=status, other_id__in=visible)
        .order_by("-score", "-created_at", "pk")
    )


def fusion_match_get_for_user(user: Any, pk: int) -> FusionMatch:
    visible = restrict(Case.objects.all(), user).values("pk")
    return get_for_user_or_404(
        FusionMatch.objects.filter(other_id__in=visible).select_related("case", "other"), user, pk=pk
    )


def import_batches_for_user(user: Any) -> QuerySet[ImportBatch]:
    return restrict(ImportBatch.objects.select_related("center", "uploaded_by"), user)


def import_batch_get_for_user(user: Any, pk: int) -> ImportBatch:
    return get_for_user_or_404(ImportBatch.objects.select_related("center", "uploaded_by"), user, pk=pk)


# --------------------------------------------------------------------------------------------
# Repeat callers (重复来电/报警人员) and frequent complainants (职业索赔人)
# --------------------------------------------------------------------------------------------

LIST_CHANNELS = (
    Channel.HOTLINE_12345,
    Channel.POLICE_110,
    Channel.ONLINE,
    Channel.VISIT,
    Channel.LETTER,
    Channel.LEADER_MAILBOX,
)


@dataclass
class PersonCount:
    key: str
    name: str
    phone_masked: str
    total: int
    qualifying: int
    by_channel: dict[str, int]
    first: dt.datetime
    last: dt.datetime
    categories: int


def _channel_counts() -> dict[str, Count]:
    return {f"n_{c}": Count("pk", filter=Q(channel=c)) for c in LIST_CHANNELS}


def _people(rows: list[dict], key_field: str, qualifying: str) -> list[PersonCount]:
    keys = [r[key_field] for r in rows]
    names: dict[str, tuple[str, str]] = {}
    lookup = "phone_hash" if key_field == "phone_hash" else None
    people = (
        Person.objects.filter(Q(phone_hash__in=keys) | Q(id_number_hash__in=keys))
        .order_by("updated_at")
        .values_list("phone_hash", "id_number_hash", "name", "phone_masked")
    )
    for phone_hash, id_hash, name, masked in people:
        for k in (id_hash, phone_hash) if lookup is None else (phone_hash,):
            if k:
                names[k] = (name, masked)
    out = []
    for r in rows:
        name, masked = names.get(r[key_field], ("", ""))
        out.append(
            PersonCount(
                key=r[key_field],
                name=name,
                phone_masked=masked,
                total=r["total"],
                qualifying=r[qualifying],
                by_channel={c: r[f"n_{c}"] for c in LIST_CHANNELS},
                first=r["first"],
                last=r["last"],
                categories=r["categories"],
            )
        )
    return out


def repeat_callers(
    user: Any, *, since: dt.datetime | None = None, min_calls: int | None = None
) -> list[PersonCount]:
    """Callers (by phone) with at least `min_calls` 12345/110 calls since `since`, with counts by channel.

    One GROUP BY over the user's petitions; names and masked numbers are looked up once.
    """
    policy = PetitionPolicy.current()
    since = since or timezone.now() - dt.timedelta(days=policy.list_period_days)
    min_calls = min_calls or policy.repeat_caller_min
    rows = list(
        restrict(Petition.objects.all(), user)
        .filter(reported_at__gte=since)
        .exclude(phone_hash="")
        .values("phone_hash")
        .annotate(
            total=Count("pk"),
            calls=Count("pk", filter=Q(channel__in=[Channel.HOTLINE_12345, Channel.POLICE_110])),
            first=Min("reported_at"),
            last=Max("reported_at"),
            categories=Count("category", distinct=True),
            **_channel_counts(),
        )
        .filter(calls__gte=min_calls)
        .order_by("-calls", "-total", "phone_hash")
    )
    return _people(rows, "phone_hash", "calls")


def frequent_complainants(
    user: Any, *, since: dt.datetime | None = None, min_complaints: int | None = None
) -> list[PersonCount]:
    """Professional claimants (职业索赔人): at least `min_complaints` consumer complaints since `since`.

    Counted by person (ID number, else phone hash) across every channel.
    """
    policy = PetitionPolicy.current()
    since = since or timezone.now() - dt.timedelta(days=policy.list_period_days)
    min_complaints = min_complaints or policy.frequent_complainant_min
    rows = list(
        restrict(Petition.objects.all(), user)
        .filter(reported_at__gte=since)
        .exclude(person_key="")
        .values("person_key")
        .annotate(
            total=Count("pk"),
            complaints=Count("pk", filter=Q(category=Category.CONSUMER)),
            first=Min("reported_at"),
            last=Max("reported_at"),
            categories=Count("category", distinct=True),
            **_channel_counts(),
        )
        .filter(complaints__gte=min_complaints)
        .order_by("-complaints", "-total", "person_key")
    )
    return _people(rows, "person_key", "complaints")


def flag_counts(user: Any) -> dict[str, int]:
    rows = (
        restrict(Petition.objects.all(), user)
        .filter(flags__isnull=False)
        .values("flags__kind")
        .annotate(n=Count("pk", distinct=True))
    )
    counts = {r["flags__kind"]: r["n"] for r in rows}
    return {k: counts.get(k, 0) for k in FlagKind.values}
