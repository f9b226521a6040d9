"""In Chromium: a dispute from assignment through two sessions to a signed agreement PDF, and another
through a failed mediation to a litigation referral at the court."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from cases.models import Notification, Status
from mediation.models import Mediation, Outcome
from tests.conftest import sign_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def as_user(page: Page, live_server, user) -> None:
    page.context.clear_cookies()
    sign_in_browser(page, live_server, user)


def assign_from_the_case_page(page: Page, live_server, mw, case, mediator_name: str) -> None:
    as_user(page, live_server, mw.town_a_dispatcher)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.get_by_role("link", name="交人民调解（推荐调解员）").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("分派调解员")
    first = page.locator("#suggestions tbody tr").first
    expect(first).to_contain_text("周村调")
    expect(first.locator(".why")).to_contain_text("同村（社区）：东门社区")
    page.select_option("select[name=mediator]", label=mediator_name)
    page.get_by_role("button", name="确认交人民调解").click()
    expect(page.locator("#mediator")).to_contain_text(mediator_name.split("（")[0])


def consent_and_record(page: Page, live_server, mw, case, mediator, records: list[str]) -> None:
    as_user(page, live_server, mediator.user)
    page.goto(f"{live_server.url}/mediation/mine/")
    page.get_by_role("link", name=case.tracking_no).click()
    page.locator("#action-consent summary").click()
    page.select_option("#id_consent-way", "application")
    page.fill("#id_consent-note", "双方在调解申请书上签字")
    page.get_by_role("button", name="确认当事人同意调解").click()
    expect(page.locator("#consent")).to_contain_text("当事人书面申请")
    for i, text in enumerate(records, start=1):
        page.locator("#record-session").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"第 {i} 次调解")
        held = timezone.localtime() - dt.timedelta(hours=len(records) - i + 1)
        page.fill("#id_held_at", held.strftime("%Y-%m-%dT%H:%M"))
        page.fill("#id_record", text)
        page.select_option("#id_result", "agreed" if i == len(records) else "continue")
        page.get_by_role("button", name="保存调解记录").click()
        expect(page.locator(f"#session-{i}")).to_contain_text(text)


def test_assignment_two_sessions_and_a_signed_agreement_pdf(mw, make_dispute, live_server, browser_page: Page):
    page = browser_page
    case = make_dispute()
    assign_from_the_case_page(page, live_server, mw, case, "李调解（城关街道人民调解委员会）")
    consent_and_record(
        page, live_server, mw, case, mw.mediator_a,
        ["双方陈述事实，陈建军认可水管爆裂，但认为维修费过高。", "经释法说理，双方同意按 12000 元赔偿。"],
    )
    page.locator("#draft-agreement").click()
    page.fill("#id_terms", "陈建军赔偿王秀兰维修费人民币12000元\n陈建军于七日内更换破损水管")
    page.fill("#id_amount", "12000")
    page.fill("#id_performance_way", "银行转账")
    due = timezone.localdate() + dt.timedelta(days=7)
    page.fill("#id_performance_due", due.isoformat())
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator("#agreement")).to_contain_text("草稿")
    page.locator("#action-sign summary").click()
    page.get_by_role("button", name="确认签署调解协议").click()
    expect(page.locator("#case-status")).to_have_text("已化解（待回访）")
    expect(page.locator("#outcome")).to_have_text("调解成功")
    href = page.locator("#agreement-pdf").get_attribute("href")
    response = page.context.request.get(f"{live_server.url}{href}")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    text = text.replace("\n", "").replace(" ", "")
    m = Mediation.objects.select_related("agreement").get(pk=case.pk)
    assert m.outcome == Outcome.SUCCESS and m.sessions.count() == 2
    assert "人民调解协议书" in text and "草稿" not in text and m.agreement.number in text
    assert "申请人：王秀兰" in text and "被申请人：陈建军" in text
    assert "1.陈建军赔偿王秀兰维修费人民币12000元" in text and "2.陈建军于七日内更换破损水管" in text
    assert "人民币壹万贰仟元整（¥12,000.00）" in text
    assert f"银行转账，{due:%Y年%m月%d日}前履行完毕" in text
    assert "人民调解员（签名）：李调解" in text and "人民调解委员会（印章）：城关街道人民调解委员会" in text


def test_a_failed_mediation_is_referred_to_the_court_for_litigation(mw, make_dispute, live_server, browser_page: Page):
    page = browser_page
    case = make_dispute(title="宅基地边界纠纷")
    assign_from_the_case_page(page, live_server, mw, case, "周村调（东门社区人民调解委员会）")
    consent_and_record(page, live_server, mw, case, mw.mediator_village_a, ["双方对边界各执一词，分歧较大。"])
    page.locator("#action-fail summary").click()
    page.get_by_role("button", name="确认调解不成").click()  # nothing filled in: field-level messages
    expect(page.locator("#action-fail")).to_contain_text("请填写调解不成的原因")
    page.fill("#id_fail-reason", "双方对边界各执一词，被申请人拒绝继续调解")
    page.select_option("#id_fail-route_on", "litigation")
    page.select_option("#id_fail-unit", label="凤岭县人民法院")
    page.get_by_role("button", name="确认调解不成").click()
    expect(page.locator("#outcome")).to_have_text("调解不成")
    expect(page.locator("#h-med").locator("..")).to_contain_text("引导诉讼：移送 凤岭县人民法院")
    case.refresh_from_db()
    assert case.status == Status.ASSIGNED and case.owning_unit == mw.court and case.failed_mediations == 1
    # The court finds it in its queue and on its inbox.
    assert Notification.objects.filter(user=mw.court_staff, case=case, kind="mediation_routed").exists()
    as_user(page, live_server, mw.court_staff)
    page.goto(f"{live_server.url}/cases/queue/")
    page.get_by_role("link", name=case.tracking_no).click()
    expect(page.locator("#timeline")).to_contain_text("调解不成，引导诉讼：移送 凤岭县人民法院")
