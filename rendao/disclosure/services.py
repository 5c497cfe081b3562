"""Drafting, publishing and correcting disclosures.

Lifecycle: draft → published. A published version is frozen (the database
refuses to change it); a correction is a new draft version of the same series
(`corrects` = the published version, with a note), published in turn. The older
version stays published and visible; the newest published version is current.

Publishing appends one "disclosure_published" leaf to the transparency log in
the same transaction, carrying a SHA-256 of the canonical title, body and
figures, so anyone holding the published text can check it against the log.

Permission: Perm.FINANCE_MANAGE at the disclosure's branch for every write.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rendao.core.audit import audit_record
from rendao.core.permissions import Perm
from rendao.core.scope import require_perm
from rendao.disclosure.models import Disclosure, DisclosureStatus, Kind
from rendao.ledger.services import ledger_append

if TYPE_CHECKING:
    from rendao.core.models import Branch, User
    from rendao.funds.models import FundraisingProject

PERM = Perm.FINANCE_MANAGE
TITLE_MAX = 200
BODY_MAX = 20000
NOTE_MAX = 2000
FIGURES_MAX = 100
LABEL_MAX = 100
# 10 billion yuan in fen: far above any figure we publish; a typo guard.
MAX_FIGURE_FEN = 1_000_000_000_000

TRANSITIONS: dict[tuple[DisclosureStatus, DisclosureStatus], str] = {
    (DisclosureStatus.DRAFT, DisclosureStatus.PUBLISHED): "staff",
}


def content_hash(*, title: str, body: str, figures: dict[str, int]) -> str:
    """hex SHA-256 of the canonical JSON of title, body and figures (keys sorted, UTF-8)."""
    data = json.dumps(
        {"title": title, "body": body, "figures": figures},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    return hashlib.sha256(data).hexdigest()


def ledger_payload(disclosure: Disclosure) -> dict[str, object]:
    """The "disclosure_published" leaf payload of `disclosure` (no personal data, no floats).

    Shared with `ledger_audit`, which rebuilds it from the stored row.
    """
    branch = disclosure.branch
    previous = disclosure.corrects
    return {
        "series": str(disclosure.series),
        "version": disclosure.version,
        "disclosure_kind": disclosure.kind,
        "project": disclosure.project_id,
        "branch": branch.division_code or branch.pk,
        "period_start": disclosure.period_start.isoformat(),
        "period_end": disclosure.period_end.isoformat(),
        "content_sha256": content_hash(
            title=disclosure.title, body=disclosure.body, figures=disclosure.figures
        ),
        "corrects_version": previous.version if previous is not None else None,
    }


def _clean_text(errors: dict[str, str], field: str, value: object, limit: int, label: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        errors[field] = _("Fill in the %(field)s.") % {"field": label}
    elif len(text) > limit:
        errors[field] = _("The %(field)s is too long (at most %(n)s characters).") % {
            "field": label,
            "n": limit,
        }
    return text


def _clean_figures(errors: dict[str, str], figures: object) -> dict[str, int]:
    if not isinstance(figures, dict):
        errors["figures"] = _("The figures must be a list of labelled amounts in whole fen.")
        return {}
    if len(figures) > FIGURES_MAX:
        errors["figures"] = _("Too many figures (at most %(n)s).") % {"n": FIGURES_MAX}
        return {}
    cleaned: dict[str, int] = {}
    for label, value in figures.items():
        if not isinstance(label, str) or not label.strip() or len(label) > LABEL_MAX:
            errors["figures"] = _("Every figure needs a label of at most %(n)s characters.") % {
                "n": LABEL_MAX
            }
            return {}
        # `type(...) is int`: a bool, float or Decimal means yuan were converted somewhere.
        if type(value) is not int or not -MAX_FIGURE_FEN <= value <= MAX_FIGURE_FEN:
            errors["figures"] = _("The figure “%(label)s” must be a whole number of fen.") % {"label": label}
            return {}
        cleaned[label.strip()] = value
    return cleaned


def _validate(
    *,
    kind: object,
    period_start: object,
    period_end: object,
    title: object,
    body: object,
    figures: object,
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if kind not in Kind.values:
        errors["kind"] = _("Choose a kind of disclosure.")
    if not isinstance(period_start, date) or not isinstance(period_end, date):
        errors["period_end"] = _("Give the start and end of the period.")
    elif period_end < period_start:
        errors["period_end"] = _("The period cannot end before it starts.")
    cleaned: dict[str, Any] = {
        "kind": kind,
        "period_start": period_start,
        "period_end": period_end,
        "title": _clean_text(errors, "title", title, TITLE_MAX, _("title")),
        "body": _clean_text(errors, "body", body, BODY_MAX, _("text")),
        "figures": _clean_figures(errors, figures),
    }
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_project(branch: Branch, project: FundraisingProject | None) -> None:
    if project is not None and not project.branch.path.startswith(branch.path):
        raise ValidationError(
            {"project": _("The project does not belong to this branch or a branch under it.")}
        )


def _locked(disclosure: Disclosure) -> Disclosure:
    return Disclosure.objects.select_for_update().select_related("branch").get(pk=disclosure.pk)


def disclosure_draft(
    *,
    actor: User,
    branch: Branch,
    project: FundraisingProject | None = None,
    kind: str,
    period_start: date,
    period_end: date,
    title: str,
    body: str,
    figures: dict[str, int],
) -> Disclosure:
    """Create a draft disclosure (version 1 of a new series)."""
    require_perm(actor, PERM, branch)
    cleaned = _validate(
        kind=kind, period_start=period_start, period_end=period_end, title=title, body=body, figures=figures
    )
    _check_project(branch, project)
    with transaction.atomic():
        disclosure = Disclosure.objects.create(branch=branch, project=project, created_by=actor, **cleaned)
        audit_record(
            actor=actor,
            action="disclosure.draft",
            obj=disclosure,
            branch=branch,
            after={"kind": disclosure.kind, "series": str(disclosure.series), "version": 1},
        )
    return disclosure


def disclosure_update_draft(
    *,
    actor: User,
    disclosure: Disclosure,
    kind: str | None = None,
    period_start: date | None = None,
    period_end: date | None = None,
    title: str | None = None,
    body: str | None = None,
    figures: dict[str, int] | None = None,
) -> Disclosure:
    """Change a draft; fields left as None keep their value. Published versions are refused."""
    require_perm(actor, PERM, disclosure.branch)
    with transaction.atomic():
        locked = _locked(disclosure)
        if locked.status != DisclosureStatus.DRAFT:
            raise ValidationError(_("A published disclosure cannot be edited; publish a correction instead."))
        if locked.corrects_id is not None and kind is not None and kind != locked.kind:
            raise ValidationError({"kind": _("A correction keeps the kind of the disclosure it corrects.")})
        cleaned = _validate(
            kind=locked.kind if kind is None else kind,
            period_start=locked.period_start if period_start is None else period_start,
            period_end=locked.period_end if period_end is None else period_end,
            title=locked.title if title is None else title,
            body=locked.body if body is None else body,
            figures=locked.figures if figures is None else figures,
        )
        changed = [name for name, value in cleaned.items() if getattr(locked, name) != value]
        for name in changed:
            setattr(locked, name, cleaned[name])
        if changed:
            locked.save(update_fields=changed)
            audit_record(
                actor=actor,
                action="disclosure.update_draft",
                obj=locked,
                branch=locked.branch,
                after={"changed": sorted(changed)},
            )
    return locked


def disclosure_publish(*, actor: User, disclosure: Disclosure) -> Disclosure:
    """Publish a draft: freeze it, log its content hash in the ledger, audit it."""
    require_perm(actor, PERM, disclosure.branch)
    with transaction.atomic():
        locked = _locked(disclosure)
        target = DisclosureStatus.PUBLISHED
        if (DisclosureStatus(locked.status), target) not in TRANSITIONS:
            raise ValidationError(_("This disclosure is already published."))
        previous = locked.corrects
        if previous is not None:
            newest = (
                Disclosure.objects.filter(series=locked.series, status=DisclosureStatus.PUBLISHED)
                .order_by("-version")
                .first()
            )
            if newest is None or newest.pk != previous.pk:
                raise ValidationError(
                    _("A newer version was published meanwhile; start the correction again.")
                )
        digest = content_hash(title=locked.title, body=locked.body, figures=locked.figures)
        branch = locked.branch
        now = timezone.now()
        entry = ledger_append(kind="disclosure_published", payload=ledger_payload(locked), occurred_at=now)
        locked.status = target
        locked.published_by = actor
        locked.published_at = now
        locked.ledger_index = entry.index
        locked.save(update_fields=["status", "published_by", "published_at", "ledger_index"])
        audit_record(
            actor=actor,
            action="disclosure.publish",
            obj=locked,
            branch=branch,
            after={
                "series": str(locked.series),
                "version": locked.version,
                "ledger_index": entry.index,
                "content_sha256": digest,
            },
        )
    return locked


def disclosure_correct(
    *,
    actor: User,
    published: Disclosure,
    title: str,
    body: str,
    figures: dict[str, int],
    correction_note: str,
) -> Disclosure:
    """Start a correction: a new draft version of `published`'s series, to be published in turn."""
    require_perm(actor, PERM, published.branch)
    errors: dict[str, str] = {}
    note = _clean_text(errors, "correction_note", correction_note, NOTE_MAX, _("correction note"))
    try:
        cleaned = _validate(
            kind=published.kind,
            period_start=published.period_start,
            period_end=published.period_end,
            title=title,
            body=body,
            figures=figures,
        )
    except ValidationError as error:
        raise ValidationError({**error.message_dict, **{k: [v] for k, v in errors.items()}}) from None
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        base = _locked(published)
        if base.status != DisclosureStatus.PUBLISHED:
            raise ValidationError(_("Only a published disclosure can be corrected; edit the draft instead."))
        versions = Disclosure.objects.filter(series=base.series).order_by("-version")
        newest = versions.filter(status=DisclosureStatus.PUBLISHED).first()
        if newest is None or newest.pk != base.pk:
            raise ValidationError(_("Correct the current version of this disclosure, not an older one."))
        if versions.filter(status=DisclosureStatus.DRAFT).exists():
            raise ValidationError(_("A correction of this disclosure is already being drafted."))
        top = versions.first()
        correction = Disclosure.objects.create(
            branch=base.branch,
            project=base.project,
            series=base.series,
            version=(top.version if top is not None else base.version) + 1,
            corrects=base,
            correction_note=note,
            created_by=actor,
            **cleaned,
        )
        audit_record(
            actor=actor,
            action="disclosure.correct",
            obj=correction,
            branch=base.branch,
            after={"series": str(base.series), "version": correction.version, "corrects": base.version},
        )
    return correction
