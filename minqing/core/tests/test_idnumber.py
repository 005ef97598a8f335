import datetime

import pytest

from minqing.core.idnumber import (
    ERR_ID_CHECK,
    ERR_ID_LENGTH,
    IdNumberError,
    check_character,
    make_id_number,
    parse_id_number,
)


def test_it_accepts_the_reference_examples_and_derives_birth_and_sex():
    a = parse_id_number("11010519491231002X")
    assert (a.birth_date, a.sex, a.legacy) == (datetime.date(1949, 12, 31), "F", False)
    b = parse_id_number("440524188001010014")
    assert (b.birth_date, b.sex) == (datetime.date(1880, 1, 1), "M")


def test_it_normalises_a_lower_case_x_and_spaces():
    assert parse_id_number(" 11010519491231002x ").number == "11010519491231002X"


def test_it_rejects_a_wrong_check_character_and_names_the_right_one():
    with pytest.raises(IdNumberError) as exc:
        parse_id_number("110105194912310021")
    assert str(exc.value) == ERR_ID_CHECK.format(expected="X")


@pytest.mark.parametrize("raw", ["", "123", "1101051949123100", "11010519491231002XX"])
def test_it_rejects_wrong_lengths(raw):
    with pytest.raises(IdNumberError) as exc:
        parse_id_number(raw)
    assert str(exc.value) == ERR_ID_LENGTH


@pytest.mark.parametrize("raw", ["11010519491331002X", "1101051949123A002X", "X10105194912310020"])
def test_it_rejects_bad_dates_and_characters(raw):
    with pytest.raises(IdNumberError):
        parse_id_number(raw)


def test_it_rejects_a_birth_date_in_the_future():
    number = make_id_number("110105", datetime.date(2030, 1, 1), 11)
    with pytest.raises(IdNumberError):
        parse_id_number(number, today=datetime.date(2026, 11, 26))


def test_it_accepts_and_flags_a_legacy_15_digit_number():
    parsed = parse_id_number("110105491231002")
    assert parsed.legacy is True
    assert parsed.birth_date == datetime.date(1949, 12, 31)
    assert parsed.sex == "F"


def test_check_character_follows_iso_7064():
    assert check_character("11010519491231002") == "X"
    assert check_character("44052418800101001") == "4"


@pytest.mark.parametrize("area", ["990101", "000000", "100105", "200101", "680101", "720101"])
def test_it_rejects_a_number_whose_first_two_digits_are_no_province(area):
    raw = make_id_number(area, datetime.date(1980, 1, 1), 11)  # the check character fits
    with pytest.raises(IdNumberError, match=f"前两位 {area[:2]} 不是省级行政区划代码"):
        parse_id_number(raw)
    with pytest.raises(IdNumberError, match="省级行政区划"):
        parse_id_number(area + "800101011")  # nor does a legacy one


@pytest.mark.parametrize("area", ["110105", "330188", "650102", "810000", "820000", "830000"])
def test_it_accepts_every_province_and_the_residence_permits(area):
    assert parse_id_number(make_id_number(area, datetime.date(1980, 1, 1), 11)).area_code == area


def test_it_accepts_a_foreigners_permanent_residence_number_starting_with_9():
    raw = make_id_number("931156", datetime.date(1990, 5, 4), 12)  # 2023 card: 9, province, country
    assert parse_id_number(raw).sex == "F"


def test_full_width_digits_from_an_input_method_are_read_as_digits():
    raw = "１１０１０５１９４９１２３１００２Ｘ"
    assert parse_id_number(raw).number == "11010519491231002X"
    assert parse_id_number("１１０１０５　１９４９１２３１００２ｘ").number == "11010519491231002X"
