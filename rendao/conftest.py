"""Shared test personas and fixtures, used by every app's tests.

The personas sit in a small branch tree: the city society, the 思明 and 湖里
district branches, and a street under 思明 with a community under it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.test import Client

from rendao.core.middleware import SIGNED_IN_AT
from rendao.core.models import Branch, Membership, Role, User
from rendao.privacy.detect import find_pii


@dataclass
class Tree:
    city: Branch
    siming: Branch
    huli: Branch
    street: Branch  # 思明 › 嘉莲街道
    community: Branch  # 思明 › 嘉莲街道 › 莲秀社区
    school: Branch  # institutional branch under 湖里


@dataclass
class Personas:
    tree: Tree
    public: User  # a member of the public, signed in by SMS
    volunteer: User  # a public user who volunteers (no staff role)
    siming_staff: User  # branch administrator at 思明 district
    huli_staff: User  # branch administrator at 湖里 district
    city_staff: User  # branch administrator at the city society
    finance: User  # finance officer at the city society
    reviewer: User  # reviewer at 思明 district
    auditor: User  # read-only auditor at the city society
    leader: User  # read-only leader at the city society
    sysadmin: User  # system administrator: no business permissions
    outsider: User  # staff account with no membership at all


def make_tree() -> Tree:
    add = Branch.objects.add_child
    city = Branch.objects.add_root(
        instance=Branch(name="厦门市红十字会", kind=Branch.Kind.CITY, division_code="350200000000")
    )
    siming = add(
        city, instance=Branch(name="思明区红十字会", kind=Branch.Kind.DISTRICT, division_code="350203000000")
    )
    huli = add(
        city, instance=Branch(name="湖里区红十字会", kind=Branch.Kind.DISTRICT, division_code="350206000000")
    )
    street = add(
        siming,
        instance=Branch(name="嘉莲街道红十字会", kind=Branch.Kind.STREET, division_code="350203009000"),
    )
    community = add(street, instance=Branch(name="莲秀社区红十字会", kind=Branch.Kind.COMMUNITY))
    school = add(
        huli,
        instance=Branch(
            name="湖里中学红十字会",
            kind=Branch.Kind.INSTITUTION,
            institution_type=Branch.InstitutionType.SCHOOL,
        ),
    )
    for b in (city, siming, huli, street, community, school):
        b.refresh_from_db()
    return Tree(city=city, siming=siming, huli=huli, street=street, community=community, school=school)


def make_staff(username: str, branch: Branch | None, role_code: str | None) -> User:
    user = User.objects.create_user(username, password="correct horse battery", display_name=username)
    if branch is not None and role_code is not None:
        Membership.objects.create(user=user, branch=branch, role=Role.objects.get(code=role_code))
    return user


@pytest.fixture
def tree(db: None) -> Tree:
    return make_tree()


@pytest.fixture
def personas(tree: Tree) -> Personas:
    sysadmin = make_staff("sysadmin", tree.city, Role.SYSTEM_ADMIN)
    sysadmin.is_staff = True
    sysadmin.save()
    return Personas(
        tree=tree,
        public=User.objects.create_user("public", mobile="+8613800138000"),
        volunteer=User.objects.create_user("volunteer", mobile="+8613900139000"),
        siming_staff=make_staff("siming", tree.siming, Role.BRANCH_ADMIN),
        huli_staff=make_staff("huli", tree.huli, Role.BRANCH_ADMIN),
        city_staff=make_staff("city", tree.city, Role.BRANCH_ADMIN),
        finance=make_staff("finance", tree.city, Role.FINANCE),
        reviewer=make_staff("reviewer", tree.siming, Role.REVIEWER),
        auditor=make_staff("auditor", tree.city, Role.AUDITOR),
        leader=make_staff("leader", tree.city, Role.LEADER),
        sysadmin=sysadmin,
        outsider=make_staff("outsider", None, None),
    )


def signed_in_client(user: User, *, verified: bool = True) -> Client:
    """A test client signed in as `user`, with the second factor done when asked.

    Staff pages require an OTP-verified session; tests of pages other than the
    sign-in itself start from one.
    """
    client = Client()
    client.force_login(user)
    session = client.session
    session[SIGNED_IN_AT] = time.time()
    if verified:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
        session["otp_device_id"] = device.persistent_id
    session.save()
    return client


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    # The file cache outlives a test; rate-limit counters must not leak between tests.
    cache.clear()
    # So do the sandbox payment gateway's books (its own SQLite file).
    from rendao.funds.payments.sandbox.adapter import gateway_path, gateway_reset

    if gateway_path().exists():
        gateway_reset()


# --- the log proof: no test may log a personal number ----------------------------


class PiiLogGuard(logging.Handler):
    """Scans every log record of the session for ID and mobile numbers (issue #3).

    Every record any test makes is read (see _pii_log_guard_installed). A hit
    fails the test during which it was logged; the hit itself is kept masked.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.hits: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)  # with the traceback, if any
        except Exception:  # a broken format string must not hide the raw arguments
            text = f"{record.msg} {record.args}"
        found = find_pii(text)
        if found:
            self.hits.append(f"{record.name}: {', '.join(map(str, found))}")


