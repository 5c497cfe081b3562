"""Drafting a disclosure from the data: numbers filled in, text ready to edit.

The figures come from `rendao.disclosure.figures`, the one module every public
number comes from, so a drafted disclosure says what the public pages say. The
text is a short template in the site's language (settings.LANGUAGE_CODE: the
disclosure is a public document, whatever language the drafter's pages are in);
staff edit it before submitting it for approval.

Project-level kinds use the project's figures; the annual report and audit (and
any disclosure without a project) use the branch's, its subtree included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from rendao.approvals.templatetags.approvals import fen_yuan
from rendao.core.scope import require_perm
from rendao.disclosure.figures import Figures, Period, as_disclosure_figures, branch_figures, project_figures
from rendao.disclosure.models import Disclosure, Kind
from rendao.disclosure.services import PERM, TITLE_MAX, disclosure_draft

if TYPE_CHECKING:
    from rendao.core.models import Branch, User
    from rendao.funds.models import FundraisingProject

BRANCH_KINDS = frozenset({Kind.ANNUAL_REPORT, Kind.ANNUAL_AUDIT})


@dataclass(frozen=True)
class Drafted:
    """What a new draft is prefilled with."""

    project: FundraisingProject | None
    title: str
    body: str
    figures: dict[str, int]


def _figures(
    branch: Branch, project: FundraisingProject | None, kind: str, period: Period
) -> tuple[FundraisingProject | None, Figures]:
    if kind in BRANCH_KINDS or project is None:
        return None, branch_figures(branch, period)
    return project, project_figures(project, period)


def _text(subject: str, kind: str, period: Period, figures: Figures) -> tuple[str, str]:
    values = {
        "subject": subject,
        "kind": Kind(kind).label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "count": figures.received_count,
        "received": fen_yuan(figures.received_fen),
        "refunded": fen_yuan(figures.refunded_fen),
        "net": fen_yuan(figures.net_income_fen),
        "paid_out": fen_yuan(figures.paid_out_fen),
        "reserved": fen_yuan(figures.reserved_fen),
        "balance": fen_yuan(figures.balance_fen),
        "goods_in": fen_yuan(figures.goods_received_value_fen),
        "goods_out": fen_yuan(figures.goods_issued_value_fen),
    }
    title = _("%(subject)s — %(kind)s %(start)s to %(end)s") % values
    paragraphs = [
        _(
            "From %(start)s to %(end)s, %(subject)s received %(received)s in %(count)s donations; "
            "%(refunded)s was refunded, leaving %(net)s."
        )
        % values,
        _("%(paid_out)s was paid out; %(reserved)s is approved but not yet paid. The balance is %(balance)s.")
        % values,
        _("Goods received were valued at %(goods_in)s; goods distributed at %(goods_out)s.") % values,
        _(
            "Every figure below is the sum of its published detail lines and can be checked "
            "against the transparency log."
        ),
    ]
    return title[:TITLE_MAX], "\n\n".join(paragraphs)


def drafted_content(
    *,
    branch: Branch,
    project: FundraisingProject | None,
    kind: str,
    period_start: date,
    period_end: date,
) -> Drafted:
    """Title, text and figures for a new draft, computed from the data (nothing saved)."""
    if kind not in Kind.values:
        raise ValidationError({"kind": _("Choose a kind of disclosure.")})
    if period_end < period_start:
        raise ValidationError({"period_end": _("The period cannot end before it starts.")})
    period = Period(start=period_start, end=period_end)
    subject_project, figures = _figures(branch, project, kind, period)
    subject = subject_project.title if subject_project is not None else branch.name
    with translation.override(settings.LANGUAGE_CODE):
        title, body = _text(subject, kind, period, figures)
    return Drafted(project=subject_project, title=title, body=body, figures=as_disclosure_figures(figures))


def draft_from_data(
    actor: User,
    branch: Branch,
    project: FundraisingProject | None,
    kind: str,
    period_start: date,
    period_end: date,
) -> Disclosure:
    """Create a draft whose title, text and figures are filled in from the data."""
    # Before reading any figures: an out-of-scope caller learns nothing from them.
    require_perm(actor, PERM, branch)
    drafted = drafted_content(
        branch=branch, project=project, kind=kind, period_start=period_start, period_end=period_end
    )
    return disclosure_draft(
        actor=actor,
        branch=branch,
        project=drafted.project,
        kind=kind,
        period_start=period_start,
        period_end=period_end,
        title=drafted.title,
        body=drafted.body,
        figures=drafted.figures,
    )
