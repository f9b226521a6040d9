"""Issuing a petition document IS the transition it announces: the PDF is generated from the record
and stored with it, and its date is the legal date the clock starts or stops on."""

from __future__ import annotations

import io

import pytest
import time_machine
from pypdf import PdfReader

from cases.models import Status, TimelineEntry
from cases.services import DomainError
from petitions import services
from petitions.models import (
    Acceptance,
    AnswerOutcome,
    DocumentKind,
    Petition,
    PetitionDocument,
)

from .conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def travel(moment):
    return time_machine.travel(moment, tick=False)


def pdf_text(doc: PetitionDocument) -> str:
    with doc.file.open("rb") as f:
        data = f.read()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    return "".join(text.split())  # CJK extraction puts spaces at will: compare without any


def refresh(p: Petition) -> Petition:
    return Petition.objects.select_related("case").get(pk=p.pk)


def test_decline_notice_stops_the_acceptance_clock_on_its_date(pw, make_petition):
    with travel(at(2026, 3, 2, 9, 0)):
        p = make_petition()
    registered_due = p.case.due_at
    assert registered_due == at(2026, 3, 18, 0, 0)
    with travel(at(2026, 3, 10, 15, 30)):
        doc = services.petition_document_issue(
            petition=p, by=pw.county_dispatcher, kind=DocumentKind.DECLINE, reason="该事项已经法院判决终结"
        )
    p = refresh(p)
    case = p.case
    assert doc.issued_at == at(2026, 3, 10, 15, 30)
    assert case.status == Status.CLOSED and case.closed_at == doc.issued_at and case.due_at is None
    assert p.acceptance == Acceptance.DECLINED and p.decided_at == doc.issued_at
    assert case.closed_on_time is True
    step = TimelineEntry.objects.get(case=case, action="petition_decline")
    assert step.at == doc.issued_at and step.step_due_at == registered_due and step.met_deadline is True
    assert TimelineEntry.objects.filter(case=case, action="petition_document").exists()
    text = pdf_text(doc)
    assert "不予受理告知书" in text and doc.number in text and case.tracking_no in text
    assert "理由：该事项已经法院判决终结" in text
    assert "救济途径" in text and "30日内向本机关的上一级机关" in text
    assert "2026年03月10日" in text and "张三" in text


def test_a_late_decline_notice_is_recorded_late(pw, make_petition):
    with travel(at(2026, 3, 2, 9, 0)):
        p = make_petition()
    with travel(at(2026, 3, 20, 10, 0)):
        doc = services.petition_document_issue(
            petition=p,
            by=pw.county_dispatcher,
            kind=DocumentKind.DECLINE,
            reason="不属于信访事项",
            remedy="请向有关行政机关申请行政复议。",
        )
    case = refresh(p).case
    assert case.closed_on_time is False
    step = TimelineEntry.objects.get(case=case, action="petition_decline")
    assert step.met_deadline is False and step.late_seconds > 0
    assert "请向有关行政机关申请行政复议。" in pdf_text(doc)


def test_acceptance_notice_starts_the_60_days_from_its_date(pw, make_petition):
    with travel(at(2026, 3, 2, 9, 0)):
        p = make_petition()
    with travel(at(2026, 3, 4, 11, 0)):
        doc = services.petition_document_issue(
            petition=p, by=pw.county_dispatcher, kind=DocumentKind.ACCEPTANCE
        )
    p = refresh(p)
    assert p.case.status == Status.ACCEPTED and p.case.accepted_at == doc.issued_at == p.decided_at
    assert p.case.step_started_at == doc.issued_at
    text = pdf_text(doc)
    assert "受理告知书" in text and "2026年03月04日" in text and "60日内办结" in text


def test_litigation_notice_closes_the_petition_as_routed_to_court(pw, make_petition):
    with travel(at(2026, 3, 2, 9, 0)):
        p = make_petition()
    with travel(at(2026, 3, 3, 9, 0)):
        doc = services.petition_document_issue(
            petition=p,
            by=pw.county_dispatcher,
            kind=DocumentKind.LITIGATION,
            reason="属于劳动合同纠纷，应当依法诉讼",
        )
    p = refresh(p)
    assert p.case.status == Status.CLOSED and p.acceptance == Acceptance.LITIGATION
    assert TimelineEntry.objects.filter(case=p.case, action="petition_to_litigation").exists()
    text = pdf_text(doc)
    assert "诉访分离" in text and "人民法院提起诉讼" in text


