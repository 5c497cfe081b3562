"""The authorization matrix: every branch-scoped endpoint × every actor × an object
inside and an object outside the actor's scope.

Each case asserts that exactly the allowed actors succeed (2xx, and for a list the
object is in it) and that everyone else is refused (401/403/404, a redirect to a
sign-in page, or — for a list — a 2xx that leaves the object out).

HOW TO ADD AN ENDPOINT (every later issue does this for its branch-scoped pages
and API operations):

1. If the endpoint needs objects of its own, add a builder to `TARGET_BUILDERS`:
   a function `(tree, personas) -> object` per target name ("siming" must build
   an object inside 思明's subtree, "huli" one inside 湖里's). Reuse the targets
   that exist when the endpoint is about branches or memberships.
2. Add one `Row` to `ROWS`: a name, the URL built from the target object, the
   method, `kind` ("detail": the status decides; "list": the object's id must be
   in the JSON items or the page), and who is allowed for each target — written
   out by hand from the roles (`rendao/core/migrations/0003_builtin_roles.py`),
   which is the point: the table is the specification, not a copy of the code.
   The sets below (`BRANCH_SEE`, `MEMBERSHIP_SEE`, …) cover the common cases.
3. For writes (POST), give `data` and make sure a refused case changes nothing:
   add a `check_unchanged` function.

Actors are the personas of `rendao.conftest` signed in with their session (staff
with the second factor done), plus anonymous callers, a half-signed-in staff
member, and personal access tokens (`TOKEN_ACTORS`): unrestricted and limited to
a branch. Pages ignore tokens, so token actors are never allowed on pages.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from rendao.approvals.matters import matter_create
from rendao.approvals.models import ApprovalRequest, Decision
from rendao.conftest import Personas, Tree, make_staff, signed_in_client
from rendao.core.audit import RequestMeta
from rendao.core.models import Branch, Membership, OutboxMessage, Role
from rendao.core.services.tokens import token_create
from rendao.funds.models import Donation, FundraisingProject, ReconciliationRun, Refund
from rendao.funds.projects import project_create
from rendao.funds.tests.factories import donate, open_project, pay
from rendao.privacy.models import DataRequest
from rendao.recipients.models import Institution, InstitutionMember
from rendao.uploads.models import Attachment
from rendao.uploads.services import attachment_create
from rendao.uploads.tests.files import png

pytestmark = pytest.mark.django_db

# --- actors -------------------------------------------------------------------------

PERSONA_ACTORS = [
    "public",
    "volunteer",
    "siming_staff",
    "huli_staff",
    "city_staff",
    "finance",
    "reviewer",
    "auditor",
    "leader",
    "sysadmin",
    "outsider",
]
# name: (persona, branch the token is limited to, or None for the whole scope)
TOKEN_ACTORS: dict[str, tuple[str, str | None]] = {
    "siming_staff+token": ("siming_staff", None),
    "city_staff+token@huli": ("city_staff", "huli"),
    "finance+token": ("finance", None),
}
OTHER_ACTORS = ["anonymous", "city_staff_unverified"]
ACTORS = PERSONA_ACTORS + list(TOKEN_ACTORS) + OTHER_ACTORS

TARGETS = ["siming", "huli"]

# Who may see branches in each subtree: BRANCH_VIEW, or SYSTEM_ACCOUNTS for the
# system administrator, who must find a branch to grant roles at it.
BRANCH_SEE_PAGES = {
    "siming": {"siming_staff", "city_staff", "finance", "reviewer", "auditor", "leader", "sysadmin"},
    "huli": {"huli_staff", "city_staff", "finance", "auditor", "leader", "sysadmin"},
}
# Tokens reach the API only (their user's scope, narrowed to the token's branch).
BRANCH_SEE_TOKENS = {
    "siming": {"siming_staff+token", "finance+token"},
    "huli": {"city_staff+token@huli", "finance+token"},
}
BRANCH_SEE_API = {t: BRANCH_SEE_PAGES[t] | BRANCH_SEE_TOKENS[t] for t in TARGETS}
# Who may see the staff memberships in each subtree: MEMBERSHIP_VIEW or SYSTEM_ACCOUNTS.
MEMBERSHIP_SEE_PAGES = {
    "siming": {"siming_staff", "city_staff", "auditor", "sysadmin"},
    "huli": {"huli_staff", "city_staff", "auditor", "sysadmin"},
}
MEMBERSHIP_SEE_TOKENS = {"siming": {"siming_staff+token"}, "huli": {"city_staff+token@huli"}}
MEMBERSHIP_SEE_API = {t: MEMBERSHIP_SEE_PAGES[t] | MEMBERSHIP_SEE_TOKENS[t] for t in TARGETS}
# Who may change branches (BRANCH_MANAGE): the branch administrators above them.
BRANCH_MANAGE_PAGES = {"siming": {"siming_staff", "city_staff"}, "huli": {"huli_staff", "city_staff"}}
# Who may grant and revoke roles: MEMBERSHIP_MANAGE in scope, or the system
# administrator (SYSTEM_ACCOUNTS), who manages accounts everywhere.
MEMBERSHIP_MANAGE_PAGES = {t: BRANCH_MANAGE_PAGES[t] | {"sysadmin"} for t in TARGETS}
# Who may read the outbox (OUTBOX_VIEW) and send a given-up message again (OUTBOX_RETRY).
OUTBOX_SEE_PAGES = {t: BRANCH_MANAGE_PAGES[t] | {"auditor"} for t in TARGETS}
OUTBOX_RETRY_PAGES = BRANCH_MANAGE_PAGES
# Who handles the public's personal-data requests: PRIVACY_MANAGE held at the city
# society (public users belong to no branch), whichever target is built.
PRIVACY_MANAGE_PAGES = {t: {"city_staff"} for t in TARGETS}
# Who may read a photo attached at a branch (ATTACHMENT_VIEW, the photo purpose's
# read permission): every role that handles files, and the auditor.
ATTACHMENT_SEE_PAGES = {
    "siming": {"siming_staff", "city_staff", "finance", "reviewer", "auditor"},
    "huli": {"huli_staff", "city_staff", "finance", "auditor"},
}
ATTACHMENT_SEE_API = {t: ATTACHMENT_SEE_PAGES[t] | BRANCH_SEE_TOKENS[t] for t in TARGETS}
# Who may delete it (ATTACHMENT_MANAGE): the same without the read-only auditor.
ATTACHMENT_MANAGE_PAGES = {t: ATTACHMENT_SEE_PAGES[t] - {"auditor"} for t in TARGETS}


# --- targets ------------------------------------------------------------------------


def _branch_target(tree: Tree, personas: Personas, target: str) -> Branch:
    # Below the district itself, so that a role held at the district is shown to
    # reach down its subtree.
    return {"siming": tree.street, "huli": tree.school}[target]


def _membership_target(tree: Tree, personas: Personas, target: str) -> Any:
    branch = _branch_target(tree, personas, target)
    user = make_staff(f"matrix_{target}", branch, Role.REVIEWER)
    return user.memberships.get()


def _leaf_branch_target(tree: Tree, personas: Personas, target: str) -> Branch:
    # A branch without children, so that deactivating it is allowed when in scope.
    return {"siming": tree.community, "huli": tree.school}[target]


def _dead_message_target(tree: Tree, personas: Personas, target: str) -> OutboxMessage:
    return OutboxMessage.objects.create(
        channel="email",
        recipient="someone@example.org",
        kind="test",
        subject=f"matrix message {target}",
        body="-",
        branch=_branch_target(tree, personas, target),
        status=OutboxMessage.Status.DEAD,
        attempts=8,
    )


def _data_request_target(tree: Tree, personas: Personas, target: str) -> DataRequest:
    subject = make_staff(f"matrix_subject_{target}", None, None)
    return DataRequest.objects.create(subject=subject, kind="deletion", created_at=timezone.now())


def _attachment_target(tree: Tree, personas: Personas, target: str) -> Attachment:
    # Uploaded by someone who is not an actor, so the uploader's own right to it
    # does not blur the roles' rights.
    branch = _branch_target(tree, personas, target)
    uploader = make_staff(f"matrix_uploader_{target}", branch, Role.BRANCH_ADMIN)
    return attachment_create(
        actor=uploader,
        upload=ContentFile(png(), name=f"matrix-{target}.png"),
        purpose="photo",
        branch=branch,
        meta=RequestMeta(),
    )


def _approval_target(tree: Tree, personas: Personas, target: str) -> ApprovalRequest:
    # A matter at the street (思明) or the school (湖里), requested by someone who is
    # not an actor; the default flow's first step is a branch administrator of the
    # item's branch or above.
    branch = _branch_target(tree, personas, target)
    requester = make_staff(f"matrix_requester_{target}", branch, Role.VOLUNTEER_MANAGER)
    return matter_create(actor=requester, branch=branch, title=f"matrix {target}", description="-")


# Who may decide the approval target's current step (branch administrator there or above).
APPROVAL_DECIDE_PAGES = {"siming": {"siming_staff", "city_staff"}, "huli": {"huli_staff", "city_staff"}}
APPROVAL_DECIDE_API = {
    "siming": APPROVAL_DECIDE_PAGES["siming"] | {"siming_staff+token"},
    "huli": APPROVAL_DECIDE_PAGES["huli"] | {"city_staff+token@huli"},
}
# Who may see the item: its deciders, and auditors (AUDIT_VIEW) in scope.
APPROVAL_SEE_PAGES = {t: APPROVAL_DECIDE_PAGES[t] | {"auditor"} for t in TARGETS}
APPROVAL_SEE_API = {t: APPROVAL_DECIDE_API[t] | {"auditor"} for t in TARGETS}


def _project_target(tree: Tree, personas: Personas, target: str) -> FundraisingProject:
    # A draft plan at the street (思明) or the school (湖里), drafted by a finance
    # officer there who is not an actor.
    branch = _branch_target(tree, personas, target)
    drafter = make_staff(f"matrix_finance_{target}", branch, Role.FINANCE)
    today = timezone.localdate()
    return project_create(
        actor=drafter,
        branch=branch,
        title=f"matrix project {target}",
        purpose="-",
        start_date=today,
        end_date=today,
        area="-",
        responsible_name="-",
        responsible_office_address="-",
        channels=["sandbox"],
        bank_account="-",
        beneficiaries="-",
        intended_use="-",
        cost_fen=0,
        leftover_handling="-",
        target_fen=100,
    )


# Who may read fundraising projects (FINANCE_VIEW) and move them (FINANCE_MANAGE).
PROJECT_SEE_PAGES = {t: {"finance", "auditor", "leader"} for t in TARGETS}
PROJECT_MANAGE_PAGES = {t: {"finance"} for t in TARGETS}


def _donation_target(tree: Tree, personas: Personas, target: str) -> Donation:
    # A paid sandbox donation to a project of the street (思明) or the school (湖里),
    # opened by a finance officer there who is not an actor.
    branch = _branch_target(tree, personas, target)
    opener = make_staff(f"matrix_donation_finance_{target}", branch, Role.FINANCE)
    project = open_project(branch, opener, title=f"matrix donation {target}")
    donation = donate(project, amount_fen=10_000)
    pay(donation)
    donation.refresh_from_db()
    return donation


# Who may read donations (FINANCE_VIEW) and refund them (FINANCE_MANAGE); the API
# also takes the finance officer's token (auditors and leaders hold no token.use).
DONATION_SEE_PAGES = PROJECT_SEE_PAGES
DONATION_SEE_API = {t: DONATION_SEE_PAGES[t] | {"finance+token"} for t in TARGETS}
DONATION_REFUND_PAGES = PROJECT_MANAGE_PAGES
# Refused payment notifications belong to no branch: FINANCE_VIEW at the city
# society (finance, auditor, leader), whichever target is built.
REJECTIONS_SEE_PAGES = {t: {"finance", "auditor", "leader"} for t in TARGETS}


def _reconciliation_target(tree: Tree, personas: Personas, target: str) -> ReconciliationRun:
    # Channels are the city society's: one run (of the sandbox's empty bill)
    # serves both targets, and the same actors see it either way.
    from rendao.funds.reconciliation import reconcile

    return reconcile(channel="sandbox", day=date(2025, 6, 14))


class _RewindingBill(ContentFile):  # type: ignore[type-arg]
    """An uploaded bill the matrix can post again and again (the client reads it to its end)."""

    def read(self, *args: Any) -> Any:
        self.seek(0)
        return super().read(*args)


def _no_upload_stored(obj: Any) -> None:
    _assert(not ReconciliationRun.objects.filter(source="upload").exists())


# Who may read reconciliations (FINANCE_VIEW at the city society) and import a bill
# (FINANCE_MANAGE there), whichever target is built.
RECONCILIATION_SEE_PAGES = {t: {"finance", "auditor", "leader"} for t in TARGETS}
RECONCILIATION_MANAGE_PAGES = {t: {"finance"} for t in TARGETS}

# --- issue 6, recipient institutions (helper E) ---------------------------------------


def _institution_target(tree: Tree, personas: Personas, target: str) -> Institution:
    # An institution below the district itself (the street under 思明, the school
    # branch under 湖里), so a role held at the district is shown to reach it.
    return Institution.objects.create(
        branch=_branch_target(tree, personas, target), name=f"matrix institution {target}", kind="school"
    )


# Who manages recipient institutions (RECIPIENTS_MANAGE): branch administrators in
# scope and the city's finance officer; the API also takes their tokens.
RECIPIENTS_PAGES = {
    "siming": {"siming_staff", "city_staff", "finance"},
    "huli": {"huli_staff", "city_staff", "finance"},
}
RECIPIENTS_API = {t: RECIPIENTS_PAGES[t] | BRANCH_SEE_TOKENS[t] for t in TARGETS}

# --- end of helper E's builders ------------------------------------------------------

TARGET_BUILDERS: dict[str, Callable[[Tree, Personas, str], Any]] = {
    "project": _project_target,
    "donation": _donation_target,
    "approval": _approval_target,
    "branch": _branch_target,
    "leaf_branch": _leaf_branch_target,
    "membership": _membership_target,
    "dead_message": _dead_message_target,
    "data_request": _data_request_target,
    "attachment": _attachment_target,
    "reconciliation": _reconciliation_target,
    "institution": _institution_target,
}


# --- rows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    # Builds the URL from the target object, or None when the URL does not exist
    # (yet) in this checkout: the row is then skipped, not silently passed.
    url: Callable[[Any], str | None]
    allowed: dict[str, set[str]]
    target: str = "branch"
    kind: Literal["detail", "list"] = "detail"
    method: Literal["get", "post"] = "get"
    data: dict[str, Any] = field(default_factory=dict)
    check_unchanged: Callable[[Any], None] | None = None


def _reverse(name: str, **kwargs: Any) -> str | None:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


ROWS = [
    Row(
        name="api GET /staff/branches",
        url=lambda obj: "/api/v1/staff/branches?limit=200",
        kind="list",
        allowed=BRANCH_SEE_API,
    ),
    Row(
        name="api GET /staff/memberships?branch=",
        url=lambda obj: f"/api/v1/staff/memberships?branch={obj.pk}",
        allowed=MEMBERSHIP_SEE_API,
    ),
    Row(
        name="api GET /staff/memberships",
        url=lambda obj: "/api/v1/staff/memberships?limit=200",
        target="membership",
        kind="list",
        allowed=MEMBERSHIP_SEE_API,
    ),
    Row(
        name="page core:branch_detail",
        url=lambda obj: _reverse("core:branch_detail", pk=obj.pk),
        allowed=BRANCH_SEE_PAGES,
    ),
    Row(
        name="page core:branches",
        url=lambda obj: _reverse("core:branches"),
        kind="list",
        allowed=BRANCH_SEE_PAGES,
    ),
    Row(
        name="page core:branch_create (form)",
        url=lambda obj: _reverse("core:branch_create", pk=obj.pk),
        allowed=BRANCH_MANAGE_PAGES,
    ),
    Row(
        name="page core:branch_edit (form)",
        url=lambda obj: _reverse("core:branch_edit", pk=obj.pk),
        allowed=BRANCH_MANAGE_PAGES,
    ),
    Row(
        name="page core:branch_deactivate",
        url=lambda obj: _reverse("core:branch_deactivate", pk=obj.pk),
        target="leaf_branch",
        method="post",
        allowed=BRANCH_MANAGE_PAGES,
        check_unchanged=lambda obj: _assert(Branch.objects.get(pk=obj.pk).is_active),
    ),
    Row(
        name="page core:membership_grant (form)",
        url=lambda obj: _reverse("core:membership_grant", pk=obj.pk),
        allowed=MEMBERSHIP_MANAGE_PAGES,
    ),
    Row(
        name="page core:membership_revoke",
        url=lambda obj: _reverse("core:membership_revoke", pk=obj.pk),
        target="membership",
        method="post",
        allowed=MEMBERSHIP_MANAGE_PAGES,
        check_unchanged=lambda obj: _assert(Membership.objects.filter(pk=obj.pk).exists()),
    ),
    Row(
        name="page core:outbox",
        url=lambda obj: _reverse("core:outbox"),
        target="dead_message",
        kind="list",
        allowed=OUTBOX_SEE_PAGES,
    ),
    Row(
        name="page core:outbox_retry",
        url=lambda obj: _reverse("core:outbox_retry", pk=obj.pk),
        target="dead_message",
        method="post",
        allowed=OUTBOX_RETRY_PAGES,
        check_unchanged=lambda obj: _assert(
            OutboxMessage.objects.get(pk=obj.pk).status == OutboxMessage.Status.DEAD
        ),
    ),
    Row(
        name="page privacy:staff_requests",
        url=lambda obj: _reverse("privacy:staff_requests"),
        target="data_request",
        kind="list",
        allowed=PRIVACY_MANAGE_PAGES,
    ),
    Row(
        name="page privacy:staff_request",
        url=lambda obj: _reverse("privacy:staff_request", pk=obj.pk),
        target="data_request",
        allowed=PRIVACY_MANAGE_PAGES,
    ),
    Row(
        name="page privacy:staff_request_decide",
        url=lambda obj: _reverse("privacy:staff_request_decide", pk=obj.pk),
        target="data_request",
        method="post",
        data={"to_status": "in_review"},
        allowed=PRIVACY_MANAGE_PAGES,
        check_unchanged=lambda obj: _assert(
            DataRequest.objects.get(pk=obj.pk).status == DataRequest.Status.SUBMITTED
        ),
    ),
    Row(
        name="page uploads:file",
        url=lambda obj: _reverse("uploads:file", pk=obj.pk),
        target="attachment",
        allowed=ATTACHMENT_SEE_PAGES,
    ),
    Row(
        name="page uploads:list",
        url=lambda obj: _reverse("uploads:list"),
        target="attachment",
        kind="list",
        allowed=ATTACHMENT_SEE_PAGES,
    ),
    Row(
        name="page uploads:delete",
        url=lambda obj: _reverse("uploads:delete", pk=obj.pk),
        target="attachment",
        method="post",
        allowed=ATTACHMENT_MANAGE_PAGES,
        check_unchanged=lambda obj: _assert(Attachment.objects.filter(pk=obj.pk).exists()),
    ),
    Row(
        name="api GET /attachments/{id}",
        url=lambda obj: f"/api/v1/attachments/{obj.pk}",
        target="attachment",
        allowed=ATTACHMENT_SEE_API,
    ),
    Row(
        name="api GET /attachments/{id}/content",
        url=lambda obj: f"/api/v1/attachments/{obj.pk}/content",
        target="attachment",
        allowed=ATTACHMENT_SEE_API,
    ),
    Row(
        name="page approvals:inbox",
        url=lambda obj: _reverse("approvals:inbox"),
        target="approval",
        kind="list",
        allowed=APPROVAL_DECIDE_PAGES,
    ),
    Row(
        name="page approvals:detail",
        url=lambda obj: _reverse("approvals:detail", pk=obj.pk),
        target="approval",
        allowed=APPROVAL_SEE_PAGES,
    ),
    Row(
        name="page approvals:decide",
        url=lambda obj: _reverse("approvals:decide", pk=obj.pk),
        target="approval",
        method="post",
        data={"outcome": "approve"},
        allowed=APPROVAL_DECIDE_PAGES,
        check_unchanged=lambda obj: _assert(not Decision.objects.filter(request=obj).exists()),
    ),
    Row(
        name="api GET /approvals/pending",
        url=lambda obj: "/api/v1/approvals/pending?limit=200",
        target="approval",
        kind="list",
        allowed=APPROVAL_DECIDE_API,
    ),
    Row(
        name="api GET /approvals/{id}",
        url=lambda obj: f"/api/v1/approvals/{obj.pk}",
        target="approval",
        allowed=APPROVAL_SEE_API,
    ),
    Row(
        name="page funds:project_detail",
        url=lambda obj: _reverse("funds:project_detail", pk=obj.pk),
        target="project",
        allowed=PROJECT_SEE_PAGES,
    ),
    Row(
        name="page funds:project_transition",
        url=lambda obj: _reverse("funds:project_transition", pk=obj.pk),
        target="project",
        method="post",
        data={"to": "in_approval"},
        allowed=PROJECT_MANAGE_PAGES,
        check_unchanged=lambda obj: _assert(
            FundraisingProject.objects.get(pk=obj.pk).status == FundraisingProject.Status.DRAFT
        ),
    ),
    Row(
        name="page funds:project_edit",
        url=lambda obj: _reverse("funds:project_edit", pk=obj.pk),
        target="project",
        allowed=PROJECT_MANAGE_PAGES,
    ),
    Row(
        name="page funds:donation_list",
        url=lambda obj: _reverse("funds:donation_list"),
        target="donation",
        kind="list",
        allowed=DONATION_SEE_PAGES,
    ),
    Row(
        name="page funds:donation_detail",
        url=lambda obj: _reverse("funds:donation_detail", out_trade_no=obj.out_trade_no),
        target="donation",
        allowed=DONATION_SEE_PAGES,
    ),
    Row(
        name="page funds:donation_refund",
        url=lambda obj: _reverse("funds:donation_refund", out_trade_no=obj.out_trade_no),
        target="donation",
        method="post",
        data={"amount_fen": "1.00", "reason": "matrix", "out_refund_no": "RF-MATRIX-1"},
        allowed=DONATION_REFUND_PAGES,
        check_unchanged=lambda obj: _assert(not Refund.objects.filter(donation=obj).exists()),
    ),
    Row(
        name="page funds:payment_rejections",
        url=lambda obj: _reverse("funds:payment_rejections"),
        target="donation",
        allowed=REJECTIONS_SEE_PAGES,
    ),
    Row(
        name="api GET /staff/donations",
        url=lambda obj: "/api/v1/staff/donations?limit=200",
        target="donation",
        kind="list",
        allowed=DONATION_SEE_API,
    ),
    Row(
        name="page funds:reconciliation_list",
        url=lambda obj: _reverse("funds:reconciliation_list"),
        target="reconciliation",
        kind="list",
        allowed=RECONCILIATION_SEE_PAGES,
    ),
    Row(
        name="page funds:reconciliation_detail",
        url=lambda obj: _reverse("funds:reconciliation_detail", pk=obj.pk),
        target="reconciliation",
        allowed=RECONCILIATION_SEE_PAGES,
    ),
    Row(
        name="page funds:reconciliation_upload",
        url=lambda obj: _reverse("funds:reconciliation_upload"),
        target="reconciliation",
        method="post",
        data={
            "channel": "sandbox",
            "day": "2025-06-15",
            "file": _RewindingBill(
                b"out_trade_no,txn_id,kind,amount_fen,time,out_refund_no\n", name="bill.csv"
            ),
        },
        allowed=RECONCILIATION_MANAGE_PAGES,
        check_unchanged=_no_upload_stored,
    ),
    # --- issue 6, recipient institutions (helper E) ---
    Row(
        name="page recipients:institution_list",
        url=lambda obj: _reverse("recipients:institution_list"),
        target="institution",
        kind="list",
        allowed=RECIPIENTS_PAGES,
    ),
    Row(
        name="page recipients:institution_detail",
        url=lambda obj: _reverse("recipients:institution_detail", pk=obj.pk),
        target="institution",
        allowed=RECIPIENTS_PAGES,
    ),
    Row(
        name="page recipients:institution_edit (form)",
        url=lambda obj: _reverse("recipients:institution_edit", pk=obj.pk),
        target="institution",
        allowed=RECIPIENTS_PAGES,
    ),
    Row(
        name="page recipients:institution_deactivate",
        url=lambda obj: _reverse("recipients:institution_deactivate", pk=obj.pk),
        target="institution",
        method="post",
        allowed=RECIPIENTS_PAGES,
        check_unchanged=lambda obj: _assert(Institution.objects.get(pk=obj.pk).is_active),
    ),
    Row(
        name="page recipients:member_add",
        url=lambda obj: _reverse("recipients:member_add", pk=obj.pk),
        target="institution",
        method="post",
        data={"mobile": "13800138000"},
        allowed=RECIPIENTS_PAGES,
        check_unchanged=lambda obj: _assert(not InstitutionMember.objects.filter(institution=obj).exists()),
    ),
    Row(
        name="api GET /staff/institutions",
        url=lambda obj: "/api/v1/staff/institutions?limit=200",
        target="institution",
        kind="list",
        allowed=RECIPIENTS_API,
    ),
    Row(
        name="api GET /staff/institutions/{id}",
        url=lambda obj: f"/api/v1/staff/institutions/{obj.pk}",
        target="institution",
        allowed=RECIPIENTS_API,
    ),
    # --- end of helper E's rows ---
]


# --- issue 6, bank statements and the Charity-law watch (helper B) ---------------------


def _statement_target(tree: Tree, personas: Personas, target: str) -> Any:
    from rendao.disbursements.statements import statement_import
    from rendao.disbursements.tests.statement_files import csv_bytes

    # One outgoing transfer nobody recorded: the statement has one difference to resolve.
    return statement_import(
        actor=personas.finance,
        branch=getattr(tree, target),
        filename=f"{target}.csv",
        content=csv_bytes([["2026-03-02", f"UNKNOWN-{target}", "", "5.00", "", ""]]),
    )


def _statement_difference_target(tree: Tree, personas: Personas, target: str) -> Any:
    return _statement_target(tree, personas, target).differences.get()


def _difference_unresolved(obj: Any) -> None:
    obj.refresh_from_db()
    _assert(obj.resolved_at is None)


TARGET_BUILDERS["statement"] = _statement_target
TARGET_BUILDERS["statement_difference"] = _statement_difference_target

# Statements: FINANCE_VIEW at the statement's branch to read, FINANCE_MANAGE to resolve.
STATEMENT_SEE_PAGES = {t: {"finance", "auditor", "leader"} for t in TARGETS}
STATEMENT_SEE_API = {t: STATEMENT_SEE_PAGES[t] | {"finance+token"} for t in TARGETS}
STATEMENT_MANAGE_PAGES = {t: {"finance"} for t in TARGETS}
# The Charity-law watch: FINANCE_VIEW or DASHBOARD_VIEW at the branch.
WATCH_SEE_PAGES = {
    "siming": {"siming_staff", "city_staff", "finance", "reviewer", "auditor", "leader"},
    "huli": {"huli_staff", "city_staff", "finance", "auditor", "leader"},
}

ROWS += [
    Row(
        name="page bank_statements:statement_list",
        url=lambda obj: _reverse("bank_statements:statement_list"),
        target="statement",
        kind="list",
        allowed=STATEMENT_SEE_PAGES,
    ),
    Row(
        name="page bank_statements:statement_detail",
        url=lambda obj: _reverse("bank_statements:statement_detail", pk=obj.pk),
        target="statement",
        allowed=STATEMENT_SEE_PAGES,
    ),
    Row(
        name="page bank_statements:difference_resolve",
        url=lambda obj: _reverse(
            "bank_statements:difference_resolve", pk=obj.statement_id, difference_pk=obj.pk
        ),
        target="statement_difference",
        method="post",
        data={"resolution": "银行手续费"},
        allowed=STATEMENT_MANAGE_PAGES,
        check_unchanged=_difference_unresolved,
    ),
    Row(
        name="api GET /staff/bank-statements",
        url=lambda obj: "/api/v1/staff/bank-statements?limit=200",
        target="statement",
        kind="list",
        allowed=STATEMENT_SEE_API,
    ),
    Row(
        name="api GET /staff/bank-statements/{id}",
        url=lambda obj: f"/api/v1/staff/bank-statements/{obj.pk}",
        target="statement",
        allowed=STATEMENT_SEE_API,
    ),
    Row(
        name="api GET /staff/bank-statements/{id}/lines",
        url=lambda obj: f"/api/v1/staff/bank-statements/{obj.pk}/lines",
        target="statement",
        allowed=STATEMENT_SEE_API,
    ),
    Row(
        name="page bank_statements:charity_law",
        url=lambda obj: f"{_reverse('bank_statements:charity_law')}?branch={obj.pk}&year=2025",
        allowed=WATCH_SEE_PAGES,
    ),
]


# --- issue 6, warehouses, intake and stock (helper C) ------------------------------------


def _goods_intake_target(tree: Tree, personas: Personas, target: str) -> Any:
    # A warehouse at the street (思明) or the school (湖里) with one intake in it,
    # received by a warehouse keeper there who is not an actor.
    from rendao.goods.intake import IntakeLine, intake_record
    from rendao.goods.warehouses import warehouse_create

    branch = _branch_target(tree, personas, target)
    keeper = make_staff(f"matrix_keeper_{target}", branch, "warehouse_keeper")
    warehouse = warehouse_create(actor=keeper, branch=branch, name=f"matrix warehouse {target}")
    return intake_record(
        actor=keeper,
        warehouse=warehouse,
        donor_kind="anonymous",
        lines=[IntakeLine(item_name="矿泉水", unit="箱", quantity=5, unit_value_fen=100)],
    )


def _goods_warehouse_target(tree: Tree, personas: Personas, target: str) -> Any:
    return _goods_intake_target(tree, personas, target).warehouse


def _goods_lot_target(tree: Tree, personas: Personas, target: str) -> Any:
    return _goods_intake_target(tree, personas, target).lots.get()


def _no_stocktake(obj: Any) -> None:
    _assert(not obj.stocktakes.exists())


TARGET_BUILDERS["goods_intake"] = _goods_intake_target
TARGET_BUILDERS["goods_warehouse"] = _goods_warehouse_target
TARGET_BUILDERS["goods_lot"] = _goods_lot_target

# GOODS_VIEW: branch administrators in scope, and finance, auditor and leader (city);
# GOODS_MANAGE: the branch administrators. Tokens: their user's scope (auditors and
# leaders hold no token.use).
GOODS_SEE_PAGES = {
    "siming": {"siming_staff", "city_staff", "finance", "auditor", "leader"},
    "huli": {"huli_staff", "city_staff", "finance", "auditor", "leader"},
}
GOODS_SEE_API = {
    "siming": GOODS_SEE_PAGES["siming"] | {"siming_staff+token", "finance+token"},
    "huli": GOODS_SEE_PAGES["huli"] | {"city_staff+token@huli", "finance+token"},
}
GOODS_MANAGE_PAGES = {"siming": {"siming_staff", "city_staff"}, "huli": {"huli_staff", "city_staff"}}

ROWS += [
    Row(
        name="page goods:warehouse_stock",
        url=lambda obj: _reverse("goods:warehouse_stock", pk=obj.pk),
        target="goods_warehouse",
        allowed=GOODS_SEE_PAGES,
    ),
    Row(
        name="page goods:lot_detail",
        url=lambda obj: _reverse("goods:lot_detail", pk=obj.pk),
        target="goods_lot",
        allowed=GOODS_SEE_PAGES,
    ),
    Row(
        name="page goods:intake_detail",
        url=lambda obj: _reverse("goods:intake_detail", pk=obj.pk),
        target="goods_intake",
        allowed=GOODS_SEE_PAGES,
    ),
    Row(
        name="page goods:stocktake_open",
        url=lambda obj: _reverse("goods:stocktake_open", pk=obj.pk),
        target="goods_warehouse",
        method="post",
        allowed=GOODS_MANAGE_PAGES,
        check_unchanged=_no_stocktake,
    ),
    Row(
        name="api GET /staff/goods/warehouses/{id}/stock",
        url=lambda obj: f"/api/v1/staff/goods/warehouses/{obj.pk}/stock",
        target="goods_warehouse",
        allowed=GOODS_SEE_API,
    ),
    Row(
        name="api GET /staff/goods/intakes",
        url=lambda obj: "/api/v1/staff/goods/intakes?limit=200",
        target="goods_intake",
        kind="list",
        allowed=GOODS_SEE_API,
    ),
    Row(
        name="api GET /staff/goods/intakes/{id}",
        url=lambda obj: f"/api/v1/staff/goods/intakes/{obj.pk}",
        target="goods_intake",
        allowed=GOODS_SEE_API,
    ),
]


# --- issue 6, disbursements (helper A) --------------------------------------------------


def _disbursement_target(tree: Tree, personas: Personas, target: str) -> Any:
    # An approved disbursement out of a project fund of the street (思明) or the
    # school (湖里), requested and approved by staff there who are not actors
    # (the city's finance officer takes the flow's second step: setup only).
    from rendao.approvals.models import Outcome
    from rendao.approvals.services import request_decide
    from rendao.disbursements.services import disbursement_request
    from rendao.funds.models import Account

    branch = _branch_target(tree, personas, target)
    local_finance = make_staff(f"matrix_disb_finance_{target}", branch, Role.FINANCE)
    local_admin = make_staff(f"matrix_disb_admin_{target}", branch, Role.BRANCH_ADMIN)
    project = open_project(branch, local_finance, title=f"matrix disbursement {target}")
    pay(donate(project, amount_fen=100_000))
    payee = Institution.objects.create(branch=branch, name=f"matrix payee {target}", kind="hospital")
    d = disbursement_request(
        actor=local_finance,
        fund=Account.objects.get(code=f"RF-{project.pk}"),
        payee=payee,
        amount_fen=50_000,
        purpose="matrix",
        category="charitable",
        payee_bank_account="matrix 0001",
    )
    assert d.approval_request is not None
    request_decide(actor=local_admin, request=d.approval_request, outcome=Outcome.APPROVE)
    request_decide(actor=personas.finance, request=d.approval_request, outcome=Outcome.APPROVE)
    d.refresh_from_db()
    return d


def _no_disbursement_payment(obj: Any) -> None:
    from rendao.disbursements.models import Payment

    _assert(not Payment.objects.filter(disbursement=obj).exists())


# Who may read disbursements (FINANCE_VIEW) and record their payments (FINANCE_MANAGE);
# the API also takes the finance officer's token (auditors and leaders hold no token.use).
DISBURSEMENT_SEE_PAGES = {t: {"finance", "auditor", "leader"} for t in TARGETS}
DISBURSEMENT_SEE_API = {t: DISBURSEMENT_SEE_PAGES[t] | {"finance+token"} for t in TARGETS}
DISBURSEMENT_MANAGE_PAGES = {t: {"finance"} for t in TARGETS}

TARGET_BUILDERS["disbursement"] = _disbursement_target
ROWS += [
    Row(
        name="page disbursements:list",
        url=lambda obj: _reverse("disbursements:list"),
        target="disbursement",
        kind="list",
        allowed=DISBURSEMENT_SEE_PAGES,
    ),
    Row(
        name="page disbursements:detail",
        url=lambda obj: _reverse("disbursements:detail", number=obj.number),
        target="disbursement",
        allowed=DISBURSEMENT_SEE_PAGES,
    ),
    Row(
        name="page disbursements:create",
        url=lambda obj: _reverse("disbursements:create"),
        target="disbursement",
        allowed=DISBURSEMENT_MANAGE_PAGES,
    ),
    Row(
        name="page disbursements:pay",
        url=lambda obj: _reverse("disbursements:pay", number=obj.number),
        target="disbursement",
        method="post",
        data={"bank_reference": "MATRIX-1", "paid_on": "2026-01-02", "amount_fen": "1.00"},
        allowed=DISBURSEMENT_MANAGE_PAGES,
        check_unchanged=_no_disbursement_payment,
    ),
    Row(
        name="page disbursements:cancel",
        url=lambda obj: _reverse("disbursements:cancel", number=obj.number),
        target="disbursement",
        method="post",
        data={"reason": "matrix"},
        allowed=DISBURSEMENT_MANAGE_PAGES,
        check_unchanged=lambda obj: _assert(type(obj).objects.get(pk=obj.pk).status == "approved"),
    ),
    Row(
        name="api GET /staff/disbursements",
        url=lambda obj: "/api/v1/staff/disbursements?limit=200",
        target="disbursement",
        kind="list",
        allowed=DISBURSEMENT_SEE_API,
    ),
    Row(
        name="api GET /staff/disbursements/{number}",
        url=lambda obj: f"/api/v1/staff/disbursements/{obj.number}",
        target="disbursement",
        allowed=DISBURSEMENT_SEE_API,
    ),
]

# --- end of helper A's block ---------------------------------------------------------


# --- issue 6, distribution orders and write-offs (helper D) -----------------------------


def _goods_order_target(tree: Tree, personas: Personas, target: str) -> Any:
    # An approved order from a warehouse at the street (思明) or the school (湖里) to
    # an institution there, requested by a warehouse keeper and approved by a
    # branch administrator there, neither of them an actor.
    from rendao.goods import distribution
    from rendao.goods.tests import goods_factory

    branch = _branch_target(tree, personas, target)
    keeper = make_staff(f"matrix_order_keeper_{target}", branch, "warehouse_keeper")
    local_admin = make_staff(f"matrix_order_admin_{target}", branch, Role.BRANCH_ADMIN)
    warehouse = goods_factory.warehouse(branch)
    goods_factory.lot(warehouse, receiver=keeper, quantity=10)
    recipient = goods_factory.institution(branch, f"matrix recipient {target}")
    order = distribution.order_request(
        actor=keeper,
        warehouse=warehouse,
        recipient=recipient,
        purpose="matrix",
        lines=[("书包", "", "个", 5)],
    )
    assert order.approval_request is not None
    goods_factory.decide_all(order.approval_request, local_admin)
    order.refresh_from_db()
    return order


def _goods_writeoff_target(tree: Tree, personas: Personas, target: str) -> Any:
    from rendao.goods import writeoffs
    from rendao.goods.tests import goods_factory

    branch = _branch_target(tree, personas, target)
    keeper = make_staff(f"matrix_writeoff_keeper_{target}", branch, "warehouse_keeper")
    warehouse = goods_factory.warehouse(branch)
    lot = goods_factory.lot(warehouse, receiver=keeper, quantity=10)
    return writeoffs.writeoff_request(
        actor=keeper, warehouse=warehouse, lot=lot, quantity=2, reason="damaged", explanation="matrix"
    )


def _order_not_issued(obj: Any) -> None:
    _assert(type(obj).objects.get(pk=obj.pk).status == "approved")


TARGET_BUILDERS["goods_order"] = _goods_order_target
TARGET_BUILDERS["goods_writeoff"] = _goods_writeoff_target
# The order and write-off forms: GOODS_MANAGE anywhere (the branch administrators),
# whichever target is built; the service checks the chosen warehouse's branch.
GOODS_MANAGE_ANYWHERE_PAGES = {t: {"siming_staff", "huli_staff", "city_staff"} for t in TARGETS}

ROWS += [
    Row(
        name="page goods_distribution:order_list",
        url=lambda obj: _reverse("goods_distribution:order_list"),
        target="goods_order",
        kind="list",
        allowed=GOODS_SEE_PAGES,
    ),
    Row(
        name="page goods_distribution:order_detail",
        url=lambda obj: _reverse("goods_distribution:order_detail", pk=obj.pk),
        target="goods_order",
        allowed=GOODS_SEE_PAGES,
    ),
    Row(
        name="page goods_distribution:order_create (form)",
        url=lambda obj: _reverse("goods_distribution:order_create"),
        target="goods_order",
        allowed=GOODS_MANAGE_ANYWHERE_PAGES,
    ),
    Row(
        name="page goods_distribution:order_issue (preview)",
        url=lambda obj: _reverse("goods_distribution:order_issue", pk=obj.pk),
        target="goods_order",
        allowed=GOODS_MANAGE_PAGES,
    ),
    Row(
        name="page goods_distribution:order_issue",
        url=lambda obj: _reverse("goods_distribution:order_issue", pk=obj.pk),
        target="goods_order",
        method="post",
        allowed=GOODS_MANAGE_PAGES,
        check_unchanged=_order_not_issued,
    ),
    Row(
        name="page goods_distribution:writeoff_list",
        url=lambda obj: _reverse("goods_distribution:writeoff_list"),
        target="goods_writeoff",
        kind="list",
        allowed=GOODS_SEE_PAGES,
    ),
    Row(
        name="page goods_distribution:writeoff_detail",
        url=lambda obj: _reverse("goods_distribution:writeoff_detail", pk=obj.pk),
        target="goods_writeoff",
        allowed=GOODS_SEE_PAGES,
    ),
    Row(
        name="page goods_distribution:writeoff_create (form)",
        url=lambda obj: _reverse("goods_distribution:writeoff_create"),
        target="goods_writeoff",
        allowed=GOODS_MANAGE_ANYWHERE_PAGES,
    ),
    Row(
        name="api GET /staff/goods/orders",
        url=lambda obj: "/api/v1/staff/goods/orders?limit=200",
        target="goods_order",
        kind="list",
        allowed=GOODS_SEE_API,
    ),
    Row(
        name="api GET /staff/goods/orders/{id}",
        url=lambda obj: f"/api/v1/staff/goods/orders/{obj.pk}",
        target="goods_order",
        allowed=GOODS_SEE_API,
    ),
    Row(
        name="api GET /staff/goods/write-offs",
        url=lambda obj: "/api/v1/staff/goods/write-offs?limit=200",
        target="goods_writeoff",
        kind="list",
        allowed=GOODS_SEE_API,
    ),
    Row(
        name="api GET /staff/goods/write-offs/{id}",
        url=lambda obj: f"/api/v1/staff/goods/write-offs/{obj.pk}",
        target="goods_writeoff",
        allowed=GOODS_SEE_API,
    ),
]

# --- end of helper D's block ---------------------------------------------------------


# --- issue 7, staff disclosures (helper E) ------------------------------------------------


def _disclosure_target(tree: Tree, personas: Personas, target: str, stage: str = "draft") -> Any:
    # A disclosure of the street (思明) or the school (湖里), drafted by a finance
    # officer there who is not an actor; "pending" is submitted for approval (its
    # deciders are the branch administrators there or above), "published" is out.
    from rendao.disclosure.services import disclosure_draft, disclosure_publish, disclosure_submit

    branch = _branch_target(tree, personas, target)
    drafter = make_staff(f"matrix_disclosure_finance_{target}", branch, Role.FINANCE)
    d = disclosure_draft(
        actor=drafter,
        branch=branch,
        kind="progress_quarterly",
        period_start=date(2026, 7, 1),
        period_end=date(2026, 9, 30),
        title=f"matrix disclosure {target}",
        body="-",
        figures={"received": 100},
    )
    if stage == "pending":
        disclosure_submit(actor=drafter, disclosure=d)
    elif stage == "published":
        d = disclosure_publish(actor=drafter, disclosure=d)
    d.refresh_from_db()
    return d


def _disclosure_unchanged(status: str) -> Callable[[Any], None]:
    def check(obj: Any) -> None:
        _assert(type(obj).objects.filter(series=obj.series).count() == 1)
        _assert(type(obj).objects.get(pk=obj.pk).status == status)
        _assert(type(obj).objects.get(pk=obj.pk).title == obj.title)

    return check


DISCLOSURE_FORM = {
    "kind": "progress_quarterly",
    "period_start": "2026-07-01",
    "period_end": "2026-09-30",
    "title": "matrix changed",
    "body": "-",
    "figures": "received = 1.00",
}
# Who may read disclosures (FINANCE_VIEW) and draft, edit, submit and correct them
# (FINANCE_MANAGE); the API also takes the finance officer's token. A disclosure in
# approval is also shown to those who may decide it (the engine's rule).
DISCLOSURE_SEE_PAGES = {t: {"finance", "auditor", "leader"} for t in TARGETS}
DISCLOSURE_SEE_API = {t: DISCLOSURE_SEE_PAGES[t] | {"finance+token"} for t in TARGETS}
DISCLOSURE_MANAGE_PAGES = {t: {"finance"} for t in TARGETS}
DISCLOSURE_PENDING_SEE_PAGES = {t: DISCLOSURE_SEE_PAGES[t] | APPROVAL_DECIDE_PAGES[t] for t in TARGETS}
DISCLOSURE_PENDING_SEE_API = {t: DISCLOSURE_SEE_API[t] | APPROVAL_DECIDE_API[t] for t in TARGETS}

TARGET_BUILDERS["disclosure"] = _disclosure_target
TARGET_BUILDERS["disclosure_pending"] = lambda tree, personas, target: _disclosure_target(
    tree, personas, target, "pending"
)
TARGET_BUILDERS["disclosure_published"] = lambda tree, personas, target: _disclosure_target(
    tree, personas, target, "published"
)
ROWS += [
    Row(
        name="page disclosure:staff_list",
        url=lambda obj: _reverse("disclosure:staff_list"),
        target="disclosure",
        kind="list",
        allowed=DISCLOSURE_SEE_PAGES,
    ),
    Row(
        name="page disclosure:staff_detail",
        url=lambda obj: _reverse("disclosure:staff_detail", pk=obj.pk),
        target="disclosure",
        allowed=DISCLOSURE_SEE_PAGES,
    ),
    Row(
        name="page disclosure:staff_detail (in approval)",
        url=lambda obj: _reverse("disclosure:staff_detail", pk=obj.pk),
        target="disclosure_pending",
        allowed=DISCLOSURE_PENDING_SEE_PAGES,
    ),
    Row(
        name="page disclosure:staff_create (form)",
        url=lambda obj: _reverse("disclosure:staff_create"),
        target="disclosure",
        allowed=DISCLOSURE_MANAGE_PAGES,
    ),
    Row(
        name="page disclosure:staff_edit (form)",
        url=lambda obj: _reverse("disclosure:staff_edit", pk=obj.pk),
        target="disclosure",
        allowed=DISCLOSURE_MANAGE_PAGES,
    ),
    Row(
        name="page disclosure:staff_edit",
        url=lambda obj: _reverse("disclosure:staff_edit", pk=obj.pk),
        target="disclosure",
        method="post",
        data=DISCLOSURE_FORM,
        allowed=DISCLOSURE_MANAGE_PAGES,
        check_unchanged=_disclosure_unchanged("draft"),
    ),
    Row(
        name="page disclosure:staff_submit",
        url=lambda obj: _reverse("disclosure:staff_submit", pk=obj.pk),
        target="disclosure",
        method="post",
        allowed=DISCLOSURE_MANAGE_PAGES,
        check_unchanged=_disclosure_unchanged("draft"),
    ),
    Row(
        name="page disclosure:staff_correct (form)",
        url=lambda obj: _reverse("disclosure:staff_correct", pk=obj.pk),
        target="disclosure_published",
        allowed=DISCLOSURE_MANAGE_PAGES,
    ),
    Row(
        name="page disclosure:staff_correct",
        url=lambda obj: _reverse("disclosure:staff_correct", pk=obj.pk),
        target="disclosure_published",
        method="post",
        data={"title": "matrix", "body": "-", "figures": "received = 2.00", "correction_note": "matrix"},
        allowed=DISCLOSURE_MANAGE_PAGES,
        check_unchanged=_disclosure_unchanged("published"),
    ),
    Row(
        name="api GET /staff/disclosures",
        url=lambda obj: "/api/v1/staff/disclosures?limit=200",
        target="disclosure",
        kind="list",
        allowed=DISCLOSURE_SEE_API,
    ),
    Row(
        name="api GET /staff/disclosures/{id}",
        url=lambda obj: f"/api/v1/staff/disclosures/{obj.pk}",
        target="disclosure",
        allowed=DISCLOSURE_SEE_API,
    ),
    Row(
        name="api GET /staff/disclosures/{id} (in approval)",
        url=lambda obj: f"/api/v1/staff/disclosures/{obj.pk}",
        target="disclosure_pending",
        allowed=DISCLOSURE_PENDING_SEE_API,
    ),
]

# --- end of helper E's disclosure block ------------------------------------------------


# --- issue 7, the 慈善中国 export (helper B) ---------------------------------------------


def _cszg_url(obj: Any) -> str | None:
    base = _reverse("disclosure:cszg_export")
    return None if base is None else f"{base}?project={obj.pk}&start=2026-01-01&end=2026-01-31"


# Who may export a project for 慈善中国: finance read or manage rights over its branch
# (finance, auditor and leader at the city society); pages ignore tokens.
CSZG_EXPORT_PAGES = {t: {"finance", "auditor", "leader"} for t in TARGETS}

ROWS += [
    Row(
        name="page disclosure:cszg_export",
        url=_cszg_url,
        target="project",
        allowed=CSZG_EXPORT_PAGES,
    ),
]

# --- end of helper B's block ---------------------------------------------------------


# --- issue 7, the disclosure calendar (helper D) ------------------------------------------

# FINANCE_VIEW at the branch shown: finance, auditor and leader (all at the city).
CALENDAR_SEE_PAGES = {t: {"finance", "auditor", "leader"} for t in TARGETS}

ROWS += [
    Row(
        name="page disclosure:calendar",
        url=lambda obj: f"{_reverse('disclosure:calendar')}?branch={obj.pk}",
        allowed=CALENDAR_SEE_PAGES,
    ),
]

# --- end of helper D's calendar block ---------------------------------------------------


def _assert(condition: bool) -> None:
    assert condition, "a refused request changed something"


# --- machinery ------------------------------------------------------------------------


def _client(actor: str, personas: Personas) -> Client:
    if actor == "anonymous":
        return Client()
    if actor == "city_staff_unverified":
        return signed_in_client(personas.city_staff, verified=False)
    if actor in TOKEN_ACTORS:
        persona, branch_name = TOKEN_ACTORS[actor]
        branch = getattr(personas.tree, branch_name) if branch_name else None
        _, plaintext = token_create(
            actor=getattr(personas, persona), name="matrix", branch=branch, meta=RequestMeta()
        )
        return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return signed_in_client(getattr(personas, actor))


def _lists(response: Any, obj: Any) -> bool:
    """Whether a list response shows the object."""
    if response["Content-Type"].startswith("application/json"):
        return obj.pk in {item["id"] for item in json.loads(response.content)["items"]}
    if isinstance(obj, OutboxMessage):
        return obj.subject in response.content.decode()
    if isinstance(obj, Attachment):
        return f'href="{_reverse("uploads:file", pk=obj.pk)}"' in response.content.decode()
    # Pages link each object by its detail URL.
    detail = _reverse("core:branch_detail", pk=obj.pk) if isinstance(obj, Branch) else None
    if isinstance(obj, DataRequest):
        detail = _reverse("privacy:staff_request", pk=obj.pk)
    if isinstance(obj, Donation):
        detail = _reverse("funds:donation_detail", out_trade_no=obj.out_trade_no)
    if isinstance(obj, ApprovalRequest):
        detail = _reverse("approvals:detail", pk=obj.pk)
    if isinstance(obj, ReconciliationRun):
        detail = _reverse("funds:reconciliation_detail", pk=obj.pk)
    if isinstance(obj, Institution):  # helper E (issue 6)
        detail = _reverse("recipients:institution_detail", pk=obj.pk)
    if type(obj).__name__ == "Disbursement":  # issue 6, disbursements (helper A)
        detail = _reverse("disbursements:detail", number=obj.number)
    if type(obj).__name__ == "Statement":  # issue 6, bank statements
        detail = _reverse("bank_statements:statement_detail", pk=obj.pk)
    if type(obj).__name__ == "DistributionOrder":  # issue 6, distribution orders (helper D)
        detail = _reverse("goods_distribution:order_detail", pk=obj.pk)
    if type(obj).__name__ == "WriteOff":  # issue 6, write-offs (helper D)
        detail = _reverse("goods_distribution:writeoff_detail", pk=obj.pk)
    if type(obj).__name__ == "Disclosure":  # issue 7, staff disclosures (helper E)
        detail = _reverse("disclosure:staff_detail", pk=obj.pk)
    return detail is not None and f'href="{detail}"' in response.content.decode()


def _refused(response: Any) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    # Pages send the unauthenticated and the half-signed-in to a sign-in page.
    return response.status_code == 302 and "signin" in response["Location"]


CASES = [
    pytest.param(row, actor, target, id=f"{row.name} | {actor} | {target}")
    for row in ROWS
    for actor in ACTORS
    for target in TARGETS
]


def test_the_matrix_covers_every_actor_and_target() -> None:
    for row in ROWS:
        assert set(row.allowed) == set(TARGETS), row.name
        for target, allowed in row.allowed.items():
            assert allowed <= set(ACTORS), (row.name, target, allowed - set(ACTORS))


@pytest.mark.parametrize(("row", "actor", "target"), CASES)
def test_exactly_the_allowed_actors_succeed(personas: Personas, row: Row, actor: str, target: str) -> None:
    obj = TARGET_BUILDERS[row.target](personas.tree, personas, target)
    url = row.url(obj)
    if url is None:
        pytest.skip(f"{row.name} is not in this checkout")
    client = _client(actor, personas)
    response = client.post(url, row.data) if row.method == "post" else client.get(url)
    expected = actor in row.allowed[target]

    if expected:
        if row.method == "post":
            # A page's write answers with a redirect back (POST/redirect/GET).
            assert response.status_code == 302, (response.status_code, response.content[:300])
            assert "signin" not in response["Location"]
            return
        assert 200 <= response.status_code < 300, (response.status_code, response.content[:300])
        if row.kind == "list":
            assert _lists(response, obj), "the object is missing from the list"
    else:
        if row.kind == "list" and 200 <= response.status_code < 300:
            assert not _lists(response, obj), "an out-of-scope object is listed"
        else:
            assert _refused(response), (response.status_code, response.content[:300])
        if row.check_unchanged is not None:
            row.check_unchanged(obj)
