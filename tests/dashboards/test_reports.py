"""日调度 / 周分析 / 月研判 / 季考评: pages, Excel and the monthly PDF hold the database's figures,
and a town leader's reports and exports hold only their town."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from cases import metrics, services
from cases.models import Case, CaseKind, Category, Channel, RevealLog, Satisfaction
from dashboards import safety
from tests.dashboards.conftest import owner, resolve_and_close

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(dw, register, refresh):
    """This month: town A has a red petition and labour disputes; town B a red casualty and a closed one."""
    a_red = register(
        region=dw.grid_a,
        kind=CaseKind.PETITION,
        channel=Channel.ONLINE,
        people_count=12,
        title="城关集体讨薪",
    )
    register(region=dw.grid_a, category=Category.LABOUR, title="城关工地欠薪")
    resolve_and_close(dw, register(region=dw.grid_a, category=Category.LABOUR, title="城关欠薪已化解"))
    b_red = register(region=dw.grid_b, has_casualty=True, category=Category.TRAFFIC, title="白沙交通伤人")
    resolve_and_close(dw, register(region=dw.grid_b, category=Category.FAMILY), Satisfaction.BASIC)
    refresh()
    safety.compute_current()
    return {"a_red": a_red, "b_red": b_red}


def sheet_text(content: bytes) -> str:
    wb = load_workbook(io.BytesIO(content), read_only=True)
    out = []
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            out.append(" ".join("" if v is None else str(v) for v in row))
    return "\n".join(out)


def test_daily_dispatch_lists_red_and_due_matters_by_owner(dw, month, client_for):
    c = client_for(dw.county_dispatcher)
    page = c.get(reverse("dashboards:report_daily"))
    html = page.content.decode()
    assert page.status_code == 200
    assert month["a_red"].tracking_no in html and month["b_red"].tracking_no in html
    assert "有人员伤亡" in html and "按责任单位汇总" in html
    xlsx = c.get(reverse("dashboards:report_daily"), {"format": "xlsx"})
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    text = sheet_text(xlsx.content)
    assert month["a_red"].tracking_no in text and month["b_red"].tracking_no in text
    assert RevealLog.objects.filter(what=RevealLog.What.EXPORT, user=dw.county_dispatcher).exists()


def test_town_leaders_reports_and_exports_hold_only_their_town(dw, month, client_for):
    c = client_for(dw.town_a_leader)
    for name in ("report_daily", "report_weekly", "report_monthly", "report_quarterly"):
        page = c.get(reverse(f"dashboards:{name}"))
        assert page.status_code == 200, name
        html = page.content.decode()
        assert "白沙" not in html, name
        text = sheet_text(c.get(reverse(f"dashboards:{name}"), {"format": "xlsx"}).content)
        assert "白沙" not in text and month["b_red"].tracking_no not in text, name
    assert month["a_red"].tracking_no in sheet_text(
        c.get(reverse("dashboards:report_daily"), {"format": "xlsx"}).content
    )
    pdf = c.get(reverse("dashboards:report_monthly"), {"format": "pdf"})
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "城关街道" in text and "白沙" not in text
    # The neighbour's reports: 404, like a place that does not exist.
    assert c.get(reverse("dashboards:report_monthly"), {"region": dw.town_b.pk}).status_code == 404
    # A village station has no reports.
    assert client_for(dw.village_a_worker).get(reverse("dashboards:report_daily")).status_code == 404


def test_monthly_judgement_figures_equal_the_base_tables_in_page_excel_and_pdf(dw, month, client_for):
    c = client_for(dw.county_leader)
    today = timezone.localdate()
    first = today.replace(day=1)
    period = metrics.Period.from_dates(first, today)
    base = Case.objects.aggregate(
        received=metrics.received_count(period=period),
        rate=metrics.resolution_rate(period=period),
        closed=metrics.closed_count(period=period),
        satisfaction=metrics.satisfaction_rate(period=period),
    )
    page = c.get(reverse("dashboards:report_monthly")).content.decode()
    assert f"<dt>受理</dt><dd>{base['received']}</dd>" in page
    assert f"<dt>化解率</dt><dd>{base['rate']:.1f}%</dd>" in page
    assert f"<dt>办结</dt><dd>{base['closed']}</dd>" in page
    assert f"<dt>满意率</dt><dd>{base['satisfaction']:.1f}%</dd>" in page
    assert "分乡镇排名" in page and "城关街道" in page and "白沙镇" in page and "高发村" in page
    text = sheet_text(c.get(reverse("dashboards:report_monthly"), {"format": "xlsx"}).content)
    assert f"受理 {base['received']}" in text and f"化解率 {base['rate']:.1f}%" in text
    pdf = c.get(reverse("dashboards:report_monthly"), {"format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    text = "".join(p.extract_text() for p in reader.pages)
    assert "社会矛盾风险月研判" in text and f"{base['rate']:.1f}%" in text and "白沙镇" in text
    # Only the month has a PDF.
    assert c.get(reverse("dashboards:report_weekly"), {"format": "pdf"}).status_code == 404


def test_weekly_analysis_and_quarterly_assessment_pages(dw, month, client_for):
    c = client_for(dw.county_leader)
    week = c.get(reverse("dashboards:report_weekly")).content.decode()
    assert "周分析" in week and "事项类别分布" in week and "劳动争议（欠薪）" in week
    quarter = c.get(reverse("dashboards:report_quarterly")).content.decode()
    assert "季度考评" in quarter and "考评得分" in quarter and "城关街道" in quarter and "白沙镇" in quarter


def test_bad_periods_get_a_clear_message(dw, client_for):
    c = client_for(dw.county_leader)
    r = c.get(reverse("dashboards:report_daily"), {"date": "2026-13-45"})
    assert r.status_code == 400 and "日期格式不正确" in r.content.decode()
    r = c.get(reverse("dashboards:report_monthly"), {"month": "上个月"})
    assert r.status_code == 400 and "月份格式不正确" in r.content.decode()
    r = c.get(reverse("dashboards:report_quarterly"), {"year": "2026", "quarter": "5"})
    assert r.status_code == 400 and "季度须为 1–4" in r.content.decode()


def test_a_closed_matter_counts_in_the_dispatch_list_no_more(dw, register, refresh, client_for):
    case = register(region=dw.grid_a, has_casualty=True, title="待调度伤人纠纷")
    refresh()
    c = client_for(dw.county_dispatcher)
    assert case.tracking_no in c.get(reverse("dashboards:report_daily")).content.decode()
    case = services.case_accept(case=case, by=owner(dw, case))
    resolve_and_close(dw, case)
    refresh()
    assert case.tracking_no not in c.get(reverse("dashboards:report_daily")).content.decode()
