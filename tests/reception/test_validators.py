"""ID numbers and phones as the clerk types them."""

from __future__ import annotations

import pytest
from stdnum.cn import ric

from reception.validators import InvalidNumber, clean_id_number, clean_phone, convert_15_to_18
from tests.reception.conftest import idn


def test_valid_18_digit_number_passes_and_is_normalised():
    number = idn("19850312", "123")
    assert clean_id_number(number) == number
    assert clean_id_number(f" {number[:6]} {number[6:14]} {number[14:]} ") == number


def test_lowercase_x_check_digit_is_accepted():
    # Find a valid number whose check digit is X.
    number = next(
        idn("19850312", f"{s:03d}") for s in range(1000) if idn("19850312", f"{s:03d}").endswith("X")
    )
    assert clean_id_number(number.lower()) == number


def test_bad_checksum_is_rejected_in_chinese():
    number = idn()
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(InvalidNumber, match="校验位"):
        clean_id_number(wrong)


def test_bad_birth_date_is_rejected_even_with_a_right_checksum():
    body = "430124" + "19851302" + "123"  # month 13
    with pytest.raises(InvalidNumber, match="出生日期"):
        clean_id_number(body + ric.calc_check_digit(body + "0"))


def test_birth_date_in_the_future_is_rejected():
    with pytest.raises(InvalidNumber, match="不合理"):
        clean_id_number(idn("20990101"))


def test_unknown_region_prefix_is_rejected():
    with pytest.raises(InvalidNumber, match="地区码 430199"):
        clean_id_number(idn(prefix="430199"))


def test_a_retired_county_code_is_accepted_for_people_born_before_it_existed():
    # 430124 (宁乡县) existed 1983–2017; a person born in 1950 first issued a card there holds it.
    number = idn("19500101")
    assert not ric.is_valid(number)  # stdnum alone would reject it (birth year outside 1983–2017)
    assert clean_id_number(number) == number


def test_15_digit_legacy_number_is_converted_to_18_digits():
    legacy = "430124850312123"
    converted = clean_id_number(legacy)
    assert converted == idn("19850312", "123")
    assert convert_15_to_18(legacy) == converted
    assert ric.is_valid(converted)


def test_15_digit_number_with_a_bad_date_is_rejected():
    with pytest.raises(InvalidNumber, match="出生日期"):
        clean_id_number("430124851332123")


def test_wrong_length_says_how_many_digits_were_typed():
    with pytest.raises(InvalidNumber, match="您输入了 10 位"):
        clean_id_number("4301241985")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("0086-138-0013-8000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("0731-8888 6666", "073188886666"),
    ],
)
def test_phones_accept_plus86_spaces_and_landlines(typed, stored):
    assert clean_phone(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "1380013800", "+1 650 253 0000", "abc"])
def test_bad_phones_are_rejected_in_chinese(typed):
    with pytest.raises(InvalidNumber):
        clean_phone(typed)
