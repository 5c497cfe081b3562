"""The donor's downloadable record (Charity Law Art 42): how one donation was managed and used.

The same facts twice: `record_data` (machine-readable, record.json) and
`record_pdf` (A4, for people). Donation facts, receipt number, project, every
use of the project since the donation was paid with its amount and log entry,
the donor's commitment, and how to check each entry in the public log without
trusting us. Nothing about any other person: uses name institutions or
categories, and the donor is shown as the project page shows them.

Labels are fixed Chinese with English beneath, like the receipt: the record is a
document the donor may hand to others, and must read the same in any UI language.
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from rendao.approvals.templatetags.approvals import fen_yuan
from rendao.feedback.models import UseKind
from rendao.feedback.selectors import DonationUses
from rendao.funds.receipts.pdf import _font

RECORD_VERSION = 1


def _at(value: Any) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def record_data(du: DonationUses) -> dict[str, Any]:
    """The record as plain JSON-ready data; amounts in integer fen."""
    donation, project = du.donation, du.project
    uses = [
        {
            "kind": u.kind,
            "amount_fen": u.amount_fen,
            "items": u.items,
            "recipient": u.recipient,
            "purpose": u.purpose,
            "ledger_index": u.ledger_index,
            "occurred_at": _at(u.occurred_at),
        }
        for u in du.uses
    ]
    money = sum(u.amount_fen for u in du.uses if u.kind == UseKind.MONEY)
    goods = sum(u.amount_fen for u in du.uses if u.kind != UseKind.MONEY)
    return {
        "version": RECORD_VERSION,
        "generated_at": _at(timezone.now()),
        "donation": {
            "out_trade_no": donation.out_trade_no,
            "amount_fen": donation.amount_fen,
            "refunded_fen": donation.refunded_fen,
            "status": donation.status,
            "paid_at": _at(donation.paid_at),
            "public_name": donation.public_name,
            "feedback_wanted": donation.feedback_wanted,
            "ledger_index": donation.ledger_index,
            "commitment": donation.commitment,
            "receipt_number": du.receipt.number if du.receipt is not None else None,
        },
        "project": {
            "id": project.pk,
            "title": project.title,
            "branch": project.branch.name,
            "filing_number": project.filing_number,
            "status": project.status,
        },
        "uses": uses,
        "uses_complete": not du.more,
        "uses_money_fen": money,
        "uses_goods_value_fen": goods,
        "project_totals": {
            "raised_fen": du.totals.raised_fen,
            "used_fen": du.totals.used_fen,
            "goods_value_fen": du.totals.goods_value_fen,
            "balance_fen": du.totals.balance_fen,
        },
        "verify": {
            "checkpoint_url": f"{settings.SITE_URL}/api/v1/ledger/checkpoint",
            "entry_url": f"{settings.SITE_URL}/api/v1/ledger/entries/{{index}}",
            "inclusion_proof_url": f"{settings.SITE_URL}/api/v1/ledger/proof/inclusion",
            "how": (
                "Each ledger_index is an entry of the public, signed log (RFC 6962). Fetch the entry, "
                "an inclusion proof for it and the signed checkpoint, and check them with any RFC 6962 "
                "verifier. Your donation's entry holds the commitment above: SHA-256 of 0x02, the salt "
                "printed on your receipt, and the order number."
            ),
        },
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def record_pdf(du: DonationUses) -> bytes:
    data = record_data(du)
    font = _font()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"Donation record {data['donation']['out_trade_no']}",
        invariant=True,
        initialFontName=font,
    )
    title = ParagraphStyle(
        "title", fontName=font, fontSize=16, leading=20, textColor=colors.HexColor("#b0171f")
    )
    text = ParagraphStyle("text", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    small = ParagraphStyle("small", fontName=font, fontSize=7.5, leading=10, wordWrap="CJK")

    def p(value: object, style: ParagraphStyle = text) -> Paragraph:
        return Paragraph(_escape(str(value)).replace("\n", "<br/>"), style)

    d, proj = data["donation"], data["project"]
    facts = [
        ("订单号\nOrder number", d["out_trade_no"]),
        ("金额\nAmount", fen_yuan(d["amount_fen"])),
        ("已退款\nRefunded", fen_yuan(d["refunded_fen"])),
        # The JSON keeps the exact instant; the printed record shows China time to the minute.
        ("付款时间\nPaid at", d["paid_at"][:16].replace("T", " ") if d["paid_at"] else "—"),
        ("公示名\nShown publicly as", d["public_name"]),
        ("票据号码\nReceipt number", d["receipt_number"] or "—"),
        ("捐赠项目\nProject", f"{proj['title']}（{proj['branch']}）"),
        ("备案编号\nFiling number", proj["filing_number"] or "—"),
        ("公开账本条目\nLedger entry", d["ledger_index"] if d["ledger_index"] is not None else "—"),
        ("承诺值\nCommitment", d["commitment"] or "—"),
    ]
    grid: list[Any] = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#b0171f")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    facts_table = Table([[p(k, small), p(v)] for k, v in facts], colWidths=[38 * mm, 142 * mm])
    facts_table.setStyle(TableStyle([*grid, ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#fbeeee"))]))

    head = [
        "日期\nDate",
        "用途\nPurpose",
        "受助机构/类别\nRecipient",
        "金额/物资\nAmount / items",
        "条目\nEntry",
    ]
    rows: list[list[Paragraph]] = [[p(h, small) for h in head]]
    for u in data["uses"]:
        amount = fen_yuan(u["amount_fen"])
        what = f"{u['items']}\n≈ {amount}" if u["kind"] != UseKind.MONEY and u["items"] else str(amount)
        rows.append(
            [
                p((u["occurred_at"] or "")[:10]),
                p(u["purpose"]),
                p(u["recipient"]),
                p(what),
                p(u["ledger_index"]),
            ]
        )
    if len(rows) == 1:
        rows.append([p("—"), p("尚无使用记录 No use recorded since your donation yet."), p(""), p(""), p("")])
    uses_table = Table(rows, colWidths=[22 * mm, 58 * mm, 42 * mm, 40 * mm, 18 * mm], repeatRows=1)
    uses_table.setStyle(TableStyle([*grid, ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#fbeeee"))]))

    totals = data["project_totals"]
    balance = fen_yuan(totals["balance_fen"]) if totals["balance_fen"] is not None else "—"
    story = [
        p("捐赠使用记录", title),
        p("Record of how your donation was managed and used (Charity Law Art 42)", small),
        Spacer(1, 4 * mm),
        facts_table,
        Spacer(1, 5 * mm),
        p(
            f"自您捐赠以来项目的使用 Uses of the project since your donation: "
            f"{fen_yuan(data['uses_money_fen'])} 资金 money, "
            f"{fen_yuan(data['uses_goods_value_fen'])} 物资估值 goods"
        ),
        Spacer(1, 2 * mm),
        uses_table,
        Spacer(1, 4 * mm),
        p(
            f"项目合计 Project totals: 筹得 raised {fen_yuan(totals['raised_fen'])} · "
            f"已拨付 paid out {fen_yuan(totals['used_fen'])} · 余额 balance {balance}"
        ),
        Spacer(1, 4 * mm),
        p("如何核验 How to verify", text),
        p(data["verify"]["how"], small),
        p(f"{data['verify']['checkpoint_url']} · {data['verify']['inclusion_proof_url']}", small),
        Spacer(1, 2 * mm),
        p(f"生成时间 Generated at {data['generated_at']}", small),
    ]
    if not data["uses_complete"]:
        story.insert(
            8, p("仅列出最近的使用 Only the most recent uses are listed; see the project page.", small)
        )
    doc.build(story)
    return buffer.getvalue()
