"""The built-in donation receipt: one A5 landscape PDF page in the 公益事业捐赠票据 layout.

It carries the Charity Law Art 38 fields (donor or 爱心人士 for an anonymous donor, type
and amount of the property, project, organisation, who handled it, date), the receipt
number, the donor's commitment salt (donor's own copy only: with it the donor finds their
entry in the transparency log, docs/transparency.md) and a QR code to the public
verification page.

The labels are fixed Chinese with English beneath, not gettext strings: a receipt is a
legal document in China and must read the same whatever the viewer's UI language.

The font (Noto Sans CJK SC, SIL OFL 1.1, see README.md) ships in ``fonts/`` and is
embedded as a subset, so the PDF renders on any machine; reportlab's built-in CID fonts
(STSong-Light) are never used because they are not embedded.
"""

from __future__ import annotations

import datetime
import functools
import io
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import segno
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A5, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle

from rendao.funds.receipts.amounts import fen_to_capitals, fen_to_figures, validate_fen

FONT_NAME = "RendaoNotoSansSC"
FONT_PATH = Path(__file__).resolve().parent / "fonts" / "NotoSansSC-Regular.ttf"
ANONYMOUS_DONOR = "爱心人士（匿名）"
SALT_BYTES = 32
_TEXT_MAX = 200
# Printable characters only: a control character in a name would corrupt the layout.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


class PropertyKind(StrEnum):
    """Type of donated property (Art 38)."""

    MONEY = "money"
    GOODS = "goods"


_KIND_LABEL = {PropertyKind.MONEY: "货币资金 Money", PropertyKind.GOODS: "物资 Goods"}


@dataclass(frozen=True, slots=True)
class ReceiptData:
    """Everything printed on one receipt; build it from a donation, never from request data."""

    number: str
    issued_on: datetime.date
    organisation: str
    project: str
    handled_by: str
    amount_fen: int
    verification_url: str
    property_kind: PropertyKind = PropertyKind.MONEY
    # For goods: what and how many, e.g. "书包 600 个"; the amount is their assessed value.
    goods_description: str = ""
    donor_name: str = ""
    anonymous: bool = False
    # The donor waived a receipt (Red Cross Law Art 20): we still keep this record copy.
    waived: bool = False
    # Printed only on the donor's own copy; None on any other copy.
    commitment_salt: bytes | None = None


def _clean_text(value: str, *, required: bool, message: str, code: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if (required and not text) or len(text) > _TEXT_MAX or _CONTROL_RE.search(text):
        raise ValidationError(message, code=code)
    return text


def receipt_validate(data: ReceiptData) -> None:
    """Raise ValidationError (translated, with codes) if ``data`` cannot make a correct receipt."""
    from rendao.funds.receipts.numbering import receipt_number_parse

    validate_fen(data.amount_fen)
    receipt_number_parse(data.number)
    if not isinstance(data.issued_on, datetime.date):
        raise ValidationError(_("The receipt needs an issue date."), code="bad_date")
    _clean_text(
        data.organisation, required=True, message=_("Enter the organisation."), code="bad_organisation"
    )
    _clean_text(data.project, required=True, message=_("Enter the project."), code="bad_project")
    _clean_text(
        data.handled_by,
        required=True,
        message=_("Enter the staff member or channel that handled the donation."),
        code="bad_handled_by",
    )
    if data.anonymous and data.donor_name.strip():
        raise ValidationError(_("An anonymous receipt carries no donor name."), code="anonymous_with_name")
    _clean_text(
        data.donor_name, required=not data.anonymous, message=_("Enter the donor's name."), code="bad_donor"
    )
    if not isinstance(data.property_kind, PropertyKind):
        raise ValidationError(_("Unknown type of property."), code="bad_property_kind")
    _clean_text(
        data.goods_description,
        required=data.property_kind is PropertyKind.GOODS,
        message=_("Describe the donated goods and their quantity."),
        code="bad_goods_description",
    )
    if data.commitment_salt is not None:
        if data.waived:
            raise ValidationError(
                _("A waived receipt is not given to the donor, so it carries no commitment salt."),
                code="waived_with_salt",
            )
        if not isinstance(data.commitment_salt, bytes) or len(data.commitment_salt) != SALT_BYTES:
            raise ValidationError(_("The commitment salt must be 32 bytes."), code="bad_salt")
    try:
        URLValidator(schemes=["https", "http"])(data.verification_url)
    except ValidationError:
        raise ValidationError(_("The verification address is not a valid URL."), code="bad_url") from None


@functools.cache
def _font() -> str:
    # Parsed once per process (~21,700 glyphs); each PDF then embeds only the glyphs it uses.
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH)))
    return FONT_NAME


def verification_qr(url: str) -> segno.QRCode:
    """The QR code printed on the receipt; error level M survives a smudged print."""
    return segno.make_qr(url, error="m", boost_error=False)


