from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from rendao.funds.receipts.numbering import (
    SERIAL_MAX,
    ReceiptNumber,
    receipt_number_allocate,
    receipt_number_parse,
)


class FakeCounter:
    """In-memory stand-in for the row-locked counter model; records the calls it gets."""

    def __init__(self, start: dict[tuple[str, int], int] | None = None) -> None:
        self.rows: dict[tuple[str, int], int] = dict(start or {})
        self.calls: list[str] = []

    def lock_last(self, *, branch_code: str, year: int) -> int:
        self.calls.append(f"lock {branch_code}/{year}")
        return self.rows.get((branch_code, year), 0)

    def store_last(self, *, branch_code: str, year: int, serial: int) -> None:
        self.calls.append(f"store {branch_code}/{year}={serial}")
        self.rows[(branch_code, year)] = serial


def test_it_numbers_gaplessly_per_branch_and_per_year() -> None:
    counter = FakeCounter()
    issued = [
        str(receipt_number_allocate(counter=counter, branch_code=branch, year=year))
        for branch, year in [
            ("350203", 2026),
            ("350203", 2026),
            ("350206", 2026),
            ("350203", 2027),
            ("350203", 2026),
        ]
    ]
    assert issued == [
        "350203-2026-000001",
        "350203-2026-000002",
        "350206-2026-000001",
        "350203-2027-000001",
        "350203-2026-000003",
    ]


def test_it_locks_the_counter_before_storing_the_next_serial() -> None:
    counter = FakeCounter({("350203", 2026): 122})
    number = receipt_number_allocate(counter=counter, branch_code="350203", year=2026)
    assert number == ReceiptNumber("350203", 2026, 123)
    assert counter.calls == ["lock 350203/2026", "store 350203/2026=123"]


def test_it_refuses_a_serial_past_the_last_one_and_stores_nothing() -> None:
    counter = FakeCounter({("350203", 2026): SERIAL_MAX})
    with pytest.raises(ValidationError) as caught:
        receipt_number_allocate(counter=counter, branch_code="350203", year=2026)
    assert caught.value.code == "serials_exhausted"
    assert counter.rows == {("350203", 2026): SERIAL_MAX}
    assert counter.calls == ["lock 350203/2026"]


@pytest.mark.parametrize(
    ("branch", "year", "code"),
    [
        ("3502", 2026, "bad_branch_code"),
        ("３５０２０３", 2026, "bad_branch_code"),
        ("350203", 1999, "bad_year"),
    ],
)
def test_it_refuses_a_bad_branch_or_year_before_touching_the_counter(
    branch: str, year: int, code: str
) -> None:
    counter = FakeCounter()
    with pytest.raises(ValidationError) as caught:
        receipt_number_allocate(counter=counter, branch_code=branch, year=year)
    assert caught.value.code == code
    assert counter.calls == []


def test_it_parses_what_it_formats() -> None:
    number = ReceiptNumber("350203", 2026, 123)
    assert str(number) == "350203-2026-000123"
    assert receipt_number_parse(" 350203-2026-000123\n") == number


@pytest.mark.parametrize(
    "text",
    [
        "",
        "350203-2026-123",
        "350203-2026-0001234",
        "35020-2026-000123",
        "350203/2026/000123",
        "350203-2026-000000",
        "350203-1999-000001",
        "３５０２０３-2026-000123",
        "350203-2026-000123x",
    ],
)
def test_it_refuses_malformed_receipt_numbers(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        receipt_number_parse(text)
    assert caught.value.code in {"bad_receipt_number", "bad_year"}
