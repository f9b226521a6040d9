"""Data fusion (数据融合): the same matter arriving through several channels.

A citizen who calls 12345 about unpaid wages often also posts an online petition and, when
nothing happens, calls 110. The three records must become one matter handed over once.

Method
------
1. **Blocking by keys.** Only records from *another channel* within a time window
   (`PetitionPolicy.fusion_window_hours`, 96 h by default: hotline and online systems stamp a
   matter when it was *entered*, often a day or two after it happened) are compared, and only
   when they share
   - the person: the keyed hash (HMAC, `cases.crypto.lookup_hash`) of the ID number or of the
     phone number, phones normalized first by `cases.crypto.normalize_phone`, so
     "+86 138 0013 8000", "138-0013-8000" and "13800138000" are one person; or
   - the place: the same village or community (a grid cell counts as its village), which also
     absorbs address variants ("东门社区3栋" / "东门社区三栋").
   Blocking keeps the comparison count proportional to the records, not to their square, and
   uses the btree indexes petition_fusion_{phone,person,place}_idx.
2. **Text similarity of the Chinese description**, after stripping channel boilerplate
   ("市民来电反映：", "网民留言：", "报警人称") and punctuation (`normalize_text`):
   - on **PostgreSQL, pg_trgm**'s `similarity()` (Jaccard index of character trigrams). Chinese
     has no spaces, and under a UTF-8 ctype each Han character is a word character, so pg_trgm
     builds trigrams of characters: no dictionary or word segmentation (jieba) to install and
     keep current, tolerant of rewording, reordering and typos, and computed in the database
     next to the rows, one query per import batch, no texts shipped to Python.
   - on **SQLite** (the embedded demo) there is no pg_trgm: the block's texts are scored in
     Python with **rapidfuzz** (`fuzz.ratio`, a normalized Indel similarity, C++ speed).
   The two scales differ (Jaccard of trigrams is lower than Indel similarity for the same pair),
   so each method has its own thresholds, tuned on the generated data set of
   `petitions.datagen` (the benchmark reports recall and precision for pg_trgm).
3. **Decision.** Same person and a related text (a low threshold: a person rarely raises two
   different matters within four days), or same place and a clearly similar text (a higher one:
   different neighbours raise different matters in the same village). Found pairs become
   `FusionMatch` rows "待研判" with their reasons; staff merge or link them on the fusion page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q

from cases.models import Case, Status

from .models import FusionMatch, Petition

_BOILERPLATE = re.compile(
    r"^(?:(?:市民|群众|网民|来电人|来电|报警人|报警|信访人|投诉人|留言人)?(?:来电|来信|来访|留言|致电|报警|网上)?"
    r"(?:反映|反应|称|投诉|求助|咨询|诉求|举报|表示|说)[：:，,]?)+"
)
_NOISE = re.compile(r"[\s\u3000，。、；：！？,.;:!?（）()【】\[\]“”\"'‘’《》<>—\-…~～·/\\|]+")
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_NUMBER = re.compile(
    r"[零〇一二两三四五六七八九十百千]+(?=[个天栋号元万平次点人层单组年月日岁户亩周楼室间套辆])"
)
_WAN = re.compile(r"(\d+(?:\.\d+)?)万(?=元)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# Words every complaint uses, whatever its matter: left out so that the similarity reflects what
# the matter is about (who, where, which shop, how much), not how complaints are phrased.
_STOP_WORDS = re.compile(
    "|".join(
        sorted(
            (
                "要求 请求 希望 恳请 尽快 及时 依法 处理 解决 帮忙 帮助 督促 相关部门 有关部门 政府 部门 问题 情况 "
                "多次 几次 无果 没有结果 没用 协商 沟通 一直 至今 目前 现在 已经 还是 但是 而且 并且 我们 我家 他们 "
                "对方 自己 这个 那个 一个 严重 影响 正常 生活 非常 很大 不管 不给 不肯 拒绝 推脱"
            ).split(),
            key=len,
            reverse=True,
        )
    )
)
_FUNCTION_CHARS = re.compile("[的了在于被把给对向从到和与及也都就还又很是有着过吗呢吧啊]")


def _cn_to_int(text: str) -> int | None:
    """一 → 1, 十八 → 18, 三十五 → 35, 二百零五 → 205 (enough for days, months, buildings, amounts)."""
    total, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "千":
            total += (current or 1) * 1000
            current = 0
        else:
            return None
    return total + current


def normalize_numbers(text: str) -> str:
    """三栋 → 3栋, 三十五天 → 35天, 4.5万元 → 45000元: one way of writing each number."""
    text = _CN_NUMBER.sub(lambda m: str(v) if (v := _cn_to_int(m.group())) is not None else m.group(), text)
    return _WAN.sub(lambda m: f"{float(m.group(1)) * 10000:g}", text)


def normalize_text(*parts: str) -> str:
    """The comparable form of a matter's text: no channel boilerplate, punctuation or spaces,
    numbers written one way (三栋 = 3栋, 4.5万元 = 45000元)."""
    out = []
    for part in parts:
        text = (part or "").strip()
        text = normalize_numbers(_BOILERPLATE.sub("", text))
        text = _NOISE.sub("", text).lower()
        if text:
            out.append(text)
    return "".join(out)[:1000]


def content_text(normalized: str) -> str:
    """The normalized text without the words every complaint uses (see _STOP_WORDS)."""
    return _FUNCTION_CHARS.sub("", _STOP_WORDS.sub("", normalized))


def shingles(normalized: str) -> str:
    """Character bigrams separated by spaces: what `fusion_text` stores.

    pg_trgm splits text into words and pads each (two spaces before, one after), so with each
    bigram as a word its trigrams are "  a", " ab", "ab ": similarity() then measures the overlap
    of *bigrams*, the natural unit of Chinese (most words have two characters). Plain trigrams of
    a running Chinese text are too strict: a reworded duplicate shares few three-character runs.
    """
    text = content_text(normalized)
    if len(text) < 2:
        return text
    return " ".join(text[i : i + 2] for i in range(len(text) - 1))


def numbers_of(normalized: str) -> str:
    """The telling numbers of a text (two digits or more: amounts, days, house numbers, years),
    space-separated and sorted. One-digit numbers ("3个月", "2栋") agree by chance too often."""
    return " ".join(sorted({n for n in _NUMBER.findall(normalized) if len(n.split(".")[0]) >= 2}))


def numbers_relation(a: str, b: str) -> str:
    """ "agree" (a number in common), "conflict" (both give numbers, none in common) or "none"."""
    sa, sb = set(a.split()), set(b.split())
    if sa & sb:
        return "agree"
    return "conflict" if sa and sb else "none"


def unshingle(shingled: str) -> str:
    tokens = shingled.split()
    if not tokens:
        return ""
    return "".join(t[0] for t in tokens) + tokens[-1][1:]


def method() -> str:
    """ "pg_trgm" on PostgreSQL, "rapidfuzz" elsewhere (see the module docstring)."""
    return "pg_trgm" if connection.vendor == "postgresql" else "rapidfuzz"


@dataclass(frozen=True)
class Thresholds:
    same_person: float  # same ID/phone hash, unless the numbers conflict
    same_place: float  # same village, different or unknown person, with a number in common
    any_evidence: float  # same person or village: a text this close is the same matter whatever the numbers
    same_matter: float  # "repeated petition about the same matter" over months (flags)


# Tuned on petitions.datagen at 100,000 rows of 12345 (benchmarks/import_12345.py); rapidfuzz's
# scale is 0–100 (fuzz.ratio of the texts without boilerplate words).
THRESHOLDS = {
    "pg_trgm": Thresholds(same_person=0.12, same_place=0.45, any_evidence=0.6, same_matter=0.35),
    "rapidfuzz": Thresholds(same_person=35.0, same_place=65.0, any_evidence=80.0, same_matter=60.0),
}


def thresholds(name: str | None = None) -> Thresholds:
    return THRESHOLDS[name or method()]


# --------------------------------------------------------------------------------------------
# Similarity
# --------------------------------------------------------------------------------------------


def pair_similarity(
    pairs: Iterable[tuple[int, int]], *, using: str | None = None
) -> dict[tuple[int, int], float]:
    """Text similarity of petition pairs (case ids), computed by `using` (default: `method()`)."""
    pairs = list(dict.fromkeys(pairs))
    if not pairs:
        return {}
    using = using or method()
    if using == "pg_trgm":
        out: dict[tuple[int, int], float] = {}
        with connection.cursor() as cur:
            for start in range(0, len(pairs), 5000):
                chunk = pairs[start : start + 5000]
                cur.execute(
                    "SELECT p.a, p.b, similarity(pa.fusion_text, pb.fusion_text) "
                    "FROM unnest(%s::bigint[], %s::bigint[]) AS p(a, b) "
                    "JOIN petitions_petition pa ON pa.case_id = p.a "
                    "JOIN petitions_petition pb ON pb.case_id = p.b",
                    [[a for a, _ in chunk], [b for _, b in chunk]],
                )
                out.update({(a, b): float(s) for a, b, s in cur.fetchall()})
        return out
    from rapidfuzz import fuzz

    ids = {i for pair in pairs for i in pair}
    texts = {
        pk: unshingle(t) for pk, t in Petition.objects.filter(pk__in=ids).values_list("pk", "fusion_text")
    }
    return {(a, b): float(fuzz.ratio(texts.get(a, ""), texts.get(b, ""))) for a, b in pairs}


def text_similarity(shingled: str, case_ids: Sequence[int], *, using: str | None = None) -> dict[int, float]:
    """Similarity of a stored-form text (`shingles`) to the text of each petition in `case_ids`."""
    if not case_ids or not shingled:
        return {}
    using = using or method()
    if using == "pg_trgm":
        from django.contrib.postgres.search import TrigramSimilarity
        from django.db.models import Value

        rows = (
            Petition.objects.filter(pk__in=list(case_ids))
            .annotate(sim=TrigramSimilarity("fusion_text", Value(shingled)))
            .values_list("pk", "sim")
        )
        return {pk: float(sim) for pk, sim in rows}
    from rapidfuzz import fuzz

    text = unshingle(shingled)
    rows = Petition.objects.filter(pk__in=list(case_ids)).values_list("pk", "fusion_text")
    return {pk: float(fuzz.ratio(text, unshingle(other))) for pk, other in rows}


# --------------------------------------------------------------------------------------------
# Candidates and decision
# --------------------------------------------------------------------------------------------


@dataclass
class Row:
    case_id: int
    channel: str
    phone_hash: str
    person_key: str
    place_id: int | None
    reported_at: dt.datetime
    numbers: str = ""


_ROW_FIELDS = ("case_id", "channel", "phone_hash", "person_key", "place_id", "reported_at", "fusion_numbers")


def _rows(qs) -> list[Row]:
    return [Row(*values) for values in qs.values_list(*_ROW_FIELDS)]


def row_of(p: Petition) -> Row:
    return Row(p.case_id, p.channel, p.phone_hash, p.person_key, p.place_id, p.reported_at, p.fusion_numbers)


def candidate_pairs(new: Sequence[Row], *, window: dt.timedelta) -> list[tuple[Row, Row, bool, bool]]:
    """(new, other, same_person, same_place) for other-channel records in the window sharing a key.

    Three indexed range queries for the whole batch (phone, person, place); pairs are formed in
    Python on the exact window. Merged records are left out: their matter lives on in another.
    """
    if not new:
        return []
    lo = min(r.reported_at for r in new) - window
    hi = max(r.reported_at for r in new) + window
    base = Petition.objects.filter(reported_at__range=(lo, hi)).exclude(case__status=Status.MERGED)
    channels = {r.channel for r in new}
    if len(channels) == 1:  # an import: only the other channels can hold its duplicates
        base = base.exclude(channel=next(iter(channels)))
    phones = {r.phone_hash for r in new if r.phone_hash}
    persons = {r.person_key for r in new if r.person_key}
    places = {r.place_id for r in new if r.place_id}
    by_phone: dict[str, list[Row]] = defaultdict(list)
    by_person: dict[str, list[Row]] = defaultdict(list)
    by_place: dict[int, list[Row]] = defaultdict(list)
    seen: dict[int, Row] = {}
    for qs in (
        base.filter(phone_hash__in=phones) if phones else None,
        base.filter(person_key__in=persons) if persons else None,
        base.filter(place_id__in=places) if places else None,
    ):
        if qs is None:
            continue
        for row in _rows(qs):
            seen.setdefault(row.case_id, row)
    for row in seen.values():
        if row.phone_hash:
            by_phone[row.phone_hash].append(row)
        if row.person_key:
            by_person[row.person_key].append(row)
        if row.place_id:
            by_place[row.place_id].append(row)
    out: list[tuple[Row, Row, bool, bool]] = []
    for r in new:
        others: dict[int, Row] = {}
        for group in (
            by_phone.get(r.phone_hash, ()) if r.phone_hash else (),
            by_person.get(r.person_key, ()) if r.person_key else (),
            by_place.get(r.place_id, ()) if r.place_id else (),
        ):
            for o in group:
                if (
                    o.case_id != r.case_id
                    and o.channel != r.channel
                    and abs(o.reported_at - r.reported_at) <= window
                ):
                    others[o.case_id] = o
        for o in others.values():
            same_person = bool(
                (r.phone_hash and r.phone_hash == o.phone_hash)
                or (r.person_key and r.person_key == o.person_key)
            )
            out.append((r, o, same_person, bool(r.place_id and r.place_id == o.place_id)))
    return out


@dataclass
class Decision:
    is_match: bool
    score: float
    reasons: list[str]


def decide(
    *,
    similarity: float,
    same_person: bool,
    same_place: bool,
    numbers: str,
    hours: float,
    window_hours: float,
    using: str,
) -> Decision:
    """Same matter or not, from the blocking keys, the text similarity and the numbers.

    - same person, the texts related (a low threshold) and no conflicting numbers;
    - same village only: a clearly similar text *and* a number in common (an amount, a date, a
      house number) — different neighbours raise different matters of the same kind;
    - either, with a text so close that it is the same matter whatever the numbers say.
    """
    t = thresholds(using)
    scale = 1.0 if using == "pg_trgm" else 100.0
    sim = similarity / scale
    reasons = []
    if same_person:
        reasons.append("同一人（证件号或电话号码一致）")
    if same_place:
        reasons.append("同一村（社区）")
    reasons.append(f"相隔 {hours:.0f} 小时")
    reasons.append(f"描述文本相似度 {sim:.2f}（{using}）")
    if numbers == "agree":
        reasons.append("金额、日期、门牌等数字一致")
    elif numbers == "conflict":
        reasons.append("金额、日期、门牌等数字不一致")
    is_match = (
        (same_person and similarity >= t.same_person and numbers != "conflict")
        or (same_place and similarity >= t.same_place and numbers == "agree")
        or ((same_person or same_place) and similarity >= t.any_evidence)
    )
    score = (
        sim + (0.35 if same_person else 0) + (0.15 if same_place else 0) + (0.1 if numbers == "agree" else 0)
    )
    score -= 0.1 * min(hours / max(window_hours, 1), 1)
    return Decision(is_match, round(max(min(score, 1.0), 0.0), 3), reasons)


def find_matches(
    new: Sequence[Row], *, window_hours: int, now: dt.datetime, using: str | None = None
) -> list[FusionMatch]:
    """Unsaved FusionMatch rows for `new` records against every other channel (see the docstring)."""
    using = using or method()
    window = dt.timedelta(hours=window_hours)
    pairs = candidate_pairs(new, window=window)
    if not pairs:
        return []
    sims = pair_similarity([(r.case_id, o.case_id) for r, o, _, _ in pairs], using=using)
    found: dict[tuple[int, int], FusionMatch] = {}
    for r, o, same_person, same_place in pairs:
        sim = sims.get((r.case_id, o.case_id), 0.0)
        hours = abs((r.reported_at - o.reported_at).total_seconds()) / 3600
        d = decide(
            similarity=sim,
            same_person=same_person,
            same_place=same_place,
            hours=hours,
            numbers=numbers_relation(r.numbers, o.numbers),
            window_hours=window_hours,
            using=using,
        )
        if not d.is_match:
            continue
        # The later record is the new one; the pair is stored once whichever side arrived last.
        newer, older = (r, o) if (r.reported_at, r.case_id) >= (o.reported_at, o.case_id) else (o, r)
        found[(newer.case_id, older.case_id)] = FusionMatch(
            case_id=newer.case_id,
            other_id=older.case_id,
            score=d.score,
            text_similarity=round(sim / (1.0 if using == "pg_trgm" else 100.0), 3),
            same_person=same_person,
            same_place=same_place,
            hours_apart=round(hours, 1),
            method=using,
            reasons=d.reasons,
            created_at=now,
        )
    return list(found.values())


def store_matches(matches: Sequence[FusionMatch]) -> int:
    """Insert new suggestions; a pair already known (in either order) is left as staff decided it."""
    if not matches:
        return 0
    # Pairs already known among these records: one indexed query per side (fusion_match_once
    # leads with case_id), the exact pairs picked in Python; an OR of thousands of pair
    # conditions costs more to build than to run.
    ids = sorted({i for m in matches for i in (m.case_id, m.other_id)})
    existing: set[tuple[int, int]] = set()
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        existing.update(
            FusionMatch.objects.filter(Q(case_id__in=chunk) | Q(other_id__in=chunk)).values_list(
                "case_id", "other_id"
            )
        )
    fresh = [
        m
        for m in matches
        if (m.case_id, m.other_id) not in existing and (m.other_id, m.case_id) not in existing
    ]
    FusionMatch.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def open_suggestions(case: Case) -> int:
    return FusionMatch.objects.filter(Q(case=case) | Q(other=case), status="suggested").count()
