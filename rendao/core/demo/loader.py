"""Loading the demo: idempotent (a second run changes nothing) and deterministic.

Branches and role grants go through the same services as the staff pages, with
`actor=None` (the platform itself), so they are validated and audited like any
other write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.management.base import CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from rendao.core.demo import accounts
from rendao.core.demo.xiamen import XIAMEN, Node, walk
from rendao.core.models import Branch, Membership, Role, User
from rendao.core.services.branches import branch_create, branch_update
from rendao.core.services.memberships import membership_grant
from rendao.funds.demo import giving_demo_load
from rendao.privacy.fields import index_for
from rendao.privacy.models import Identity
from rendao.privacy.validation import parse_id_number


@dataclass
class LoadResult:
    """What a load changed; all zero when the demo was already there."""

    branches_created: int = 0
    branches_updated: int = 0
    users_created: int = 0
    users_updated: int = 0
    memberships_granted: int = 0
    devices_written: int = 0
    identities_written: int = 0
    # Fundraising projects and paid donations (rendao/funds/demo.py).
    projects_created: int = 0
    donations_paid: int = 0
    # Disbursements and goods distribution orders (rendao/core/demo/funduse.py).
    disbursements: int = 0
    goods_orders: int = 0
    branches: dict[str, Branch] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(
            (
                self.branches_created,
                self.branches_updated,
                self.users_created,
                self.users_updated,
                self.memberships_granted,
                self.devices_written,
                self.identities_written,
                self.projects_created,
                self.donations_paid,
            )
        )


def refuse_in_production() -> None:
    if settings.RENDAO_ENV == "production":
        raise CommandError("Demo data is never loaded in production (RENDAO_ENV=production).")


def _decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _fields(node: Node) -> dict[str, object]:
    """The node's values by Branch field name, to compare with what is stored."""
    return {
        "name": node.name,
        "institution_type": node.institution_type,
        "division_code": node.code,
        "latitude": _decimal(node.lat),
        "longitude": _decimal(node.lon),
        "population": node.population,
    }


def _load_branches(result: LoadResult) -> None:
    roots = list(Branch.objects.get_root_nodes())
    if roots and [r.name for r in roots] != [XIAMEN.name]:
        raise CommandError(
            f"This database already has a different branch tree ({roots[0].name}); "
            "demo data is loaded only into an empty database or over an earlier demo."
        )
    nodes: dict[int, Branch] = {}
    for parent_node, node in walk():
        parent = nodes[id(parent_node)] if parent_node is not None else None
        if parent is None:
            existing = Branch.objects.filter(depth=1, name=node.name).first()
        else:
            existing = Branch.objects.get_children(parent).filter(name=node.name).first()
        wanted = _fields(node)
        if existing is None:
            branch = branch_create(
                actor=None,
                parent=parent,
                kind=node.kind,
                name=node.name,
                institution_type=node.institution_type,
                division_code=node.code,
                latitude=_decimal(node.lat),
                longitude=_decimal(node.lon),
                population=node.population,
            )
            result.branches_created += 1
        else:
            changes = {k: v for k, v in wanted.items() if getattr(existing, k) != v}
            branch = existing
            if changes:
                branch = branch_update(actor=None, branch=existing, meta=None, **changes)
                result.branches_updated += 1
        nodes[id(node)] = branch
        result.branches[node.name] = branch


def _load_staff(result: LoadResult) -> None:
    roles = {r.code: r for r in Role.objects.all()}
    for spec in accounts.STAFF:
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = User.objects.create_user(
                spec.username,
                password=accounts.DEMO_PASSWORD,
                display_name=spec.display_name,
                is_staff=spec.is_staff,
                is_demo=True,
            )
            result.users_created += 1
        elif not user.is_demo:
            raise CommandError(f"{spec.username!r} is a real account; the demo will not touch it.")
        elif not user.check_password(accounts.DEMO_PASSWORD):
            user.set_password(accounts.DEMO_PASSWORD)
            user.save(update_fields=["password"])
            result.users_updated += 1
        branch = result.branches[spec.branch]
        role = roles[spec.role]
        if not Membership.objects.filter(user=user, branch=branch, role=role).exists():
            membership_grant(actor=None, user=user, branch=branch, role=role)
            result.memberships_granted += 1
        key = accounts.demo_totp_key(spec.username)
        device = TOTPDevice.objects.filter(user=user, name=accounts.TOTP_DEVICE_NAME).first()
        if device is None:
            TOTPDevice.objects.create(user=user, name=accounts.TOTP_DEVICE_NAME, key=key, confirmed=True)
            result.devices_written += 1
        elif device.key != key or not device.confirmed:
            device.key = key
            device.confirmed = True
            device.save(update_fields=["key", "confirmed"])
            result.devices_written += 1


def _load_public(result: LoadResult) -> None:
    for spec in accounts.PUBLIC:
        user = User.objects.filter(username=spec.username).first()
        if spec.mobile is not None and user is None:
            # The number may already belong to an account under another name.
            user = User.objects.filter(mobile_index=index_for("mobile", spec.mobile)).first()
        if user is None:
            user = User.objects.create_user(
                spec.username, mobile=spec.mobile, display_name=spec.display_name, is_demo=True
            )
            result.users_created += 1
        elif not user.is_demo:
            raise CommandError(f"{spec.username!r} is a real account; the demo will not touch it.")
        elif user.mobile != spec.mobile:
            user.mobile = spec.mobile
            user.save(update_fields=["mobile", "mobile_index"])
            result.users_updated += 1
        _load_identity(result, user, spec)


def _load_identity(result: LoadResult, user: User, spec: accounts.PublicSpec) -> None:
    # Written directly rather than through a service: the numbers are made up and
    # checked here, and the demo is never loaded in production.
    parse_id_number(spec.id_number)
    identity = Identity.objects.filter(user=user).first()
    if identity is None:
        Identity.objects.create(user=user, real_name=spec.real_name, id_number=spec.id_number)
        result.identities_written += 1
    elif (identity.real_name, identity.id_number) != (spec.real_name, spec.id_number):
        identity.real_name = spec.real_name
        identity.id_number = spec.id_number
        identity.save()
        result.identities_written += 1


def load_demo(*, donations: int = 0) -> LoadResult:
    """Create or complete the demo tree and accounts in one transaction, with the
    demo's fundraising projects and `donations` paid donations to them (the
    command loads DEMO_DONATIONS; tests of the tree need none)."""
    refuse_in_production()
    result = LoadResult()
    with transaction.atomic():
        _load_branches(result)
        _load_staff(result)
        _load_public(result)
        giving = giving_demo_load(donations=donations)
        result.projects_created = giving.projects_created
        result.donations_paid = giving.donations_paid
        if donations:
            # Where the money and goods went (issue 6): needs money in the funds.
            from rendao.core.demo.funduse import funduse_demo_load

            use = funduse_demo_load()
            result.disbursements = use.disbursements
            result.goods_orders = use.orders
            # Issue 7: disclosures published, corrected, drafted and overdue across the projects.
            from rendao.core.demo.disclosures import disclosures_demo_load

            disclosures_demo_load()
    return result
