"""Incremental sync: a client pulling with the cursor misses nothing and repeats nothing,
even while other transactions write and commit out of order.

These tests commit for real (transactional) and write from several threads, each with its own
database connection, so transactions overlap as they do under gunicorn and Celery.
"""

from __future__ import annotations

import random
import threading
import time

import pytest
from django.db import connection, transaction

from cases.models import Case, Category, Channel, TimelineEntry
from cases.services import case_comment, case_register, case_update

pytestmark = pytest.mark.django_db(transaction=True)


def pull(client, url: str, cursor: str | None, page_size: int = 5) -> tuple[list[dict], str | None]:
    """Everything available after `cursor`, following `next`; returns (rows, cursor to keep)."""
    rows: list[dict] = []
    params = {"page_size": page_size}
    if cursor:
        params["cursor"] = cursor
    while True:
        r = client.get(url, params)
        assert r.status_code == 200, r.content
        body = r.json()
        rows += body["results"]
        cursor = body["cursor"] or cursor
        if not body["next"]:
            return rows, cursor
        params["cursor"] = body["cursor"]


def register(api, title: str, region=None) -> Case:
    return case_register(
        by=api.town_a_dispatcher, channel=Channel.VISIT, category=Category.NEIGHBOUR, title=title,
        region=region or api.town_a,
    )


def in_thread(fn):
    """Run `fn` in a thread with its own connection; returns (thread, errors list)."""
    errors: list[BaseException] = []

    def run():
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connection.close()

    t = threading.Thread(target=run)
    t.start()
    return t, errors


def test_a_transaction_that_commits_late_is_not_skipped_by_the_cursor(api):
    older = register(api, "同步前已有的事项")
    rows, cursor = pull(api.a, "/api/v1/cases/", None)
    assert [r["id"] for r in rows] == [older.pk]

    started, release = threading.Event(), threading.Event()

    def slow_writer():
        # Registrations queue on the county's tracking-number row, so the slow transaction edits.
        with transaction.atomic():
            case_update(case=older, by=api.town_a_dispatcher, expected_version=1, title="先开始、后提交的修改")
            started.set()
            assert release.wait(30)

    t, errors = in_thread(slow_writer)
    assert started.wait(30)
    quick = register(api, "后开始、先提交的事项")  # commits now, with a later transaction id

    # The quick case is committed, but it lies after a transaction still in flight: handing it
    # out now would move the cursor past the slow one, whose change would then never be pulled.
    rows, cursor = pull(api.a, "/api/v1/cases/", cursor)
    assert rows == []

    release.set()
    t.join(30)
    assert not errors, errors
    rows, cursor = pull(api.a, "/api/v1/cases/", cursor)
    assert [(r["id"], r["version"]) for r in rows] == [(older.pk, 2), (quick.pk, 1)]
    assert rows[0]["title"] == "先开始、后提交的修改"
    assert pull(api.a, "/api/v1/cases/", cursor)[0] == []
    # The timeline feed follows the same rule.
    entries, _ = pull(api.a, "/api/v1/timeline/", None)
    assert [(e["case"], e["action"]) for e in entries] == [
        (older.pk, "register"), (older.pk, "update"), (quick.pk, "register")
    ]


