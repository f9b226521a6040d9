"""The regulation's documents (信访文书) as A4 PDFs, generated from the petition's record.

Layout of the petition bureaus' forms: the issuing organ and the title, the document number on
the right, the addressee (the petitioners, or the unit a 转送交办单 goes to), the body stating the
decision and its reason, the remedy the petitioner has (信访工作条例 第三十一、三十二、三十五、三十六条),
and the organ's name with the legal date and a seal line. The date printed is `issued_at`, the
same instant the transition it performed was recorded at.
"""

from __future__ import annotations

from django.utils import timezone
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from cases.pdf import build_a4, para, styles

from .models import DocumentKind, Petition, PetitionDocument, PetitionPolicy

# The number's kind code: 受 / 不受 / 诉 / 交 / 处 / 复查 / 复核.
CODES = {
    DocumentKind.ACCEPTANCE: "SL",
    DocumentKind.DECLINE: "BSL",
    DocumentKind.LITIGATION: "SS",
    DocumentKind.HAND_OVER: "JB",
    DocumentKind.ANSWER: "CL",
    DocumentKind.REVIEW: "FC",
    DocumentKind.RE_REVIEW: "FH",
}

DEFAULT_REMEDY = {
    DocumentKind.DECLINE: (
        "信访人对本不予受理决定有异议的，可以自收到本告知书之日起 30 日内向本机关的上一级机关反映；"
        "属于其他法定途径解决的，可以依法向有关机关提出。"
    ),
    DocumentKind.LITIGATION: (
        "您反映的事项依法应当通过诉讼程序解决，请依法向有管辖权的人民法院提起诉讼"
        "（可到综治中心法院窗口或诉讼服务中心咨询立案事宜）；符合条件的，可以申请法律援助。"
    ),
}


def _date(doc: PetitionDocument) -> str:
    return f"{timezone.localtime(doc.issued_at):%Y年%m月%d日}"


def _petitioners(p: Petition) -> str:
    case = p.case
    names = list(dict.fromkeys(cp.person.name for cp in case.parties.select_related("person").order_by("pk")))
    if not names and p.petitioner_id:
        names = [p.petitioner.name]
    text = "、".join(names) or "信访人"
    if case.people_count > 1 and len(names) < case.people_count:
        text += f"等 {case.people_count} 人"
    return text


def body_lines(doc: PetitionDocument, p: Petition) -> list[str]:
    """The document's paragraphs (also what the tests read back from the PDF)."""
    case = p.case
    policy = PetitionPolicy.current()
    came = f"{timezone.localtime(case.created_at):%Y年%m月%d日}"
    matter = f"“{case.title}”"
    kind = doc.kind
    if kind == DocumentKind.ACCEPTANCE:
        return [
            f"您（们）于 {came} 以{case.get_channel_display()}形式反映的{matter}一事，经审查，符合受理条件，"
            f"本机关于 {_date(doc)} 依法受理，将自受理之日起 60 日内办结；情况复杂的，经本机关负责人批准，"
            "可以适当延长办理期限，延长期限不超过 30 日，并告知延期理由。",
        ]
    if kind in (DocumentKind.DECLINE, DocumentKind.LITIGATION):
        lines = [f"您（们）于 {came} 反映的{matter}一事，经审查，本机关决定不予受理。", f"理由：{doc.reason}"]
        if kind == DocumentKind.LITIGATION:
            lines.append("依照诉访分离的规定，该事项导入诉讼程序解决，本信访事项不再按信访程序办理。")
        lines.append(f"救济途径：{doc.remedy}")
        return lines
    if kind == DocumentKind.HAND_OVER:
        return [
            f"现将 {case.tracking_no} 号信访事项{matter}转送你单位办理。",
            f"信访诉求：{p.request or case.description or case.title}",
            f"交办意见：{doc.reason}",
            "请于收到后及时签收，自受理之日起 60 日内依法办结，并将办理结果反馈本机关。",
        ]
    outcome = doc.get_outcome_display()
    if kind == DocumentKind.ANSWER:
        return [
            f"您（们）反映的{matter}一事，经调查核实，处理意见如下（{outcome}）：",
            doc.reason,
            f"如对本处理意见不服，可以自收到本意见书之日起 {policy.review_window_days} 日内"
            "请求原办理机关的上一级机关复查。",
        ]
    if kind == DocumentKind.REVIEW:
        return [
            f"您（们）对{matter}的处理意见不服请求复查一事，经复查，意见如下（{outcome}）：",
            doc.reason,
            f"如对本复查意见不服，可以自收到本意见书之日起 {policy.re_review_window_days} 日内"
            "向复查机关的上一级机关请求复核。",
        ]
    return [
        f"您（们）对{matter}的复查意见不服请求复核一事，经复核，意见如下（{outcome}）：",
        doc.reason,
        "本复核意见为终结意见。信访人对复核意见不服，仍然以同一事实和理由提出投诉请求的，"
        "信访部门和其他行政机关不再受理。",
    ]


def render(doc: PetitionDocument, p: Petition) -> bytes:
    st = styles()
    title = doc.get_kind_display()
    story: list = [
        para(doc.issuing_center.name, st["title"]),
        para(title, st["title"]),
        para(f"文号：{doc.number}", st["number"]),
        Spacer(1, 4 * mm),
    ]
    addressee = doc.unit.name if doc.kind == DocumentKind.HAND_OVER and doc.unit else _petitioners(p)
    story.append(para(f"{addressee}：", st["body"]))
    for line in body_lines(doc, p):
        story.append(para(line, st["indent"]))
    story.append(Spacer(1, 12 * mm))
    story.append(para(f"{doc.issuing_center.name}（印章）", st["right"]))
    story.append(para(_date(doc), st["right"]))
    story.append(Spacer(1, 8 * mm))
    story.append(para(f"受理编号：{p.case.tracking_no}　　经办人：{doc.issued_by.display_name}", st["small"]))
    return build_a4(
        story, title=f"{title} {doc.number}", author=doc.issuing_center.name, subject=p.case.tracking_no
    )
