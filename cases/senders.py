"""Pluggable outbound senders for SMS and email. The console sender logs instead of sending."""

from __future__ import annotations

import logging
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("zongzhi.notifications")


class Sender:
    def send(self, *, user, title: str, body: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleSender(Sender):
    sent: list[dict] = []  # the last messages, for operators and tests

    def send(self, *, user, title: str, body: str) -> None:
        log.info("SMS to %s (%s): %s — %s", user, getattr(user, "phone", ""), title, body)
        ConsoleSender.sent.append({"user_id": user.pk, "title": title, "body": body})
        del ConsoleSender.sent[:-1000]


@lru_cache(maxsize=4)
def get_sender(path: str | None = None) -> Sender:
    return import_string(path or settings.NOTIFICATION_SMS_SENDER)()
