"""Bad input (issue 10): script in free text is shown as text everywhere, oversized and malformed
requests get a clear Chinese answer and save nothing, uploads are served with safe headers."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.models import Case

SCRIPT = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def test_script_in_free_text_is_escaped_on_every_page_that_shows_it(cw, make_case, client_for):
    case = make_case(title=f"排水{SCRIPT}", description=SCRIPT)
    services.case_comment(case=case, by=cw.village_a_worker, text=SCRIPT)
    c = client_for(cw.village_a_worker)
    pages = [f"/cases/{case.pk}/", "/cases/queue/", f"/cases/?q={case.tracking_no}"]
    for url in pages:
        html = c.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;" in html, url
    audit = client_for(cw.county_leader).get("/cases/audit/").content.decode()
    assert "<script>alert" not in audit


def test_an_oversized_form_gets_a_chinese_400_and_saves_nothing(cw, client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    before = Case.objects.count()
    response = client_for(cw.village_a_worker).post(
        "/cases/new/", {"title": "很长的描述", "description": "字" * 20_000, "channel": "visit"}
    )
    assert response.status_code == 400
    assert "请求有误" in response.content.decode()
    assert Case.objects.count() == before


def test_too_many_fields_get_a_400(cw, client_for):
    data = {f"f{i}": "x" for i in range(2_100)}
    response = client_for(cw.village_a_worker).post("/cases/new/", data)
    assert response.status_code == 400 and "请求有误" in response.content.decode()


@pytest.mark.parametrize("query", ["created_from=2026-13-45", "created_from=明天", "created_from=2026-11-20&created_to=2026-11-01"])
def test_bad_dates_in_the_list_filter_get_a_field_message(cw, client_for, query):
    response = client_for(cw.county_dispatcher).get(f"/cases/?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert "有效的日期" in html or "不能早于" in html or "晚于" in html


def test_unknown_pages_answer_in_chinese(cw, client_for):
    response = client_for(cw.village_a_worker).get("/cases/999999999/")
    assert response.status_code == 404 and "未找到" in response.content.decode()


def test_an_uploaded_file_is_served_sandboxed(cw, make_case, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = make_case()
    pdf = SimpleUploadedFile("证据.pdf", b"%PDF-1.4\n<script>alert(1)</script>", content_type="application/pdf")
    att = services.attachment_add(case=case, by=cw.village_a_worker, file=pdf)
    response = client_for(cw.village_a_worker).get(f"/cases/{case.pk}/attachments/{att.pk}/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"
    # A renamed script is refused at upload.
    fake = SimpleUploadedFile("照片.jpg", b"<html><script>alert(1)</script>", content_type="image/jpeg")
    with pytest.raises(services.DomainError, match="文件内容与扩展名不符"):
        services.attachment_add(case=case, by=cw.village_a_worker, file=fake)
