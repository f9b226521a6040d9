"""Repeat callers (重复来电) and professional claimants (职业索赔人) against the planted truth of a
generated multi-channel data set (petitions.datagen), imported through the real import."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases import crypto
from centers.models import Region, RegionKind
from petitions import datagen, imports, selectors, services
from petitions.models import PetitionPolicy

from .places import add_villages

pytestmark = pytest.mark.django_db


def _places(county) -> list[datagen.Place]:
    towns = {t.path: t.name for t in Region.objects.filter(path__startswith=county.path, kind=RegionKind.TOWN)}
    return [
        datagen.Place(town=next(n for p, n in towns.items() if v.path.startswith(p)), village=v.name, code=v.code)
        for v in Region.objects.filter(path__startswith=county.path, kind=RegionKind.VILLAGE).order_by("path")
    ]


def _import(pw, ds, tmp_path) -> None:
    for source, rows in (("police_110", ds.police), ("online", ds.online), ("hotline_12345", ds.hotline)):
        path = tmp_path / f"{source}.csv"
        datagen.write_csv(rows, path, datagen.HOTLINE_HEADERS if source == "hotline_12345" else list(rows[0]))
        with path.open("rb") as f:
            records = imports.records_from_file(source, path.name, f)
        good, bad = imports.validate(source, records, regions=imports.RegionIndex(pw.county))
        assert {e.source_ref for e in bad} <= ds.bad_refs
        services.import_rows(by=pw.county_dispatcher, center=pw.county_center, source=source, rows=good)


def _rows_of(ds, key) -> dict[str, int]:
    """Good rows per channel for which key(channel, row) holds."""
    out: dict[str, int] = {}
    for channel, rows in (("hotline_12345", ds.hotline), ("police_110", ds.police), ("online", ds.online)):
        for row in rows:
            if datagen.ref_of(row) not in ds.bad_refs and key(channel, row):
                out[channel] = out.get(channel, 0) + 1
    return out


def _phone(row) -> str:
    return crypto.normalize_phone(row.get("来电号码") or row.get("报警电话") or row.get("联系电话") or "")


def test_repeat_caller_and_professional_claimant_lists_match_the_planted_truth(pw, tmp_path):
    add_villages(pw, per_town=6)
    ds = datagen.generate(
        _places(pw.county),
        hotline_rows=1500,
        repeat_callers=5,
        near_repeat_callers=4,
        claimants=4,
        near_claimants=4,
        seed=11,
        start=timezone.now() - dt.timedelta(days=120),
        days=100,
    )
    _import(pw, ds, tmp_path)
    policy = PetitionPolicy.current()
    want_callers, want_claimants = datagen.truth_lists(
        ds, repeat_caller_min=policy.repeat_caller_min, claimant_min=policy.frequent_complainant_min
    )
    # The planted people are there, and the ones just under each threshold are not.
    assert want_callers >= ds.repeat_caller_phones and len(ds.repeat_caller_phones) == 5
    assert want_claimants >= ds.claimant_keys and len(ds.claimant_keys) == 4

    callers = selectors.repeat_callers(pw.county_dispatcher)
    assert {c.key for c in callers} == {crypto.lookup_hash("phone", p) for p in want_callers}
    by_key = {c.key: c for c in callers}
    for phone in ds.repeat_caller_phones:
        listed = by_key[crypto.lookup_hash("phone", phone)]
        counts = _rows_of(ds, lambda ch, row, phone=phone: _phone(row) == phone)
        assert listed.qualifying == counts.get("hotline_12345", 0) + counts.get("police_110", 0)
        assert {ch: n for ch, n in listed.by_channel.items() if n} == counts
        assert listed.name and listed.phone_masked.startswith(phone[:3])

    claimants = selectors.frequent_complainants(pw.county_dispatcher)

    def claimant_hash(key: str) -> str:
        if len(key) == 18:
            return crypto.lookup_hash("id", crypto.normalize_id_number(key))
        return crypto.lookup_hash("phone", key)

    assert {c.key for c in claimants} == {claimant_hash(k) for k in want_claimants}
    by_key = {c.key: c for c in claimants}
    for key in ds.claimant_keys:
        listed = by_key[claimant_hash(key)]

        def mine(ch, row, key=key):
            return (row.get("证件号码") or row.get("身份证号") or _phone(row)) == key

        counts = _rows_of(ds, mine)
        assert listed.qualifying == sum(counts.values())  # every complaint of theirs is a consumer one
        assert {ch: n for ch, n in listed.by_channel.items() if n} == counts
        assert set(counts) <= {"hotline_12345", "online"} and len(counts) == 2

    # A town counts only the calls about its own area.
    county_totals = {c.key: c.total for c in callers}
    town_callers = selectors.repeat_callers(pw.town_a_dispatcher)
    assert {c.key for c in town_callers} <= set(county_totals)
    assert all(c.total <= county_totals[c.key] for c in town_callers)
    assert sum(c.total for c in town_callers) < sum(county_totals.values())
