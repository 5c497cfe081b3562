from __future__ import annotations

import dataclasses
import datetime
import io
from typing import Any

import pytest
import segno
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from rendao.funds.receipts.fiscal import IssuedStatus, LocalPdfIssuer
from rendao.funds.receipts.pdf import ANONYMOUS_DONOR, PropertyKind, ReceiptData, receipt_pdf, verification_qr

URL = "https://rendao.example.org/r/350203-2026-000123"
SALT = bytes(range(32))


def receipt(**changes: Any) -> ReceiptData:
    data = ReceiptData(
        number="350203-2026-000123",
        issued_on=datetime.date(2026, 3, 5),
        organisation="厦门市思明区红十字会",
        project="红十字爱心小书包",
        handled_by="微信支付（在线）",
        amount_fen=1_200_050,
        verification_url=URL,
        donor_name="陈美玲",
        commitment_salt=SALT,
    )
    return dataclasses.replace(data, **changes)


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def test_the_donor_copy_shows_every_art_38_field_the_salt_and_the_verification_url() -> None:
    text = text_of(receipt_pdf(receipt()))
    for expected in [
        "350203-2026-000123",
        "2026年03月05日",
        "陈美玲",
        "红十字爱心小书包",
        "货币资金",
        "¥12,000.50",
        "壹万贰仟元伍角整",
        "厦门市思明区红十字会",
        "微信支付（在线）",
        SALT.hex(),
        URL,
    ]:
        assert expected in text, expected


def test_every_font_in_the_receipt_is_embedded() -> None:
    reader = PdfReader(io.BytesIO(receipt_pdf(receipt())))
    # pypdf types nested objects loosely; the structure is fixed by the PDF spec.
    page: Any = reader.pages[0]
    fonts = page["/Resources"]["/Font"]
    assert fonts
    for ref in fonts.values():
        descriptor = ref.get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor
        assert len(descriptor["/FontFile2"].get_object().get_data()) > 1000


def test_an_anonymous_receipt_says_so_and_names_nobody() -> None:
    text = text_of(receipt_pdf(receipt(anonymous=True, donor_name="")))
    assert ANONYMOUS_DONOR in text
    assert "陈美玲" not in text


def test_a_copy_without_the_salt_does_not_print_one() -> None:
    text = text_of(receipt_pdf(receipt(commitment_salt=None)))
    assert SALT.hex() not in text
    assert "Commitment salt" not in text


def test_a_waived_receipt_is_marked_as_a_record_copy_without_the_salt() -> None:
    text = text_of(receipt_pdf(receipt(waived=True, commitment_salt=None)))
    assert "捐赠人放弃索取票据" in text
    assert "Commitment salt" not in text


def test_a_goods_receipt_shows_what_and_how_many() -> None:
    text = text_of(receipt_pdf(receipt(property_kind=PropertyKind.GOODS, goods_description="书包 600 个")))
    assert "物资" in text
    assert "书包 600 个" in text


def test_names_are_escaped_not_read_as_markup() -> None:
    text = text_of(receipt_pdf(receipt(project="<b>A & B</b>")))
    assert "<b>A & B</b>" in text


def test_the_same_receipt_renders_to_the_same_bytes() -> None:
    assert receipt_pdf(receipt()) == receipt_pdf(receipt())


def test_the_qr_code_encodes_the_verification_url() -> None:
    qr = verification_qr(URL)
    # No decoder here (zbar is not installed): the printed matrix must be exactly the
    # standard encoding of the URL, and differ from the encoding of any other URL.
    assert qr.matrix == segno.make_qr(URL, error="m", boost_error=False).matrix
    assert qr.matrix != verification_qr(URL + "4").matrix
    assert qr.error == "M"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"amount_fen": 0}, "amount_not_positive"),
        ({"amount_fen": -1}, "amount_not_positive"),
        ({"amount_fen": 12.5}, "amount_not_integer"),
        ({"number": "2026-123"}, "bad_receipt_number"),
        ({"donor_name": "  "}, "bad_donor"),
        ({"anonymous": True}, "anonymous_with_name"),
        ({"organisation": ""}, "bad_organisation"),
        ({"project": "x" * 201}, "bad_project"),
        ({"handled_by": "a\x00b"}, "bad_handled_by"),
        ({"property_kind": PropertyKind.GOODS}, "bad_goods_description"),
        ({"waived": True}, "waived_with_salt"),
        ({"commitment_salt": b"short"}, "bad_salt"),
        ({"verification_url": "javascript:alert(1)"}, "bad_url"),
    ],
)
def test_it_refuses_bad_receipts_with_a_clear_error(changes: dict[str, Any], code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        receipt_pdf(receipt(**changes))
    assert caught.value.code == code
    assert caught.value.messages[0]


def test_the_local_issuer_issues_voids_and_queries_without_any_platform() -> None:
    issuer = LocalPdfIssuer()
    issued = issuer.issue(receipt())
    assert issued.status is IssuedStatus.ISSUED
    assert issued.pdf == b""  # rendered on demand, from the same fields
    assert issuer.render(receipt()).startswith(b"%PDF-")
    assert issued.number == "350203-2026-000123"
    assert issued.verification_url == URL
    voided = issuer.void(issued, reason="full refund")
    assert issuer.query(voided) is IssuedStatus.VOIDED
    assert issuer.query(issued) is IssuedStatus.ISSUED
