"""The share poster of a project: an SVG with its title, progress and a QR code.

Built by hand rather than from a template so that every piece of text goes
through one XML escape (titles are typed by staff and partners' names come from
outside). The QR code is drawn as one path from segno's module matrix, so the
poster is a single self-contained file that WeChat's "save image" keeps whole.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

import segno
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from rendao.approvals.templatetags.approvals import fen_yuan
from rendao.funds.models import CoInitiator, FundraisingProject
from rendao.funds.selectors import progress_percent

WIDTH = 600
HEIGHT = 900
# Characters per title line; CJK glyphs are about one em wide at this size.
TITLE_LINE = 14
TITLE_LINES = 3
QR_SIZE = 260
QR_QUIET = 2


def poster_target_url(project: FundraisingProject, co_initiator: CoInitiator | None = None) -> str:
    """The absolute URL the poster's QR code opens: the project page, with the partner's code."""
    url = f"{settings.SITE_URL}{reverse('funds:give_project', kwargs={'pk': project.pk})}"
    if co_initiator is not None:
        url += f"?c={co_initiator.attribution_code}"
    return url


def poster_qr(url: str) -> segno.QRCode:
    # Level M survives a poster printed small or photographed at an angle.
    return segno.make_qr(url, error="m", boost_error=False)


def qr_path(qr: segno.QRCode) -> str:
    """The dark modules as one SVG path in module units (one rectangle per run)."""
    parts: list[str] = []
    for r, row in enumerate(qr.matrix):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            parts.append(f"M{start + QR_QUIET} {r + QR_QUIET}h{c - start}v1h-{c - start}z")
    return "".join(parts)


def _lines(text: str, width: int, count: int) -> list[str]:
    chunks = [text[i : i + width] for i in range(0, len(text), width)] or [""]
    if len(chunks) > count:
        chunks = chunks[:count]
        chunks[-1] = chunks[-1][: width - 1] + "…"
    return chunks


def _text(x: int, y: int, text: str, *, size: int, fill: str = "#000", weight: str = "normal") -> str:
    return (
        f'<text x="{x}" y="{y}" font-size="{size}" font-weight="{weight}" fill="{fill}" '
        f'text-anchor="middle">{escape(text)}</text>'
    )


def poster_svg(project: FundraisingProject, co_initiator: CoInitiator | None = None) -> str:
    """The poster as an SVG document (every text escaped)."""
    percent = progress_percent(project.raised_fen, project.target_fen)
    qr = poster_qr(poster_target_url(project, co_initiator))
    modules = qr.symbol_size(border=QR_QUIET)[0]
    bar_x, bar_w = 60, WIDTH - 120
    filled = bar_w * percent // 100
    title = _lines(project.title, TITLE_LINE, TITLE_LINES)
    label = _("Share poster: %(title)s") % {"title": project.title}
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label={quoteattr(label)} '
        'font-family="PingFang SC, Hiragino Sans GB, Microsoft YaHei, Noto Sans CJK SC, sans-serif">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
        f'<rect width="{WIDTH}" height="120" fill="#c8102e"/>',
        # The Red Cross emblem: a red cross on white.
        '<rect x="40" y="30" width="60" height="60" fill="#fff"/>',
        '<path d="M62 38h16v14h14v16h-14v14h-16v-14h-14v-16h14z" fill="#c8102e"/>',
        f'<text x="120" y="72" font-size="30" font-weight="bold" fill="#fff">'
        f"{escape(project.branch.name)}</text>",
    ]
    y = 190
    for line in title:
        out.append(_text(WIDTH // 2, y, line, size=38, weight="bold"))
        y += 52
    y += 10
    out.append(f'<rect x="{bar_x}" y="{y}" width="{bar_w}" height="16" rx="8" fill="#eee"/>')
    if filled:
        out.append(f'<rect x="{bar_x}" y="{y}" width="{filled}" height="16" rx="8" fill="#c8102e"/>')
    y += 50
    raised = _("Raised %(raised)s of %(target)s (%(percent)d%%)") % {
        "raised": fen_yuan(project.raised_fen),
        "target": fen_yuan(project.target_fen),
        "percent": percent,
    }
    out.append(_text(WIDTH // 2, y, raised, size=22, fill="#333"))
    y += 36
    gifts = _("%(count)d donations") % {"count": project.donation_count}
    out.append(_text(WIDTH // 2, y, gifts, size=20, fill="#666"))
    qr_x = (WIDTH - QR_SIZE) // 2
    qr_y = HEIGHT - QR_SIZE - 150
    out.append(
        f'<svg x="{qr_x}" y="{qr_y}" width="{QR_SIZE}" height="{QR_SIZE}" '
        f'viewBox="0 0 {modules} {modules}" shape-rendering="crispEdges">'
        f'<rect width="{modules}" height="{modules}" fill="#fff"/>'
        f'<path d="{qr_path(qr)}" fill="#000"/></svg>'
    )
    out.append(_text(WIDTH // 2, HEIGHT - 100, _("Scan to see the project and give"), size=24, fill="#333"))
    if co_initiator is not None:
        shared = _("Shared by %(organisation)s") % {"organisation": co_initiator.organisation_name}
        out.append(_text(WIDTH // 2, HEIGHT - 62, shared, size=20, fill="#666"))
    if project.filing_number:
        filing = _("Filing number %(number)s") % {"number": project.filing_number}
        out.append(_text(WIDTH // 2, HEIGHT - 28, filing, size=18, fill="#999"))
    out.append("</svg>")
    return "\n".join(out)
