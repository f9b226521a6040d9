"""The agreement PDF: standard layout, CJK text, the amount in capital letters."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from mediation.models import ConsentWay
from mediation.pdf import agreement_pdf, amount_in_words
from mediation.services import (
    agreement_draft,
    mediation_assign,
    mediation_consent,
    mediation_sign,
    session_record,
)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("0", "零元整"),
        ("8000", "捌仟元整"),
        ("10005", "壹万零伍元整"),
        ("12345.60", "壹万贰仟叁佰肆拾伍元陆角整"),
        ("10.05", "壹拾元零伍分"),
        ("21660000", "贰仟壹佰陆拾陆万元整"),
        ("100000000.01", "壹亿元零壹分"),
        ("1000001", "壹佰万零壹元整"),
    ],
)
def test_amount_in_capital_letters(value, words):
    assert amount_in_words(Decimal(value)) == words


def text_of(data: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).replace("\n", "").replace(" ", "")


@pytest.mark.django_db
def test_the_signed_agreement_has_parties_terms_amount_deadline_and_signature_lines(mw, make_dispute):
    case = make_dispute()
    m = mediation_assign(case=case, by=mw.town_a_dispatcher, mediator=mw.mediator_a)
    m = mediation_consent(mediation=m, by=mw.mediator_a.user, way=ConsentWay.APPLICATION)
    session_record(mediation=m, by=mw.mediator_a.user, held_at=timezone.now(), place="调解室", participants="双方",
                   record="笔录")
    due = timezone.localdate() + dt.timedelta(days=15)
    agreement_draft(
        mediation=m, by=mw.mediator_a.user, facts="5楼水管爆裂致4楼天花板受损。",
        terms="陈建军赔偿王秀兰维修费12345.60元\n陈建军负责更换破损水管", amount=Decimal("12345.60"),
        performance_way="微信转账", performance_due=due,
    )
    draft = text_of(agreement_pdf(m.agreement))
    assert "人民调解协议书（草稿）" in draft
    m = mediation_sign(mediation=m, by=mw.mediator_a.user)
    text = text_of(agreement_pdf(m.agreement))
    assert "人民调解协议书" in text and "草稿" not in text
    assert m.agreement.number in text
    assert "申请人：王秀兰" in text and "被申请人：陈建军" in text
    assert "4301**********4565" in text or "430124********4565" in text  # masked ID only
    assert "5楼水管爆裂致4楼天花板受损" in text
    assert "经城关街道人民调解委员会调解" in text
    assert "1.陈建军赔偿王秀兰维修费12345.60元" in text and "2.陈建军负责更换破损水管" in text
    assert "人民币壹万贰仟叁佰肆拾伍元陆角整（¥12,345.60）" in text
    assert f"{due:%Y年%m月%d日}前" in text and "微信转账" in text
    assert "人民调解员（签名）：李调解" in text and "人民调解委员会（印章）：城关街道人民调解委员会" in text
    assert "第三十三条" in text