PII_LOG_GUARD = PiiLogGuard()


@pytest.fixture(scope="session", autouse=True)
def _pii_log_guard_installed() -> Iterator[PiiLogGuard]:
    # Hooked into Logger.handle rather than added as a handler: any test that
    # runs django.setup() or a management command re-applies LOGGING, which
    # replaces the handlers of configured loggers ("rendao") and would quietly
    # unhook a handler-based guard. Every record passes through handle() once,
    # on the logger that made it, whatever the handlers and propagation.
    original = logging.Logger.handle

    def handle(self: logging.Logger, record: logging.LogRecord) -> None:
        PII_LOG_GUARD.handle(record)
        original(self, record)

    logging.Logger.handle = handle  # type: ignore[method-assign]
    yield PII_LOG_GUARD
    logging.Logger.handle = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _no_pii_logged(_pii_log_guard_installed: PiiLogGuard) -> Iterator[None]:
    _pii_log_guard_installed.hits.clear()
    yield
    if _pii_log_guard_installed.hits:
        hits = list(_pii_log_guard_installed.hits)
        _pii_log_guard_installed.hits.clear()
        pytest.fail(f"personal numbers were logged during this test: {hits}")


@pytest.fixture
def pii_log_guard(_pii_log_guard_installed: PiiLogGuard) -> PiiLogGuard:
    """The session's log guard, for the test that proves it catches a leak."""
    return _pii_log_guard_installed


# --- the leaf proof: no ledger leaf may hold personal data (issue #4) --------------

# Key names that say a value is about a person. Chinese names in free text have
# no reliable detector, so names are caught by the key that would carry them.
PERSONAL_KEY_PARTS = ("name", "phone", "mobile", "id_number", "id_card", "address", "bank", "account")


def _keys(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def leaf_findings(data: bytes) -> list[str]:
    """ID, mobile and bank card numbers in a leaf, and keys named for personal data."""
    import json

    from rendao.privacy.detect import find_bank_cards

    text = data.decode("utf-8", errors="replace")
    found = [str(f) for f in find_pii(text) + find_bank_cards(text)]
    try:
        decoded = json.loads(text)
    except ValueError:
        return [*found, "leaf is not JSON"]
    found += [f"key {k!r}" for k in _keys(decoded) if any(p in k.lower() for p in PERSONAL_KEY_PARTS)]
    return found


class LeafGuard:
    """Scans every ledger Entry saved in the session; a hit fails the test that wrote it."""

    def __init__(self) -> None:
        self.hits: list[str] = []

    def entry_saved(self, sender: object, instance: object, created: bool = False, **kwargs: object) -> None:
        data = getattr(instance, "data", b"")
        found = leaf_findings(bytes(data)) if created else []
        if found:
            self.hits.append(f"entry {getattr(instance, 'index', '?')}: {', '.join(found)}")


LEAF_GUARD = LeafGuard()


@pytest.fixture(scope="session", autouse=True)
def _leaf_guard_installed() -> Iterator[LeafGuard]:
    # post_save on Entry sees every leaf however it is appended (ledger_append
    # saves the row); leaves written in subprocesses are scanned by their test.
    from django.db.models.signals import post_save

    from rendao.ledger.models import Entry

    post_save.connect(LEAF_GUARD.entry_saved, sender=Entry, dispatch_uid="leaf_guard")
    yield LEAF_GUARD
    post_save.disconnect(sender=Entry, dispatch_uid="leaf_guard")


@pytest.fixture(autouse=True)
def _no_pii_in_leaves(_leaf_guard_installed: LeafGuard) -> Iterator[None]:
    _leaf_guard_installed.hits.clear()
    yield
    if _leaf_guard_installed.hits:
        hits = list(_leaf_guard_installed.hits)
        _leaf_guard_installed.hits.clear()
        pytest.fail(f"ledger leaves with personal data were written during this test: {hits}")


@pytest.fixture
def leaf_guard(_leaf_guard_installed: LeafGuard) -> LeafGuard:
    """The session's leaf guard, for the test that proves it catches a leak."""
    return _leaf_guard_installed
