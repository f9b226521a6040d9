"""Concurrency (issue 10): many clients editing one case and writing its timeline at once.

Each client does what a page does: read the case, change it with the version it read, and when the
engine refuses a stale copy, read again and retry. Every change must survive (no lost update), the
version must count them exactly, every timeline entry must be there, and tracking numbers stay unique.
"""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from cases import services
from cases.models import Case, TimelineEntry

pytestmark = [pytest.mark.django_db(transaction=True)]

CLIENTS = 6
EDITS = 4
COMMENTS = 5


def _together(fns) -> None:
    barrier = threading.Barrier(len(fns))
    errors: list[BaseException] = []

    def run(fn):
        try:
            barrier.wait()
            fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a client hung"
    if errors:
        raise errors[0]


def test_many_clients_editing_one_case_lose_no_update_and_no_timeline_entry(cw, make_case):
    case = make_case(description="")
    start_version = Case.objects.get(pk=case.pk).version
    refused = []

    def client(n: int):
        def work():
            for i in range(EDITS):
                while True:  # the page's read → edit → save, retried after a refusal
                    fresh = Case.objects.get(pk=case.pk)
                    try:
                        services.case_update(
                            case=fresh, by=cw.village_a_worker, expected_version=fresh.version,
                            description=f"{fresh.description}[{n}.{i}]",
                        )
                        break
                    except services.StaleEdit as exc:
                        refused.append(str(exc))
                for _ in range(COMMENTS if i == 0 else 0):
                    services.case_comment(case=fresh, by=cw.village_a_worker, text=f"客户端 {n} 的办理记录")

        return work

    _together([client(n) for n in range(CLIENTS)])
    final = Case.objects.get(pk=case.pk)
    tokens = {f"[{n}.{i}]" for n in range(CLIENTS) for i in range(EDITS)}
    assert all(t in final.description for t in tokens), "an update was lost"
    assert len(final.description) == sum(len(t) for t in tokens)  # and none applied twice
    assert final.version == start_version + CLIENTS * EDITS
    assert TimelineEntry.objects.filter(case=case, action="update").count() == CLIENTS * EDITS
    assert TimelineEntry.objects.filter(case=case, action="comment").count() == CLIENTS * COMMENTS
    # Contention really happened, and the loser was told in Chinese what to do.
    assert refused and all("请刷新页面后重新操作" in r for r in refused)


def test_a_stale_copy_is_refused_and_changes_nothing(cw, make_case):
    case = make_case(title="原标题")
    a = Case.objects.get(pk=case.pk)
    b = Case.objects.get(pk=case.pk)
    services.case_update(case=a, by=cw.village_a_worker, expected_version=a.version, title="甲改的标题")
    with pytest.raises(services.StaleEdit):
        services.case_update(case=b, by=cw.village_a_worker, expected_version=b.version, title="乙改的标题")
    assert Case.objects.get(pk=case.pk).title == "甲改的标题"


def test_registrations_from_many_windows_at_once_get_distinct_tracking_numbers(cw, make_case):
    def window():
        for i in range(8):
            make_case(title=f"并发登记 {i}")

    _together([window for _ in range(CLIENTS)])
    numbers = list(Case.objects.values_list("tracking_no", flat=True))
    assert len(numbers) == CLIENTS * 8 and len(set(numbers)) == len(numbers)
    seqs = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # gap-free, as the counter promises