def test_incremental_sync_under_concurrent_writes_misses_nothing_and_repeats_nothing(api):
    for i in range(6):
        register(api, f"初始事项 {i}")
    stop = time.monotonic() + 4.0
    lock = threading.Lock()

    def writer(seed: int):
        rnd = random.Random(seed)  # noqa: S311
        n = 0
        while time.monotonic() < stop:
            with transaction.atomic():
                roll = rnd.random()
                if roll < 0.3:
                    register(api, f"并发登记 {seed}-{n}", region=rnd.choice([api.town_a, api.grid_a]))
                else:
                    with lock:
                        pks = list(Case.objects.filter(region_path__startswith=api.town_a.path).values_list("pk", flat=True))
                    case = Case.objects.get(pk=rnd.choice(pks))
                    if roll < 0.8:
                        case_update(case=case, by=api.sysadmin, expected_version=None, title=f"修改 {seed}-{n}")
                    else:
                        case_comment(case=case, by=api.sysadmin, text=f"记录 {seed}-{n}")
                # Hold the transaction open a little, so commits land out of id order.
                time.sleep(rnd.random() * 0.05)
            n += 1

    threads = [in_thread(lambda s=s: writer(s)) for s in range(3)]
    seen: list[tuple[int, int]] = []
    entries_seen: list[int] = []
    cursor = entry_cursor = None
    while any(t.is_alive() for t, _ in threads):
        rows, cursor = pull(api.a, "/api/v1/cases/", cursor, page_size=7)
        seen += [(r["id"], r["version"]) for r in rows]
        entries, entry_cursor = pull(api.a, "/api/v1/timeline/", entry_cursor, page_size=11)
        entries_seen += [e["id"] for e in entries]
        time.sleep(0.02)
    for t, errors in threads:
        t.join()
        assert not errors, errors
    rows, cursor = pull(api.a, "/api/v1/cases/", cursor, page_size=7)
    seen += [(r["id"], r["version"]) for r in rows]
    entries, entry_cursor = pull(api.a, "/api/v1/timeline/", entry_cursor, page_size=11)
    entries_seen += [e["id"] for e in entries]

    # Repeats nothing: each version of each case came exactly once …
    assert len(seen) == len(set(seen))
    assert len(entries_seen) == len(set(entries_seen))
    # … and misses nothing: the latest version of every case, and every timeline entry.
    latest: dict[int, int] = {}
    for pk, version in seen:
        assert version > latest.get(pk, 0), "a case went back to an older version"
        latest[pk] = version
    in_db = dict(Case.objects.filter(region_path__startswith=api.town_a.path).values_list("pk", "version"))
    assert latest == in_db
    assert len(in_db) > 10
    assert sorted(entries_seen) == sorted(
        TimelineEntry.objects.filter(case__region_path__startswith=api.town_a.path).values_list("pk", flat=True)
    )


def test_changes_made_only_to_petition_hazard_or_mediation_rows_come_back_in_their_feeds(api, med):
    """A write on a kind's detail row (an admin edit, a session, an agreement) re-stamps its case,
    so the feed hands the record out again even though the case row itself was not edited."""
    from cases.services import PersonData
    from grids.models import Hazard, HazardType, Severity, TeamRole
    from grids.services import grid_team_member_add, hazard_report
    from mediation.models import Agreement, ConsentWay, Mediation, Session
    from mediation.services import agreement_draft, mediation_assign, mediation_consent
    from petitions.models import Petition
    from petitions.services import petition_register

    petition = petition_register(
        by=api.town_a_dispatcher, channel=Channel.VISIT, category=Category.LABOUR, title="拖欠工资", region=api.town_a,
        petitioners=[PersonData(name="张三", phone="13800138000")], request="要求结清拖欠工资",
    )
    grid_team_member_add(
        grid=api.grid_a, by=api.town_a_dispatcher, role=TeamRole.GRID_WORKER, user=api.village_a_worker, title="网格员"
    )
    hazard = hazard_report(
        by=api.village_a_worker, grid=api.grid_a, hazard_type=HazardType.FIRE, severity=Severity.MAJOR,
        place="3 栋楼道", description="楼道堆放杂物",
    )
    m = mediation_assign(case=med.dispute("a"), by=api.town_a_dispatcher, mediator=med.mediator_a)
    m = mediation_consent(mediation=m, by=med.mediator_a.user, way=ConsentWay.APPLICATION)
    agreement_draft(mediation=m, by=med.mediator_a.user, facts="漏水", terms="赔偿 8,000 元")

    feeds = {"/api/v1/petitions/": petition.case_id, "/api/v1/hazards/": hazard.case_id, "/api/v1/mediations/": m.pk}
    cursors = {}
    for url, pk in feeds.items():
        rows, cursors[url] = pull(api.a, url, None)
        assert [r["case"]["id"] for r in rows] == [pk]
    # Nothing changed: nothing comes.
    for url in feeds:
        assert pull(api.a, url, cursors[url])[0] == []

    # Writes that touch only the detail rows (each in its own transaction, as an edit would be).
    Petition.objects.filter(pk=petition.pk).update(is_key=True, key_reason="群体性")
    Hazard.objects.filter(pk=hazard.pk).update(rectification="已清理一半")
    Mediation.objects.filter(pk=m.pk).update(consent_note="补录：双方口头同意")
    for url, field, value in (
        ("/api/v1/petitions/", "is_key", True),
        ("/api/v1/hazards/", "rectification", "已清理一半"),
        ("/api/v1/mediations/", "consent_note", "补录：双方口头同意"),
    ):
        rows, cursors[url] = pull(api.a, url, cursors[url])
        assert [(r["case"]["id"], r[field]) for r in rows] == [(feeds[url], value)], url
        assert pull(api.a, url, cursors[url])[0] == []

    # The mediation's own children: a session inserted, the agreement edited.
    Session.objects.create(
        mediation=m, number=1, held_at=m.case.created_at, place="调解室", participants="双方", record="笔录",
        recorded_by=med.mediator_a.user, recorded_at=m.case.created_at,
    )
    rows, cursor = pull(api.a, "/api/v1/mediations/", cursors["/api/v1/mediations/"])
    assert [len(r["sessions"]) for r in rows] == [1]
    Agreement.objects.filter(pk=m.pk).update(copies=5)
    rows, cursor = pull(api.a, "/api/v1/mediations/", cursor)
    assert [r["agreement"]["copies"] for r in rows] == [5]
    assert pull(api.a, "/api/v1/mediations/", cursor)[0] == []
    # The other town's feed never saw any of it.
    assert pull(api.b, "/api/v1/mediations/", None)[0] == []


