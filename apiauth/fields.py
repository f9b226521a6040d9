"""Serializer and filter fields shared by the API."""

from __future__ import annotations

import datetime as dt

import django_filters
from rest_framework import serializers


def to_utc(value: dt.datetime | None) -> dt.datetime | None:
    """An aware datetime in UTC. Python accepts offsets up to ±24 h, PostgreSQL only ±15:59, and a
    date at the edge of the calendar can leave it when moved to UTC: both are refused as bad input."""
    if value is None:
        return None
    try:
        return value.astimezone(dt.UTC)
    except (OverflowError, ValueError) as exc:
        raise serializers.ValidationError("时间超出范围。") from exc


class DateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value):
        return to_utc(super().to_internal_value(value))


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time filter that answers 400, not 500, for a time the database cannot hold."""

    def filter(self, qs, value):
        if value is not None:
            try:
                value = to_utc(value)
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({self.field_name: exc.detail}) from exc
        return super().filter(qs, value)
