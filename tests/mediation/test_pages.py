"""The mediation pages: who sees what, the forms' messages, and the writes they make."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Status
from mediation.models import ConsentWay, Mediation, Outcome, ReferralKind
from mediation.services import (
    agreement_draft,
    mediation_assign,
    mediation_consent,
    mediation_sign,
    session_record,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def mediating(mw, make_dispute):
    m = mediation_assign(case=make_dispute(), by=mw.town_a_dispatcher, mediator=mw.mediator_b)
    return mediation_consent(mediation=m, by=mw.mediator_b.user, way=ConsentWay.APPLICATION)


def test_the_assignment_page_ranks_and_explains_then_assigns(mw, make_dispute, client_for):
    case = make_dispute()
    client = client_for(mw.town_a_dispatcher)
    page = client.get(reverse("mediation:assign", args=[case.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("周村调") < html.index("李调解") < html.index("钱首席")
    assert "擅长邻里纠纷；同村（社区）：东门社区" in html
    bad = client.post(reverse("mediation:assign", args=[case.pk]), {"mediator": "999999", "version": case.version})
    assert bad.status_code == 400 and "请从建议名单中选择调解员" in bad.content.decode()
    ok = client.post(
        reverse("mediation:assign", args=[case.pk]), {"mediator": mw.mediator_a.pk, "version": case.version}
    )
    assert ok.status_code == 302 and ok["Location"] == reverse("mediation:detail", args=[case.pk])
    m = Mediation.objects.get(pk=case.pk)
    assert m.mediator == mw.mediator_a and m.assignment_note.startswith("建议第 2 位")
    # The case page now leads to the mediation.
    assert "调解详情" in client.get(reverse("cases:detail", args=[case.pk])).content.decode()


def test_the_case_page_offers_mediation_to_the_dispatcher(mw, make_dispute, client_for):
    case = make_dispute()
    html = client_for(mw.town_a_dispatcher).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert reverse("mediation:assign", args=[case.pk]) in html


def test_outsiders_get_404_everywhere(mw, mediating, client_for):
    pk = mediating.pk
    outsider = client_for(mw.town_b_dispatcher)
    for name in ("detail", "assign", "session_new", "agreement", "agreement_pdf"):
        assert outsider.get(reverse(f"mediation:{name}", args=[pk])).status_code == 404, name
    assert outsider.post(reverse("mediation:act", args=[pk, "fail"]), {"reason": "x"}).status_code == 404
    other_mediator = client_for(mw.mediator_b2.user)
    assert other_mediator.get(reverse("mediation:detail", args=[pk])).status_code == 404


def test_the_mediator_outside_the_region_works_the_case_through_the_pages(mw, mediating, client_for):
    client = client_for(mw.mediator_b.user)  # town B's mediator on a town A case
    pk = mediating.pk
    assert client.get(reverse("cases:detail", args=[pk])).status_code == 200
    assert client.get(reverse("mediation:detail", args=[pk])).status_code == 200
    mine = client.get(reverse("mediation:mine")).content.decode()
    assert mediating.case.tracking_no in mine
    held = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    missing = client.post(reverse("mediation:session_new", args=[pk]), {"held_at": held, "result": "continue"})
    assert missing.status_code == 400 and "请填写调解笔录" in missing.content.decode()
    r = client.post(
        reverse("mediation:session_new", args=[pk]),
        {"held_at": held, "place": "调解室", "participants": "双方", "record": "笔录", "result": "continue",
         "version": Mediation.objects.get(pk=pk).case.version},
    )
    assert r.status_code == 302
    assert mediating.sessions.count() == 1


def test_a_stale_form_is_refused_and_nothing_changes(mw, mediating, client_for):
    client = client_for(mw.mediator_b.user)
    old = mediating.case.version
    session_record(mediation=mediating, by=mw.mediator_b.user, held_at=timezone.now(), place="p",
                   participants="q", record="r")
    r = client.post(
        reverse("mediation:act", args=[mediating.pk, "fail"]),
        {"fail-reason": "分歧大", "fail-route_on": "none", "fail-version": old},
    )
    assert r.status_code == 409 and "已被他人修改" in r.content.decode()
    assert Mediation.objects.get(pk=mediating.pk).outcome == Outcome.PENDING


def test_agreement_form_validates_and_signing_makes_the_pdf(mw, mediating, client_for):
    client = client_for(mw.mediator_b.user)
    pk = mediating.pk
    session_record(mediation=mediating, by=mw.mediator_b.user, held_at=timezone.now(), place="p",
                   participants="q", record="r")
    version = Mediation.objects.get(pk=pk).case.version
    bad = client.post(
        reverse("mediation:agreement", args=[pk]),
        {"facts": "事实", "terms": "", "copies": 3, "performance_due": "2000-01-01", "version": version},
    )
    assert bad.status_code == 400
    assert "履行期限不能早于今天" in bad.content.decode()
    due = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    ok = client.post(
        reverse("mediation:agreement", args=[pk]),
        {"facts": "事实", "terms": "赔偿 8000 元", "amount": "8000", "copies": 3, "performance_due": due,
         "beneficiaries": 0, "version": version},
    )
    assert ok.status_code == 302
    version = Mediation.objects.get(pk=pk).case.version
    r = client.post(reverse("mediation:act", args=[pk, "sign"]), {"sign-version": version})
    assert r.status_code == 302
    m = Mediation.objects.get(pk=pk)
    assert m.outcome == Outcome.SUCCESS and m.case.status == Status.RESOLVED
    pdf = client.get(reverse("mediation:agreement_pdf", args=[pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_the_lists_and_figures_pages(mw, mediating, client_for):
    session_record(mediation=mediating, by=mw.mediator_b.user, held_at=timezone.now(), place="p",
                   participants="q", record="r")
    agreement_draft(mediation=mediating, by=mw.mediator_b.user, facts="f", terms="t", amount=Decimal("1000"))
    mediation_sign(mediation=mediating, by=mw.mediator_b.user)
    county = client_for(mw.county_dispatcher)
    listing = county.get(reverse("mediation:list")).content.decode()
    assert mediating.case.tracking_no in listing
    assert mediating.case.tracking_no not in client_for(mw.town_b_dispatcher).get(reverse("mediation:list")).content.decode()
    committees = county.get(reverse("mediation:committees")).content.decode()
    assert "凤岭县劳动争议人民调解委员会" in committees and "吴调解" in committees
    figures = county.get(reverse("mediation:figures"), {"by": "mediator"})
    html = figures.content.decode()
    assert figures.status_code == 200 and "吴调解" in html and "100.0%" in html
    assert "1,000.00" in html
    bad = county.get(reverse("mediation:figures"), {"start": "2026-05-01", "end": "2026-01-01"})
    assert "结束日期不能早于开始日期" in bad.content.decode()


def test_the_court_registers_a_referral_and_sees_only_its_own(mw, client_for):
    client = client_for(mw.court_staff)
    page = client.get(reverse("mediation:referral_new"))
    assert page.status_code == 200 and "凤岭县人民法院" in page.content.decode()
    data = {
        "kind": ReferralKind.COURT, "referring_unit": mw.court.pk, "external_no": "（2026）湘0124民诉前调9号",
        "title": "租赁合同纠纷", "category": "other", "region": mw.village_a.pk, "people_count": 2,
        "applicant": "甲公司", "applicant_phone": "13800138002", "respondent": "乙", "respondent_phone": "12",
    }
    bad = client.post(reverse("mediation:referral_new"), data)
    assert bad.status_code == 400 and "电话号码" in bad.content.decode()
    data["respondent_phone"] = "13900139002"
    ok = client.post(reverse("mediation:referral_new"), data)
    assert ok.status_code == 302
    from mediation.models import Referral

    r = Referral.objects.get()
    assert r.case.owning_center == mw.village_a_center
    assert client.get(reverse("mediation:referral", args=[r.pk])).status_code == 200
    assert r.external_no in client.get(reverse("mediation:referrals")).content.decode()
    assert client_for(mw.town_b_dispatcher).get(reverse("mediation:referral", args=[r.pk])).status_code == 404
    assert client.get(reverse("cases:detail", args=[r.pk])).status_code == 404


def test_the_mediators_page_is_their_home(mw, client_for):
    client = client_for(mw.mediator_a.user)
    r = client.get("/", follow=True)
    assert r.redirect_chain and r.redirect_chain[-1][0] == reverse("mediation:mine")
    assert client_for(mw.town_b_dispatcher).get(reverse("mediation:mine")).status_code == 404