def test_a_visit_comes_back_in_the_visit_feed_when_it_reports_a_case(api):
    from grids.models import HouseholdVisit, TeamRole, VisitFinding
    from grids.services import dispute_report, grid_team_member_add, visit_log

    grid_team_member_add(
        grid=api.grid_a, by=api.town_a_dispatcher, role=TeamRole.GRID_WORKER, user=api.village_a_worker, title="网格员"
    )
    first = visit_log(by=api.village_a_worker, grid=api.grid_a, household="王秀兰", address="幸福路 8 号")
    noted = visit_log(
        by=api.village_a_worker, grid=api.grid_a, household="陈建军", address="幸福路 8 号 4 楼",
        finding=VisitFinding.DISPUTE, notes="楼上漏水，邻里争执",
    )
    rows, cursor = pull(api.a, "/api/v1/visits/", None)
    assert [(v["id"], v["case"]) for v in rows] == [(first.pk, None), (noted.pk, None)]
    assert pull(api.a, "/api/v1/visits/", cursor)[0] == []

    case = dispute_report(
        by=api.village_a_worker, grid=api.grid_a, category=Category.NEIGHBOUR, title="楼上漏水邻里纠纷",
        visit=HouseholdVisit.objects.get(pk=noted.pk),
    )
    rows, cursor = pull(api.a, "/api/v1/visits/", cursor)
    assert [(v["id"], v["case"]) for v in rows] == [(noted.pk, case.pk)]
    assert pull(api.a, "/api/v1/visits/", cursor)[0] == []
    assert pull(api.b, "/api/v1/visits/", None)[0] == []


def test_mediation_sync_under_concurrent_sessions_misses_nothing_and_repeats_nothing(api, med):
    from django.utils import timezone

    from mediation.models import ConsentWay, Mediation, Session
    from mediation.services import mediation_assign, mediation_consent, session_record

    ids = []
    for i in range(5):
        m = mediation_assign(case=med.dispute("a", f"纠纷 {i}"), by=api.town_a_dispatcher, mediator=med.mediator_a)
        ids.append(mediation_consent(mediation=m, by=med.mediator_a.user, way=ConsentWay.ORAL).pk)
    stop = time.monotonic() + 3.0

    def writer(seed: int):
        rnd = random.Random(seed)  # noqa: S311
        while time.monotonic() < stop:
            with transaction.atomic():
                m = Mediation.objects.select_related("case").get(pk=rnd.choice(ids))
                session_record(
                    mediation=m, by=med.mediator_a.user, held_at=timezone.now() - timezone.timedelta(minutes=5),
                    place="调解室", participants="双方当事人", record=f"笔录 {seed}", expected_version=None,
                )
                time.sleep(rnd.random() * 0.05)

    threads = [in_thread(lambda s=s: writer(s)) for s in range(3)]
    seen: list[tuple[int, int, int]] = []
    cursor = None
    while any(t.is_alive() for t, _ in threads):
        rows, cursor = pull(api.a, "/api/v1/mediations/", cursor, page_size=3)
        seen += [(r["case"]["id"], r["case"]["version"], len(r["sessions"])) for r in rows]
        time.sleep(0.02)
    for t, errors in threads:
        t.join()
        assert not errors, errors
    rows, cursor = pull(api.a, "/api/v1/mediations/", cursor, page_size=3)
    seen += [(r["case"]["id"], r["case"]["version"], len(r["sessions"])) for r in rows]

    assert len(seen) == len(set(seen))  # no version handed out twice
    latest: dict[int, tuple[int, int]] = {}
    for pk, version, sessions in seen:
        assert version > latest.get(pk, (0, 0))[0]
        latest[pk] = (version, sessions)
    in_db = {
        pk: (Case.objects.get(pk=pk).version, Session.objects.filter(mediation_id=pk).count()) for pk in ids
    }
    assert latest == in_db
    assert sum(n for _, n in in_db.values()) > 5
