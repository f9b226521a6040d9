"""ID numbers and phones typed at the window: validated with python-stdnum and phonenumbers.

18-digit 居民身份证号码 (GB 11643-1999): stdnum's `cn.ric` checks the checksum and the birth date.
The region prefix is checked against stdnum's table of county codes (`cn/loc`), with one deliberate
difference from `ric.validate`: stdnum also requires the county code to have existed in the
holder's *birth year*, but a number carries the code of the place where it was first issued
(1984 onwards), not where the holder was born, so a person born in 1950 and registered in 宁乡县
in 1990 rightly holds 430124… although that code dates from 1983. We accept any county code
stdnum knows, ever, and reject unknown prefixes.

15-digit numbers (first-generation cards, issued until 2004 and long expired) are CONVERTED, not
rejected: visitors still show them on old documents, and the conversion is fixed by GB 11643-1999
(insert the century 19 after the region code, append the check digit, computed by stdnum). The
converted number then passes the same checks, and the person is stored and found under the
18-digit number, so an old and a new card find the same person.
"""

from __future__ import annotations

import datetime as dt
import re

import phonenumbers
from django.utils import timezone
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from centers.services import DomainError


class InvalidNumber(DomainError):
    """A bad ID or phone number; the message says what is wrong, in Chinese."""


def convert_15_to_18(number: str) -> str:
    """The 18-digit form of a first-generation 15-digit number (born 1900–1999)."""
    body = number[:6] + "19" + number[6:]
    return body + ric.calc_check_digit(body + "0")


def _known_region(prefix: str) -> bool:
    info = {k: v for _part, props in numdb.get("cn/loc").info(prefix) for k, v in props.items()}
    return bool(info.get("county"))


def clean_id_number(value: str) -> str:
    """The validated 18-digit number, or InvalidNumber with a field-level Chinese message."""
    number = re.sub(r"[\s\-]", "", value or "").upper()
    if not number:
        raise InvalidNumber("请填写身份证号码。")
    if len(number) == 15:
        if not number.isdigit():
            raise InvalidNumber("15 位身份证号码应全部为数字。")
        number = convert_15_to_18(number)
    elif len(number) != 18:
        raise InvalidNumber(f"身份证号码应为 18 位（或旧版 15 位），您输入了 {len(number)} 位。")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidNumber("身份证号码前 17 位应为数字，最后一位为数字或 X。")
    try:
        if number[-1] != ric.calc_check_digit(number):
            raise InvalidNumber("身份证号码校验位不符，请核对是否输错某一位。")
        born = ric.get_birth_date(number)
    except StdnumError as exc:
        raise InvalidNumber(f"身份证号码中的出生日期 {number[6:14]} 不是有效日期。") from exc
    if born > timezone.localdate() or born < dt.date(1890, 1, 1):
        raise InvalidNumber(f"身份证号码中的出生日期 {born:%Y-%m-%d} 不合理。")
    if not _known_region(number[:6]):
        raise InvalidNumber(f"身份证号码前 6 位地区码 {number[:6]} 不存在。")
    return number


def clean_phone(value: str) -> str:
    """Digits as the case engine stores them: 13800138000 for a mobile, 073188886666 for a landline.

    Accepts +86 / 0086, spaces and dashes. InvalidNumber with a Chinese message otherwise.
    """
    raw = (value or "").strip()
    if not raw:
        raise InvalidNumber("请填写联系电话。")
    if raw.startswith("0086"):
        raw = "+86" + raw[4:]
    try:
        parsed = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber("电话号码格式不正确，请输入 11 位手机号或带区号的固定电话。") from exc
    if parsed.country_code != 86:
        raise InvalidNumber("只接受中国大陆的手机号或固定电话。")
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber("电话号码无效，请核对位数和号段（手机号 11 位，固话须带区号）。")
    national = str(parsed.national_number)
    if (
        phonenumbers.number_type(parsed)
        in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
        and len(national) == 11
        and national.startswith("1")
    ):
        return national
    return "0" + national
