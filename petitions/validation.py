"""Checks of the personal numbers people type or import: one place for the form, the import and the API."""

from __future__ import annotations

import functools

import phonenumbers
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

from cases.crypto import normalize_id_number, normalize_phone


class Invalid(ValueError):
    """A value that cannot be stored; the message is Chinese and shown as it is."""


@functools.lru_cache(maxsize=4096)
def _known_region(prefix: str) -> bool:
    """A county code stdnum's table (`cn/loc`) knows, in any year.

    `ric.validate` also wants the code to have existed in the holder's *birth* year, but a number
    carries the code of the place that first issued it (1984 onwards): a person born in 1950 who
    got a card in 宁乡县 holds 430124… although that code dates from 1983. Such numbers are real.
    """
    info = {k: v for _part, props in numdb.get("cn/loc").info(prefix) for k, v in props.items()}
    return bool(info.get("county"))


def clean_id_number(value: str) -> str:
    """The normalized 18-digit resident ID number, or "" for blank (python-stdnum checks it)."""
    value = normalize_id_number(value or "")
    if not value:
        return ""
    try:
        number = ric.compact(value)
        if len(number) != 18:
            raise InvalidLength()
        if not number[:-1].isdigit() or not (number[-1].isdigit() or number[-1] == "X"):
            raise InvalidFormat()
        if number[-1] != ric.calc_check_digit(number):
            raise InvalidChecksum()
        ric.get_birth_date(number)
    except InvalidChecksum as exc:
        raise Invalid("身份证号码校验位不正确") from exc
    except InvalidLength as exc:
        raise Invalid("身份证号码应为 18 位") from exc
    except InvalidComponent as exc:
        raise Invalid("身份证号码中的出生日期无效") from exc
    except (InvalidFormat, ValidationError) as exc:
        raise Invalid("身份证号码格式不正确") from exc
    if not _known_region(number[:6]):
        raise Invalid(f"身份证号码前 6 位地区码 {number[:6]} 不存在")
    return number


def clean_phone(value: str) -> str:
    """Digits of a Chinese mobile or landline number without +86, or "" for blank."""
    digits = normalize_phone(value or "")
    if not digits:
        return ""
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException as exc:
        raise Invalid("电话号码格式不正确") from exc
    if not phonenumbers.is_valid_number(number):
        raise Invalid("电话号码无效（手机 11 位，固话须带区号）")
    return digits
