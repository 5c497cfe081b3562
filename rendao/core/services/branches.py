"""Writes to the branch tree: create, update, deactivate, reactivate.

The shape of the Red Cross tree is data (`ALLOWED_PARENT_KINDS` below), checked
by every write, so a district can never end up under a community whatever the
caller (web page, API, command) sends.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rendao.core import scope
from rendao.core.audit import RequestMeta, audit_record
from rendao.core.models import Branch
from rendao.core.permissions import Perm

if TYPE_CHECKING:
    from rendao.core.models import User

Kind = Branch.Kind

# Which kinds of branch may sit directly under which. None stands for "no
# parent": the city society is the one root. Institutional branches (organs,
# schools, hospitals, companies) hang off any territorial level, but not off
# another institution: an institution's own units are not branches.
ALLOWED_PARENT_KINDS: dict[str, frozenset[str | None]] = {
    Kind.CITY: frozenset({None}),
    Kind.DISTRICT: frozenset({Kind.CITY}),
    Kind.STREET: frozenset({Kind.DISTRICT}),
    Kind.COMMUNITY: frozenset({Kind.STREET}),
    Kind.INSTITUTION: frozenset({Kind.CITY, Kind.DISTRICT, Kind.STREET, Kind.COMMUNITY}),
}

# Significant digits of a statistical division code at each level of the
# national scheme: province 2, prefecture 4, county 6, township 9, village 12.
DIVISION_LEVELS = (2, 4, 6, 9, 12)
# The level a territorial branch's code must be at (institutions: any).
KIND_DIVISION_DIGITS: dict[str, int] = {
    Kind.CITY: 4,
    Kind.DISTRICT: 6,
    Kind.STREET: 9,
    Kind.COMMUNITY: 12,
}

# The fields a caller may set; tree fields (path, depth, numchild) belong to
# treebeard and `kind` is fixed at creation because children depend on it.
EDITABLE_FIELDS = (
    "name",
    "institution_type",
    "division_code",
    "address",
    "latitude",
    "longitude",
    "contact_name",
    "contact_phone",
    "population",
)
AUDITED_FIELDS = ("name", "kind", *EDITABLE_FIELDS[1:], "is_active")


def allowed_child_kinds(parent: Branch | None) -> list[str]:
    """The kinds of branch that may be created under `parent` (None: a root)."""
    parent_kind = parent.kind if parent is not None else None
    return [kind for kind, parents in ALLOWED_PARENT_KINDS.items() if parent_kind in parents]


def division_prefix(code: str) -> str:
    """The significant part of a division code: 350203000000 → 350203."""
    for digits in DIVISION_LEVELS:
        if set(code[digits:]) <= {"0"}:
            return code[:digits]
    return code


def branch_snapshot(branch: Branch) -> dict[str, Any]:
    """The audited state of a branch, JSON-ready."""
    out: dict[str, Any] = {}
    for field in AUDITED_FIELDS:
        value = getattr(branch, field)
        out[field] = f"{value:.6f}" if isinstance(value, Decimal) else value
    return out


# `audit.redact` hides any key containing "code" (sign-in codes); a division
# code is public statistical data, so it is recorded under another name.
AUDIT_KEYS = {"division_code": "division"}


def _for_audit(values: dict[str, Any]) -> dict[str, Any]:
    return {AUDIT_KEYS.get(k, k): v for k, v in values.items()}


def _parent_of(branch: Branch) -> Branch | None:
    parent: Branch | None = Branch.objects.get_parent(branch)
    return parent


def _validate(branch: Branch, *, parent: Branch | None, children: list[Branch]) -> None:
    """Check the rules that span rows or need a clear message; then full_clean.

    Raises one ValidationError carrying every problem found, keyed by field.
    """
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    parent_kind = parent.kind if parent is not None else None
    if parent_kind not in ALLOWED_PARENT_KINDS.get(branch.kind, frozenset()):
        if parent is None:
            add("kind", _("Only the city society can stand at the top of the tree."))
        else:
            add(
                "kind",
                _("A %(kind)s cannot be created under a %(parent)s.")
                % {"kind": branch.get_kind_display(), "parent": parent.get_kind_display()},
            )
    if parent is not None and not parent.is_active:
        add("__all__", _("A branch cannot be added under an inactive branch."))

    if branch.kind == Kind.INSTITUTION and not branch.institution_type:
        add("institution_type", _("Choose the type of institution."))
    if branch.kind != Kind.INSTITUTION and branch.institution_type:
        add("institution_type", _("Only institutional branches have an institution type."))

    code = branch.division_code
    if code:
        if len(code) != 12 or not code.isdigit():
            add("division_code", _("A division code is exactly 12 digits."))
        else:
            prefix = division_prefix(code)
            expected = KIND_DIVISION_DIGITS.get(branch.kind)
            if expected is not None and len(prefix) != expected:
                add(
                    "division_code",
                    _("The division code of a %(kind)s has %(n)d significant digits.")
                    % {"kind": branch.get_kind_display(), "n": expected},
                )
            if parent is not None and parent.division_code:
                parent_prefix = division_prefix(parent.division_code)
                if not code.startswith(parent_prefix):
                    add(
                        "division_code",
                        _("The division code must start with %(prefix)s, the code of %(parent)s.")
                        % {"prefix": parent_prefix, "parent": parent.name},
                    )
            for child in children:
                if child.division_code and not child.division_code.startswith(prefix):
                    add(
                        "division_code",
                        _("%(child)s has division code %(code)s, which does not start with %(prefix)s.")
                        % {"child": child.name, "code": child.division_code, "prefix": prefix},
                    )

    if (branch.latitude is None) != (branch.longitude is None):
        add("latitude", _("Give both latitude and longitude, or neither."))
    if branch.latitude is not None and not -90 <= branch.latitude <= 90:
        add("latitude", _("Latitude must be between -90 and 90 degrees."))
    if branch.longitude is not None and not -180 <= branch.longitude <= 180:
        add("longitude", _("Longitude must be between -180 and 180 degrees."))
    if branch.population is not None and branch.population < 0:
        add("population", _("Population cannot be negative."))

    if errors:
        raise ValidationError(errors)
    # Field-level checks (lengths, choices, decimals). The table's check
    # constraints are the rules above, already checked with clearer messages;
    # Django would spend a query on each, and the database still enforces them.
    branch.full_clean(exclude=["path", "depth", "numchild"], validate_constraints=False)


def _authorize_on(actor: User | None, branch: Branch) -> None:
    """Actor None is the platform itself (management commands, demo loader)."""
    if actor is not None:
        scope.require_perm(actor, Perm.BRANCH_MANAGE, branch)


def branch_create(
    *,
    actor: User | None,
    parent: Branch | None,
    kind: str,
    name: str,
    institution_type: str = "",
    division_code: str = "",
    address: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    population: int | None = None,
    meta: RequestMeta | None = None,
) -> Branch:
    """Add a branch under `parent` (None: the city society, the one root).

    A person may add branches under any branch they manage. The root is made
    only by the platform itself (`actor=None`) when an installation is set up.
    """
    with transaction.atomic():
        if parent is None:
            if actor is not None:
                raise PermissionDenied(_("Only the installation set-up can create the city society."))
            if Branch.objects.get_root_nodes().exists():
                raise ValidationError({"kind": _("The city society already exists.")})
        else:
            # Re-read under a row lock so a concurrent deactivation cannot slip in.
            parent = Branch.objects.select_for_update().get(pk=parent.pk)
            _authorize_on(actor, parent)
        branch = Branch(
            name=name.strip(),
            kind=kind,
            institution_type=institution_type,
            division_code=division_code.strip(),
            address=address.strip(),
            latitude=latitude,
            longitude=longitude,
            contact_name=contact_name.strip(),
            contact_phone=contact_phone.strip(),
            population=population,
        )
        _validate(branch, parent=parent, children=[])
        # treebeard sets path and depth and saves the instance it is given.
        if parent is None:
            Branch.objects.add_root(instance=branch)
        else:
            Branch.objects.add_child(parent, instance=branch)
        audit_record(
            actor=actor,
            action="branch.create",
            obj=branch,
            branch=branch,
            after=_for_audit(branch_snapshot(branch)),
            meta=meta,
        )
    return branch


def branch_update(
    *,
    actor: User | None,
    branch: Branch,
    meta: RequestMeta | None = None,
    **changes: Any,
) -> Branch:
    """Change the editable fields of a branch; unknown field names are refused."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"branch_update got fields it cannot change: {sorted(unknown)}")
    with transaction.atomic():
        branch = Branch.objects.select_for_update().get(pk=branch.pk)
        _authorize_on(actor, branch)
        before = branch_snapshot(branch)
        for field, value in changes.items():
            setattr(branch, field, value.strip() if isinstance(value, str) else value)
        after = branch_snapshot(branch)
        if after == before:
            return branch
        children = list(Branch.objects.get_children(branch))
        _validate(branch, parent=_parent_of(branch), children=children)
        branch.save(update_fields=[f for f in EDITABLE_FIELDS if before[f] != after[f]])
        audit_record(
            actor=actor,
            action="branch.update",
            obj=branch,
            branch=branch,
            before=_for_audit({k: v for k, v in before.items() if v != after[k]}),
            after=_for_audit({k: v for k, v in after.items() if v != before[k]}),
            meta=meta,
        )
    return branch


