#!/usr/bin/env python3
"""A town center's sync client for the county platform's API (standard library only).

    export ZONGZHI_URL=https://zongzhi.example.gov.cn  ZONGZHI_TOKEN=zz_…
    python examples/town_sync.py push outbox.json     # register the town's new cases
    python examples/town_sync.py pull                 # fetch what changed since the last pull

push: each record in the JSON file (a list) is a case as `POST /api/v1/cases/` takes it, plus the
town system's own record number in `local_id`. The case's `external_id` is derived from that
number (UUID 5), so sending the same file again — after a crash, a timeout, a lost answer —
never registers a case twice: the platform answers the existing case. Records that fail
validation are reported with the platform's field-level messages and left for a person to fix.

pull: asks for the cases changed since the saved cursor, page by page, appends them to
`changes.jsonl` and saves the cursor after every page (in `sync_state.json`), so an interrupted
pull resumes where it stopped and nothing is fetched twice or skipped.

Both retry network errors, 5xx and 429 (waiting as long as Retry-After says), a bounded
number of times.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

# The namespace of this town's record numbers: change it once per town system, never afterwards.
NAMESPACE = uuid.UUID("6f1c3a52-4a0e-4d4b-9d61-2b9a1f0c7e11")
RETRIES = 5


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]):
        super().__init__(f"{status}: {body.get('detail', body)}")
        self.status, self.body = status, body


class Client:
    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0) -> None:
        self.base = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def call(
        self, method: str, url: str, body: dict | None = None, headers: dict | None = None
    ) -> tuple[int, dict, dict]:
        """(status, JSON body, response headers); raises ApiError for a refused request."""
        if not url.startswith("http"):
            url = self.base + url
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        all_headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        if data is not None:
            all_headers["Content-Type"] = "application/json; charset=utf-8"
        all_headers.update(headers or {})
        for attempt in range(RETRIES + 1):
            request = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    return response.status, json.loads(response.read() or b"null"), dict(response.headers)
            except urllib.error.HTTPError as exc:
                payload = json.loads(exc.read() or b"{}")
                if exc.code == 429 or exc.code >= 500:
                    if attempt < RETRIES:
                        wait = float(exc.headers.get("Retry-After") or 2**attempt)
                        time.sleep(min(wait, 60))
                        continue
                raise ApiError(exc.code, payload) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError):
                if attempt < RETRIES:
                    time.sleep(min(2**attempt, 30))
                    continue
                raise
        raise AssertionError("unreachable")


def external_id(local_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, str(local_id)))


def push(client: Client, records: list[dict]) -> dict[str, Any]:
    """Register each record once; returns {local_id: tracking number or errors}."""
    report: dict[str, Any] = {}
    for record in records:
        record = dict(record)
        local_id = str(record.pop("local_id"))
        record["external_id"] = external_id(local_id)
        record.setdefault("source_ref", local_id)
        try:
            status, case, headers = client.call(
                "POST", "/api/v1/cases/", record, headers={"Idempotency-Key": record["external_id"]}
            )
        except ApiError as exc:
            report[local_id] = {"errors": exc.body.get("errors") or {}, "detail": exc.body.get("detail")}
            continue
        # A retry answers the case registered before: 200 (same external_id), or the first answer
        # replayed (same Idempotency-Key).
        new = status == 201 and headers.get("Idempotent-Replayed") != "true"
        report[local_id] = {"id": case["id"], "tracking_no": case["tracking_no"], "new": new}
    return report


def pull(client: Client, state_path: Path, out_path: Path, **filters: str) -> int:
    """Fetch every case changed since the saved cursor; returns how many rows were written."""
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    params = {**filters, "page_size": "200"}
    if state.get("cursor"):
        params["cursor"] = state["cursor"]
    url = "/api/v1/cases/?" + urllib.parse.urlencode(params)
    written = 0
    while url:
        _, page, _ = client.call("GET", url)
        with out_path.open("a", encoding="utf-8") as out:
            for row in page["results"]:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        written += len(page["results"])
        if page["cursor"]:
            state["cursor"] = page["cursor"]
            # Saved after each page: an interrupted pull resumes here.
            tmp = state_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(state))
            tmp.replace(state_path)
        url = page["next"]
    return written


def main(argv: list[str]) -> int:
    client = Client(os.environ["ZONGZHI_URL"], os.environ["ZONGZHI_TOKEN"])
    if len(argv) >= 2 and argv[0] == "push":
        records = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
        report = push(client, records)
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 1 if any("errors" in r for r in report.values()) else 0
    if argv and argv[0] == "pull":
        n = pull(client, Path("sync_state.json"), Path("changes.jsonl"))
        print(f"{n} changed cases written to changes.jsonl")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
