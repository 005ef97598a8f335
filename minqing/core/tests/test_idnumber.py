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