def test_hand_over_answer_review_and_re_review_documents_follow_the_flow(pw, make_petition):
    by = pw.county_dispatcher
    with travel(at(2026, 3, 2, 9, 0)):
        p = make_petition()
        services.petition_document_issue(petition=p, by=by, kind=DocumentKind.ACCEPTANCE)
    with travel(at(2026, 3, 3, 9, 0)):
        hand = services.petition_document_issue(
            petition=refresh(p),
            by=by,
            kind=DocumentKind.HAND_OVER,
            unit=pw.hrss_bureau,
            reason="请核实欠薪情况",
        )
        assert refresh(p).case.owning_unit == pw.hrss_bureau
        assert "凤岭县人社局" in pdf_text(hand) and "转送交办单" in pdf_text(hand)
        services.petition_acknowledge(petition=refresh(p), by=pw.hrss_staff)
    with pytest.raises(DomainError, match="不能出具"):
        services.petition_document_issue(
            petition=refresh(p), by=by, kind=DocumentKind.REVIEW, reason="x", outcome=AnswerOutcome.SUPPORTED
        )
    with travel(at(2026, 4, 1, 9, 0)):
        answer = services.petition_document_issue(
            petition=refresh(p),
            by=pw.hrss_staff,
            kind=DocumentKind.ANSWER,
            reason="责令包工头十日内结清工资",
            outcome=AnswerOutcome.SUPPORTED,
        )
    p = refresh(p)
    assert p.answered_at == answer.issued_at == p.case.resolved_at and p.case.status == Status.RESOLVED
    assert "予以支持" in pdf_text(answer) and "请求原办理机关的上一级机关复查" in pdf_text(answer)
    with travel(at(2026, 4, 5, 9, 0)):
        services.petition_request_review(petition=p, by=by, reason="金额不对")
    with travel(at(2026, 4, 20, 9, 0)):
        review = services.petition_document_issue(
            petition=refresh(p),
            by=by,
            kind=DocumentKind.REVIEW,
            reason="维持原处理意见",
            outcome=AnswerOutcome.EXPLAINED,
        )
    assert refresh(p).reviewed_at == review.issued_at
    with travel(at(2026, 4, 22, 9, 0)):
        services.petition_request_re_review(petition=refresh(p), by=by, reason="仍不服")
    with travel(at(2026, 5, 6, 9, 0)):
        final = services.petition_document_issue(
            petition=refresh(p),
            by=by,
            kind=DocumentKind.RE_REVIEW,
            reason="维持复查意见",
            outcome=AnswerOutcome.EXPLAINED,
        )
    assert refresh(p).re_reviewed_at == final.issued_at
    assert "终结意见" in pdf_text(final)
    kinds = list(PetitionDocument.objects.filter(petition=p).values_list("kind", flat=True))
    assert kinds == ["acceptance", "hand_over", "answer", "review", "re_review"]


def test_an_illegal_issue_leaves_no_document_and_no_change(pw, make_petition):
    with travel(at(2026, 3, 2, 9, 0)):
        p = make_petition()
        services.petition_document_issue(petition=p, by=pw.county_dispatcher, kind=DocumentKind.ACCEPTANCE)
        with pytest.raises(DomainError):
            services.petition_document_issue(
                petition=refresh(p),
                by=pw.county_dispatcher,
                kind=DocumentKind.DECLINE,
                reason="迟来的不予受理",
            )
    assert list(PetitionDocument.objects.values_list("kind", flat=True)) == ["acceptance"]
    assert refresh(p).case.status == Status.ACCEPTED


def test_decline_page_needs_a_reason_and_outsiders_get_404(pw, make_petition, client_for):
    p = make_petition()
    c = client_for(pw.county_dispatcher)
    r = c.post(f"/petitions/{p.pk}/act/decline/", {"decline-comment": "", "decline-version": p.case.version})
    assert r.status_code == 400 and "该字段是必填项" in r.content.decode()
    assert not PetitionDocument.objects.exists()
    r = c.post(
        f"/petitions/{p.pk}/act/decline/", {"decline-comment": "重复信访", "decline-version": p.case.version}
    )
    assert r.status_code == 302
    doc = PetitionDocument.objects.get()
    body = c.get(f"/petitions/{p.pk}/").content.decode()
    assert doc.number in body
    r = c.get(f"/petitions/{p.pk}/issued/{doc.pk}.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert client_for(pw.outsider).get(f"/petitions/{p.pk}/issued/{doc.pk}.pdf").status_code == 404
