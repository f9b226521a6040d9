"""The mediation agreement (人民调解协议书) as an A4 PDF, in the standard layout.

Layout of the Ministry of Justice's model text (人民调解文书格式): title and number; the parties
(name, gender, birth date, address, masked ID number); the main facts and points in dispute; the
terms agreed after mediation, numbered; the amount in capital letters; the manner and deadline of
performance; the number of copies; the legal notes (人民调解法 第三十一条 binding force,
第三十三条 judicial confirmation); signature lines for every party, the mediator and the committee's
seal, with the date. Chinese text uses reportlab's built-in CID font STSong-Light, so no system font
is needed. A draft carries "草稿" in its title and no number.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from reportlab.lib.units import mm
from reportlab.platypus import Spacer, Table, TableStyle

from cases.models import CaseParty, PartyRole
from cases.pdf import build_a4
from cases.pdf import para as _p
from cases.pdf import styles as _styles

from .models import Agreement

DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ["", "拾", "佰", "仟"]
SECTIONS = ["", "万", "亿", "万亿"]


def _four(n: int) -> str:
    """0–9999 in capital numerals, with 零 for inner gaps (e.g. 1005 → 壹仟零伍)."""
    out, zero = "", False
    for i in range(3, -1, -1):
        d = (n // 10**i) % 10
        if d == 0:
            zero = bool(out)
        else:
            if zero:
                out += "零"
                zero = False
            out += DIGITS[d] + UNITS[i]
    return out


def _integer(n: int) -> str:
    if n == 0:
        return "零"
    groups: list[int] = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out = ""
    for i in range(len(groups) - 1, -1, -1):
        g = groups[i]
        if g == 0:
            if out and not out.endswith("零"):
                out += "零"
            continue
        if out and g < 1000 and not out.endswith("零"):
            out += "零"
        out += _four(g) + SECTIONS[i]
    return out.rstrip("零")


def amount_in_words(amount: Decimal) -> str:
    """人民币大写: 12345.60 → 壹万贰仟叁佰肆拾伍元陆角整 (the form banks and courts use)."""
    if amount < 0:
        raise ValueError("negative amount")
    fen_total = int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    out = f"{_integer(yuan)}元" if yuan else ""
    if jiao:
        out += f"{DIGITS[jiao]}角"
    elif fen and yuan:
        out += "零"
    if fen:
        out += f"{DIGITS[fen]}分"
    if not fen:
        out += "整"
    return out if yuan or jiao or fen else "零元整"


def _party_line(cp: CaseParty) -> str:
    person = cp.person
    bits = [person.name]
    if person.gender:
        bits.append(person.gender)
    if person.birth_date:
        bits.append(f"{person.birth_date:%Y年%m月%d日}出生")
    if person.id_number_masked:
        bits.append(f"身份证号 {person.id_number_masked}")
    if person.address:
        bits.append(f"住 {person.address}")
    if person.phone_masked:
        bits.append(f"电话 {person.phone_masked}")
    return "，".join(bits)


def agreement_pdf(agreement: Agreement) -> bytes:
    """The agreement as PDF bytes."""
    mediation = agreement.mediation
    case = mediation.case
    st = _styles()
    parties = list(case.parties.select_related("person").order_by("role", "pk"))
    applicants = [p for p in parties if p.role in (PartyRole.APPLICANT, PartyRole.PARTY, PartyRole.REPRESENTATIVE)]
    respondents = [p for p in parties if p.role == PartyRole.RESPONDENT]
    thirds = [p for p in parties if p.role == PartyRole.THIRD]
    story: list = []
    title = "人民调解协议书" if agreement.is_signed else "人民调解协议书（草稿）"
    story.append(_p(title, st["title"]))
    story.append(_p(agreement.number if agreement.is_signed else f"受理编号 {case.tracking_no}", st["number"]))
    story.append(Spacer(1, 4 * mm))
    for label, group in (("申请人", applicants), ("被申请人", respondents), ("第三人", thirds)):
        for cp in group:
            story.append(_p(f"{label}：{_party_line(cp)}", st["body"]))
    story.append(_p("纠纷主要事实、争议事项：", st["h"]))
    story.append(_p(agreement.facts, st["indent"]))
    story.append(
        _p(
            f"经{mediation.committee.name}调解，双方当事人在平等协商、互谅互让的基础上自愿达成如下协议：",
            st["h"],
        )
    )
    for i, term in enumerate(agreement.term_lines, start=1):
        story.append(_p(f"{i}. {term}", st["indent"]))
    if agreement.amount is not None:
        story.append(
            _p(f"协议金额：人民币{amount_in_words(agreement.amount)}（¥{agreement.amount:,.2f}）。", st["body"])
        )
    due = f"{agreement.performance_due:%Y年%m月%d日}前" if agreement.performance_due else "协议签订时当场"
    way = agreement.performance_way or "按上述约定"
    story.append(_p(f"履行方式、时限：{way}，{due}履行完毕。", st["body"]))
    story.append(
        _p(
            f"本协议自各方当事人签名（盖章或按指印）、人民调解员签名并加盖人民调解委员会印章之日起生效。"
            f"本协议一式{_integer(agreement.copies)}份，当事人、人民调解委员会各执一份。",
            st["body"],
        )
    )
    story.append(
        _p(
            "《中华人民共和国人民调解法》第三十一条：经人民调解委员会调解达成的调解协议，具有法律约束力，"
            "当事人应当按照约定履行。第三十三条：双方当事人认为有必要的，可以自调解协议生效之日起三十日内"
            "共同向人民法院申请司法确认。",
            st["small"],
        )
    )
    story.append(Spacer(1, 8 * mm))
    rows = []
    signers = [("申请人（签名）", p.person.name) for p in applicants] + [
        ("被申请人（签名）", p.person.name) for p in respondents
    ] + [("第三人（签名）", p.person.name) for p in thirds]
    for label, name in signers:
        rows.append([_p(f"{label}：", st["body"]), _p(f"{name}  ________________", st["body"])])
    rows.append([_p("人民调解员（签名）：", st["body"]), _p(f"{mediation.mediator.name}  ________________", st["body"])])
    rows.append([_p("人民调解委员会（印章）：", st["body"]), _p(mediation.committee.name, st["body"])])
    signed = timezone.localtime(agreement.signed_at) if agreement.signed_at else None
    rows.append(
        [_p("日期：", st["body"]), _p(f"{signed:%Y年%m月%d日}" if signed else "____年__月__日", st["body"])]
    )
    table = Table(rows, colWidths=[55 * mm, 105 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))
    story.append(table)

    return build_a4(story, title=title, author=mediation.committee.name, subject=case.tracking_no)
