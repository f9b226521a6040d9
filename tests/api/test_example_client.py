"""The example town client (examples/town_sync.py) against a live server: push twice, pull twice."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from cases.models import Case

ROOT = Path(__file__).resolve().parents[2]


def load_example():
    spec = importlib.util.spec_from_file_location("town_sync", ROOT / "examples" / "town_sync.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_client_pushes_once_and_pulls_only_what_changed(api, live_server, tmp_path):
    town_sync = load_example()
    client = town_sync.Client(live_server.url, api.key_a)
    records = [
        {"local_id": "CG-2026-0001", "category": "labour", "title": "工地欠薪 8 人", "region": api.grid_a.code,
         "people_count": 8},
        {"local_id": "CG-2026-0002", "category": "property", "title": "小区物业纠纷", "region": api.village_a.code},
        {"local_id": "CG-2026-0003", "category": "family", "title": "", "region": api.village_a.code},
    ]
    first = town_sync.push(client, records)
    assert first["CG-2026-0001"]["new"] and first["CG-2026-0002"]["new"]
    assert "title" in first["CG-2026-0003"]["errors"]
    # The whole file again (say, after a crash): nothing registered twice.
    again = town_sync.push(client, records[:2])
    assert not again["CG-2026-0001"]["new"] and again["CG-2026-0001"]["id"] == first["CG-2026-0001"]["id"]
    assert Case.objects.filter(source_ref__startswith="CG-2026-").count() == 2

    state, out = tmp_path / "state.json", tmp_path / "changes.jsonl"
    assert town_sync.pull(client, state, out) == 2
    assert json.loads(state.read_text())["cursor"]
    assert town_sync.pull(client, state, out) == 0  # nothing changed since

    case = Case.objects.get(source_ref="CG-2026-0002")
    r = client.call("POST", f"/api/v1/cases/{case.pk}/comment/", {"text": "已约双方周五调解"})
    assert r[0] == 201
    from cases.services import case_accept

    case_accept(case=case, by=api.village_a_staff)
    assert town_sync.pull(client, state, out) == 1
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["source_ref"] for r in rows] == ["CG-2026-0001", "CG-2026-0002", "CG-2026-0002"]
    assert rows[-1]["status"] == "accepted"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    # urllib honours proxy variables; the live server is on loopback.
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
