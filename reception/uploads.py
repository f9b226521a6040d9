"""Photos and scans brought to the window: JPEG, PNG, WebP or PDF, checked on the content, not the name."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from centers.services import DomainError

KINDS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
ACCEPT = "image/jpeg,image/png,image/webp,application/pdf"


def kind_of(upload: Any) -> tuple[str, str] | None:
    """(extension, content type) read from the bytes, or None for anything else."""
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    if head == b"%PDF-":
        return "pdf", "application/pdf"
    try:
        with Image.open(upload) as image:
            fmt = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    finally:
        upload.seek(0)
    return KINDS.get(fmt or "")


def problem(upload: Any) -> str | None:
    """Why `upload` cannot be kept, in Chinese, or None."""
    limit = settings.UPLOAD_MAX_BYTES
    if upload.size == 0:
        return "文件是空的，请重新扫描。"
    if upload.size > limit:
        return f"文件不能超过 {limit // (1024 * 1024)} MB（当前 {upload.size / 1024 / 1024:.1f} MB）。"
    if kind_of(upload) is None:
        return "只能上传 JPG、PNG、WebP 照片或 PDF 扫描件。"
    return None


def checked(upload: Any) -> tuple[str, str]:
    """(fresh stored name, content type); what the scanner called the file never reaches the disk."""
    reason = problem(upload)
    if reason:
        raise DomainError(reason)
    ext, content_type = kind_of(upload)  # type: ignore[misc]
    return f"{uuid.uuid4().hex}.{ext}", content_type
