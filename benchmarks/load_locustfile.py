"""The load benchmark's users (run by benchmarks/load_bench.py; not a Django module).

The plan (sessions, windows, mediations, tokens, cursors) comes from the JSON file named by
LOAD_PLAN, made by the benchmark's set-up; LOAD_CLERKS … give the number of users of each kind
and LOAD_THINK scales their think times. With LOAD_PHASE=baseline every user keeps its pacing and
its number of requests per iteration, but each request is the bare JSON view (/bench/bare/).

Every user only talks to the --host the benchmark passes (a gunicorn on 127.0.0.1).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import re
import string
import uuid
from zoneinfo import ZoneInfo

import gevent
from locust import FastHttpUser, between, constant, task
from stdnum.cn import ric

PLAN = json.load(open(os.environ["LOAD_PLAN"]))  # noqa: SIM115, PTH123 - read once at start
BASELINE = os.environ.get("LOAD_PHASE") == "baseline"
THINK = float(os.environ.get("LOAD_THINK", "1"))
SHANGHAI = ZoneInfo("Asia/Shanghai")
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION_INPUT = re.compile(r'name="version" value="(\d+)"')


def _count(kind: str) -> int:
    return int(os.environ.get(f"LOAD_{kind.upper()}", "0"))


def _csrf_secret() -> str:
    """A CSRF cookie as the browser would hold it (Django checks the form's token against it)."""
    return "".join(random.choice(string.ascii_letters + string.digits) for _ in range(32))  # noqa: S311


def _fresh_id(rng: random.Random) -> str:
    body = f"430124{rng.randrange(1960, 2000)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")


class Bench(FastHttpUser):
    abstract = True
    # Sync gunicorn workers close every connection; a queued request may wait for a worker.
    network_timeout = 60.0
    connection_timeout = 60.0
    seq: itertools.count
    kind: str
    per_iteration = 1

    def on_start(self) -> None:
        entries = PLAN[self.kind]
        self.me = entries[next(self.seq) % len(entries)]
        self.rng = random.Random()  # noqa: S311
        self.iteration = 0
        # People do not all click in the same second a run starts: each user's first iteration
        # comes at a random point of its pacing, so arrivals are steady from the start.
        gevent.sleep(self.rng.uniform(0, self.wait_time()))

    def bare(self) -> None:
        self.client.get("/bench/bare/", name="GET /bench/bare/")

    @task
    def iterate(self) -> None:
        self.iteration += 1
        if BASELINE:
            for _ in range(self.requests_per_iteration()):
                self.bare()
        else:
            self.work()

    def requests_per_iteration(self) -> int:
        return self.per_iteration

    def work(self) -> None:
        raise NotImplementedError


class Browser(Bench):
    """A signed-in person at a browser: the session cookie and a CSRF cookie."""

    abstract = True

    def on_start(self) -> None:
        super().on_start()
        self.cookie = f"sessionid={self.me['session']}; csrftoken={_csrf_secret()}"

    def get(self, path: str, name: str, **kw):
        return self.client.get(path, name=name, headers={"Cookie": self.cookie}, **kw)

    def form(self, path: str, name: str) -> tuple[str, str]:
        """GET a form page: (its CSRF token, its whole text)."""
        with self.get(path, name, catch_response=True) as r:
            found = CSRF_INPUT.search(r.text or "")
            if r.status_code != 200 or not found:
                r.failure(f"form page {r.status_code} without a CSRF token")
                return "", ""
            return found.group(1), r.text

    def post_form(self, path: str, name: str, data: dict[str, str]) -> str | None:
        """POST a form; success is a redirect (a form re-rendered with errors is a failure)."""
        headers = {"Cookie": self.cookie, "Content-Type": "application/x-www-form-urlencoded"}
        with self.client.post(
            path, data=data, name=name, headers=headers, allow_redirects=False, catch_response=True
        ) as r:
            if r.status_code != 302:
                r.failure(f"{r.status_code} instead of a redirect: {(r.text or '')[:300]}")
                return None
            return r.headers.get("Location")


