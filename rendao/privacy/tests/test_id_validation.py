from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from stdnum.cn import ric

from rendao.privacy.validation import age_on, parse_id_number, parse_mobile

TODAY = dt.date(2026, 6, 1)


def valid(stem17: str) -> str:
    """`stem17` completed with its correct check character."""
    return stem17 + ric.calc_check_digit(stem17 + "0")


GOOD = valid("35020319900101123")  # 思明区, 1990-01-01, check character X


def refusal(raw: str, *, today: dt.date = TODAY) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        parse_id_number(raw, today=today)
    return caught.value


def test_a_valid_number_gives_birth_date_region_and_sex() -> None:
    parsed = parse_id_number(GOOD, today=TODAY)
    assert (parsed.number, parsed.birth_date, parsed.region_code, parsed.sex) == (
        "35020319900101123X",
        dt.date(1990, 1, 1),
        "350203",
        "M",
    )


@pytest.mark.parametrize(
    "spelling",
    [
        "35020319900101123x",
        " 35020319900101123X ",
        "350203 19900101 123X",
        "350203-19900101-123x",
        "350203　19900101123X",
    ],
)
def test_spaces_hyphens_and_a_lower_case_x_are_accepted(spelling: str) -> None:
    assert parse_id_number(spelling, today=TODAY).number == "35020319900101123X"


def test_a_wrong_check_digit_is_refused() -> None:
    assert refusal("350203199001011236").code == "id_checksum"


def test_a_birth_date_that_does_not_exist_is_refused() -> None:
    # 30 February 1990, with a correct check character: only the date is wrong.
    assert refusal(valid("35020319900230123")).code == "id_birth_date"


def test_a_birth_date_in_the_future_is_refused() -> None:
    assert refusal(valid("35020320260602001")).code == "id_birth_date"
    assert parse_id_number(valid("35020320260601001"), today=TODAY).birth_date == TODAY


def test_a_birth_date_before_any_living_person_is_refused() -> None:
    assert refusal(valid("35020318500101001")).code == "id_birth_date"


def test_an_unknown_region_is_refused() -> None:
    assert refusal(valid("99999919900101001")).code == "id_region"


def test_a_region_code_newer_than_the_birth_is_accepted() -> None:
    # 集美区 (350211) got its code in the 1980s; people born before then carry it too.
    assert parse_id_number(valid("35021119700101001"), today=TODAY).region_code == "350211"


def test_an_old_15_digit_number_is_refused_with_a_clear_message() -> None:
    with translation.override("en"):
        error = refusal("350203900101123")
    assert error.code == "id_old_format"
    assert "18-character" in error.messages[0]


@pytest.mark.parametrize(
    "raw", ["", "   ", "1234", "35020319900101123Y", "3502031990010112XX", "A50203199001011238", "9" * 41]
)
def test_malformed_input_is_refused_as_a_format_error(raw: str) -> None:
    assert refusal(raw).code == "id_format"


@pytest.mark.parametrize(
    "raw",
    [
        "350203199001011236",
        valid("35020319900230123"),
        valid("99999919900101001"),
        "350203900101123",
        "12345",
    ],
)
def test_errors_never_echo_the_number(raw: str) -> None:
    error = refusal(raw)
    for message in error.messages:
        assert raw not in message
        assert raw[:6] not in message


def test_errors_are_translated() -> None:
    with translation.override("zh-hans"):
        message = refusal("350203199001011236").messages[0]
    with translation.override("en"):
        english = refusal("350203199001011236").messages[0]
    assert english.startswith("The ID card number")
    # The catalogue is completed by the lead; until then the English msgid shows.
    assert message


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (dt.date(1990, 6, 1), dt.date(2026, 5, 31), 35),
        (dt.date(1990, 6, 1), dt.date(2026, 6, 1), 36),  # on the birthday
        (dt.date(2012, 2, 29), dt.date(2026, 2, 28), 13),  # leap-day birthday, common year
        (dt.date(2012, 2, 29), dt.date(2026, 3, 1), 14),
        (dt.date(2012, 2, 29), dt.date(2024, 2, 29), 12),
        (dt.date(2026, 6, 1), dt.date(2026, 6, 1), 0),
    ],
)
def test_age_is_counted_in_completed_years(birth: dt.date, day: dt.date, age: int) -> None:
    assert age_on(birth, day) == age


def test_age_comes_from_the_id_number() -> None:
    child = parse_id_number(valid("35021320120601006"), today=TODAY)
    assert child.sex == "F"
    assert child.age_on(dt.date(2026, 5, 31)) == 13
    assert child.age_on(dt.date(2026, 6, 1)) == 14


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
    ],
)
def test_a_mobile_number_is_normalised_to_e164(raw: str, e164: str) -> None:
    assert parse_mobile(raw) == e164


@pytest.mark.parametrize("raw", ["", "12345", "02188888888", "+14155552671", "1380013800", "x" * 40])
def test_other_numbers_are_not_mobile_numbers(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_mobile(raw)
    assert caught.value.code == "invalid_phone"
    assert all(raw not in m or not raw for m in caught.value.messages)