def branch_deactivate(*, actor: User | None, branch: Branch, meta: RequestMeta | None = None) -> Branch:
    """Mark a branch inactive; refused while any branch directly under it is active.

    Branches are never deleted: donations, trainings and audit rows keep
    pointing at them.
    """
    with transaction.atomic():
        branch = Branch.objects.select_for_update().get(pk=branch.pk)
        _authorize_on(actor, branch)
        if not branch.is_active:
            return branch
        if Branch.objects.get_children(branch).filter(is_active=True).exists():
            raise ValidationError(_("Deactivate the branches under %(name)s first.") % {"name": branch.name})
        branch.is_active = False
        branch.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="branch.deactivate",
            obj=branch,
            branch=branch,
            before={"is_active": True},
            after={"is_active": False},
            meta=meta,
        )
    return branch


def branch_reactivate(*, actor: User | None, branch: Branch, meta: RequestMeta | None = None) -> Branch:
    """Mark an inactive branch active again; its parent must be active."""
    with transaction.atomic():
        branch = Branch.objects.select_for_update().get(pk=branch.pk)
        _authorize_on(actor, branch)
        if branch.is_active:
            return branch
        parent = _parent_of(branch)
        if parent is not None and not parent.is_active:
            raise ValidationError(_("Reactivate %(name)s first.") % {"name": parent.name})
        branch.is_active = True
        branch.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="branch.reactivate",
            obj=branch,
            branch=branch,
            before={"is_active": False},
            after={"is_active": True},
            meta=meta,
        )
    return branch