class WindowClerk(Browser):
    kind = "clerks"
    seq = itertools.count()
    fixed_count = _count("clerks")
    wait_time = between(10 * THINK, 30 * THINK)
    per_iteration = 4

    def work(self) -> None:
        me = self.me
        token, _ = self.form(f"/reception/register/?window={me['window']}", "GET /reception/register/")
        if not token:
            return
        people = PLAN["people"]
        if people and self.rng.random() < 0.5:
            name, id_number, phone = self.rng.choice(people)
            if self.rng.random() < 0.3:
                id_number = ""
            else:
                phone = ""
        else:
            name, id_number, phone = "新来访", _fresh_id(self.rng), f"139{self.rng.randrange(10**8):08d}"
        lookup = {"id_number": id_number} if id_number else {"phone": phone}
        self.get("/reception/lookup/?" + "&".join(f"{k}={v}" for k, v in lookup.items()), "GET /reception/lookup/")
        route = self.rng.choice(["on_the_spot", "law_litigation"])
        data = {
            "csrfmiddlewaretoken": token, "window": str(me["window"]), "id_number": id_number, "phone": phone,
            "name": name, "address": "", "region": str(me["region"]), "people_count": "1", "category": "labour",
            "matter": f"压测登记 {uuid.uuid4().hex[:8]}", "description": "",
            "route": route, "result": "当场答复" if route == "on_the_spot" else "", "satisfaction": "satisfied",
            "unit": str(me["unit"]), "summons_hours": "2",
            "party-TOTAL_FORMS": "0", "party-INITIAL_FORMS": "0", "party-MIN_NUM_FORMS": "0",
            "party-MAX_NUM_FORMS": "10",
        }
        location = self.post_form("/reception/register/", "POST /reception/register/", data)
        if location:
            self.get(location, "GET /reception/visits/[id]/")


class Mediator(Browser):
    kind = "mediators"
    seq = itertools.count()
    fixed_count = _count("mediators")
    wait_time = between(10 * THINK, 30 * THINK)
    per_iteration = 4

    def work(self) -> None:
        self.get("/mediation/mine/", "GET /mediation/mine/")
        pk = self.rng.choice(self.me["mediations"])
        self.get(f"/mediation/{pk}/", "GET /mediation/[id]/")
        token, text = self.form(f"/mediation/{pk}/sessions/new/", "GET /mediation/[id]/sessions/new/")
        if not token:
            return
        version = VERSION_INPUT.search(text)
        held_at = dt.datetime.now(SHANGHAI) - dt.timedelta(minutes=10)
        data = {
            "csrfmiddlewaretoken": token, "version": version.group(1) if version else "",
            "held_at": held_at.strftime("%Y-%m-%dT%H:%M"), "place": "调解室", "participants": "双方当事人、调解员",
            "record": f"压测调解笔录 {uuid.uuid4().hex[:8]}：双方陈述，调解员释法说理。", "result": "continue",
        }
        self.post_form(f"/mediation/{pk}/sessions/new/", "POST /mediation/[id]/sessions/new/", data)


class BigScreen(Browser):
    kind = "screens"
    seq = itertools.count()
    fixed_count = _count("screens")
    wait_time = constant(10 * THINK)

    def work(self) -> None:
        self.get("/dashboards/screen/data/", "GET /dashboards/screen/data/")


class ApiClient(Bench):
    """A town center's system: pulls the feeds from its cursors, now and then pushes a new case."""

    kind = "api_clients"
    seq = itertools.count()
    fixed_count = _count("api_clients")
    wait_time = between(5 * THINK, 15 * THINK)
    FEEDS = (("cases", "/api/v1/cases/"), ("timeline", "/api/v1/timeline/"), ("mediations", "/api/v1/mediations/"))
    MAX_PAGES = 5

    def on_start(self) -> None:
        super().on_start()
        self.headers = {"Authorization": f"Token {self.me['key']}"}
        self.cursors = dict(self.me["cursors"])

    def requests_per_iteration(self) -> int:
        return len(self.FEEDS) + (1 if self.iteration % 3 == 0 else 0)

    def pull(self, feed: str, path: str) -> None:
        for _ in range(self.MAX_PAGES):
            params = "?page_size=100" + (f"&cursor={self.cursors[feed]}" if self.cursors[feed] else "")
            with self.client.get(
                path + params, name=f"GET {path} (sync)", headers=self.headers, catch_response=True
            ) as r:
                if r.status_code != 200:
                    r.failure(f"{r.status_code}: {(r.text or '')[:300]}")
                    return
                body = r.json()
            self.cursors[feed] = body["cursor"] or self.cursors[feed]
            if not body["next"]:
                return

    def push(self) -> None:
        body = {
            "external_id": str(uuid.uuid4()), "category": "neighbour", "title": "下级中心上报：邻里纠纷（压测）",
            "region": self.me["region"], "parties": [{"name": "王某", "phone": f"138{self.rng.randrange(10**8):08d}"}],
        }
        headers = {**self.headers, "Idempotency-Key": str(uuid.uuid4())}
        # A retry after a lost answer sends the same request again: one case, the first answer.
        for _ in range(2 if self.rng.random() < 0.25 else 1):
            with self.client.post(
                "/api/v1/cases/", json=body, headers=headers, name="POST /api/v1/cases/", catch_response=True
            ) as r:
                if r.status_code != 201:
                    r.failure(f"{r.status_code}: {(r.text or '')[:300]}")

    def work(self) -> None:
        for feed, path in self.FEEDS:
            self.pull(feed, path)
        if self.iteration % 3 == 0:
            self.push()