def _draw_qr(canvas: Canvas, url: str, *, x: float, y: float, size: float) -> None:
    qr = verification_qr(url)
    rows = [list(row) for row in qr.matrix]
    quiet = 2
    count = len(rows) + 2 * quiet
    module = size / count
    canvas.setFillColor(colors.white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(colors.black)
    for r, row in enumerate(rows):
        c = 0
        # One rectangle per run of dark modules keeps the content stream small.
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            canvas.rect(
                x + (quiet + start) * module,
                y + size - (quiet + r + 1) * module,
                (c - start) * module,
                module,
                stroke=0,
                fill=1,
            )


def receipt_pdf(data: ReceiptData) -> bytes:
    """Render ``data`` as a PDF; raises ValidationError first if any field is wrong."""
    receipt_validate(data)
    font = _font()
    width, height = landscape(A5)
    buffer = io.BytesIO()
    # invariant: no creation timestamp or random ID, so the same receipt renders to the same bytes;
    # initialFontName: otherwise Helvetica (never embedded) is listed in the page resources.
    canvas = Canvas(
        buffer,
        pagesize=(width, height),
        invariant=True,
        pageCompression=1,
        initialFontName=font,  # type: ignore[arg-type]  # the stubs mistype it as a float
    )
    canvas.setTitle(f"Donation receipt {data.number}")
    canvas.setAuthor(data.organisation)
    red = colors.HexColor("#b0171f")

    canvas.setStrokeColor(red)
    canvas.setLineWidth(1.2)
    canvas.rect(8 * mm, 8 * mm, width - 16 * mm, height - 16 * mm)

    canvas.setFillColor(red)
    canvas.setFont(font, 18)
    canvas.drawCentredString(width / 2, height - 22 * mm, "公益事业捐赠票据（本会收据）")
    canvas.setFont(font, 8)
    canvas.drawCentredString(width / 2, height - 27 * mm, "Donation receipt")
    canvas.setFillColor(colors.black)
    canvas.setFont(font, 9)
    canvas.drawString(14 * mm, height - 34 * mm, f"票据号码 No. {data.number}")
    canvas.drawRightString(
        width - 14 * mm,
        height - 34 * mm,
        f"开票日期 Date {data.issued_on.year}年{data.issued_on.month:02d}月{data.issued_on.day:02d}日",
    )

    label = ParagraphStyle("label", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK")
    value = ParagraphStyle("value", fontName=font, fontSize=10, leading=13, wordWrap="CJK")

    def cell(text: str, style: ParagraphStyle) -> Paragraph:
        # Paragraph text is XML-ish markup: escape what a donor may type.
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return Paragraph(escaped.replace("\n", "<br/>"), style)

    donor = ANONYMOUS_DONOR if data.anonymous else data.donor_name.strip()
    kind = _KIND_LABEL[data.property_kind]
    if data.property_kind is PropertyKind.GOODS:
        kind = f"{kind}：{data.goods_description.strip()}"
    rows = [
        ("捐赠人\nDonor", donor),
        ("捐赠项目\nProject", data.project.strip()),
        ("财产类型\nProperty", kind),
        ("金额（小写）\nAmount", fen_to_figures(data.amount_fen)),
        ("人民币（大写）\nIn words", fen_to_capitals(data.amount_fen)),
        ("收款单位\nOrganisation", data.organisation.strip()),
        ("经办\nHandled by", data.handled_by.strip()),
    ]
    table_width = width - 28 * mm - 40 * mm
    table = Table(
        [[cell(k, label), cell(v, value)] for k, v in rows],
        colWidths=[30 * mm, table_width - 30 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                # Table cells default to Helvetica, which would be listed unembedded.
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("GRID", (0, 0), (-1, -1), 0.6, red),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#fbeeee")),
            ]
        )
    )
    _, table_height = table.wrapOn(canvas, table_width, height)
    table_top = height - 37 * mm
    table.drawOn(canvas, 14 * mm, table_top - table_height)

    qr_size = 34 * mm
    qr_x = width - 14 * mm - qr_size
    _draw_qr(canvas, data.verification_url, x=qr_x, y=table_top - qr_size, size=qr_size)
    canvas.setFont(font, 7)
    canvas.drawCentredString(qr_x + qr_size / 2, table_top - qr_size - 4 * mm, "扫码查验 Scan to verify")

    y = table_top - table_height - 6 * mm
    canvas.setFont(font, 7)
    canvas.drawString(14 * mm, y, f"查验地址 Verify at: {data.verification_url}")
    if data.commitment_salt is not None:
        y -= 4.5 * mm
        canvas.drawString(
            14 * mm, y, "承诺盐值 Commitment salt（仅本人联 donor's copy only，透明账本查询用）:"
        )
        y -= 4 * mm
        canvas.setFont(font, 6.5)
        canvas.drawString(14 * mm, y, data.commitment_salt.hex())
    if data.waived:
        canvas.saveState()
        canvas.setFillColor(red)
        canvas.setFont(font, 12)
        canvas.drawRightString(
            width - 14 * mm, 13 * mm, "捐赠人放弃索取票据 · 存根 Receipt waived — record copy"
        )
        canvas.restoreState()
    canvas.setFont(font, 6.5)
    canvas.setFillColor(colors.grey)
    canvas.drawString(14 * mm, 11 * mm, "本收据由本会出具；财政电子票据以省级财政票据平台开具为准。")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
