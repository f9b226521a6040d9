"""Photos and evidence from the field: limited by type (checked on the content, not the name) and size."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from centers.services import DomainError

# Pillow format → (extension, content type). HEIC is not here: phones' browsers send JPEG.
IMAGE_FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
PDF = ("pdf", "application/pdf")


def max_bytes() -> int:
    return settings.UPLOAD_MAX_BYTES


def _too_big(upload: Any) -> str | None:
    if upload.size > max_bytes():
        return f"文件不能超过 {max_bytes() // (1024 * 1024)} MB（当前 {upload.size / 1024 / 1024:.1f} MB）。"
    if upload.size == 0:
        return "文件是空的，请重新选择。"
    return None


def _image_kind(upload: Any) -> tuple[str, str] | None:
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            fmt = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    finally:
        upload.seek(0)
    return IMAGE_FORMATS.get(fmt or "")


def _is_pdf(upload: Any) -> bool:
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    return head == b"%PDF-"


def photo_problem(upload: Any) -> str | None:
    """Why `upload` is not an acceptable photo, or None."""
    return _too_big(upload) or (None if _image_kind(upload) else "只能上传 JPG、PNG 或 WebP 格式的照片。")


def evidence_problem(upload: Any) -> str | None:
    """Why `upload` is not acceptable rectification evidence (a photo or a PDF), or None."""
    problem = _too_big(upload)
    if problem:
        return problem
    if _image_kind(upload) or _is_pdf(upload):
        return None
    return "整改佐证只能是 JPG、PNG、WebP 照片或 PDF 文件。"


def checked(upload: Any, *, allow_pdf: bool = False) -> tuple[str, str]:
    """(stored file name, content type) of an acceptable upload; DomainError otherwise."""
    problem = evidence_problem(upload) if allow_pdf else photo_problem(upload)
    if problem:
        raise DomainError(problem)
    kind = _image_kind(upload) or PDF
    ext, content_type = kind
    # A fresh name: what the phone called the file never reaches the file system.
    return f"{uuid.uuid4().hex}.{ext}", content_type
