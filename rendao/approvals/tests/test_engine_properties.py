"""Property test: whatever the flow, the people and the order of attempts, an item is
never approved without every required step decided by a distinct, authorised person
who is not the requester.

The oracle below is written from the rules, independently of the engine: which
steps apply (conditions, two-person rule), where each is held (levels on the test
tree), who holds which role where (the generated memberships), who stood in for
whom (the generated delegations).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from rendao.approvals.models import ApprovalRequest, Decision, Delegation, Matter, RequestStatus, RequestStep
from rendao.approvals.selectors import forget_authority_cache, pending_for
from rendao.approvals.services import request_decide, request_resubmit, request_submit
from rendao.approvals.tests.helpers import set_flow
from rendao.conftest import make_tree
from rendao.core.models import Branch, Membership, Role, User

NOW = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)
TWO_PERSON = 5_000_000
ROLES = [Role.BRANCH_ADMIN, Role.REVIEWER, Role.FINANCE]
LEVELS = ["same", "parent", "district", "city"]
BRANCHES = ["city", "siming", "huli", "street", "community", "school"]
PARENT = {
    "city": None,
    "siming": "city",
    "huli": "city",
    "street": "siming",
    "community": "street",
    "school": "huli",
}
USERS = 6

step_st = st.tuples(
    st.sampled_from(ROLES),
    st.sampled_from(LEVELS),
    st.sampled_from([None, None, None, 0, 100, 10_000, 6_000_000]),
)
action_st = st.tuples(
    st.integers(0, USERS - 1),
    st.sampled_from(["approve"] * 6 + ["reject", "return"]),
    st.sampled_from(
        [True, True, True, False]
    ),  # send the current step id (else: none, or a stale one if any)
)


def _ancestors(name: str) -> list[str]:
    out = [name]
    while PARENT[out[-1]] is not None:
        out.append(PARENT[out[-1]])  # type: ignore[arg-type]
    return out


def _level_branch(level: str, name: str) -> str:
    chain = _ancestors(name)  # self, parent, ..., city
    if level == "same":
        return name
    if level == "parent":
        return chain[1] if len(chain) > 1 else name
    if level == "district":
        return chain[-2] if len(chain) > 1 else name
    return chain[-1]


class EngineProperties(TestCase):
    branches: dict[str, Branch]
    roles: dict[str, Role]
    users: list[User]

    @classmethod
    def setUpTestData(cls) -> None:
        tree = make_tree()
        cls.branches = {name: getattr(tree, name) for name in BRANCHES}
        cls.roles = {code: Role.objects.get(code=code) for code in ROLES}
        cls.users = [User.objects.create_user(f"p{i}", password="x" * 12) for i in range(USERS)]

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        flow=st.lists(step_st, min_size=1, max_size=4),
        where=st.sampled_from(BRANCHES),
        amount=st.sampled_from([None, 0, 100, 10_000, 4_999_999, TWO_PERSON, 6_000_000]),
        # One to three roles per person, biased towards the city society and the
        # districts (roles that reach far), so that many examples can actually reach
        # "approved" and the property bites (see --hypothesis-show-statistics).
        memberships=st.lists(
            st.lists(
                st.tuples(
                    st.sampled_from(["city", "city", "siming", "huli", *BRANCHES]), st.sampled_from(ROLES)
                ),
                min_size=1,
                max_size=3,
            ),
            min_size=USERS,
            max_size=USERS,
        ),
        delegations=st.lists(
            st.tuples(st.integers(0, USERS - 1), st.integers(0, USERS - 1), st.booleans()), max_size=3
        ),
        requester=st.integers(0, USERS - 1),
        actions=st.lists(action_st, min_size=1, max_size=30),
    )
    @override_settings(APPROVAL_TWO_PERSON_FEN=TWO_PERSON)
    def test_approval_needs_every_step_by_distinct_authorised_people(
        self,
        flow: list[tuple[str, str, int | None]],
        where: str,
        amount: int | None,
        memberships: list[list[tuple[str, str]]],
        delegations: list[tuple[int, int, bool]],
        requester: int,
        actions: list[tuple[int, str, bool]],
    ) -> None:
        users = self.users
        held = {(u, b, r) for u, roles in enumerate(memberships) for b, r in roles}
        for u, b, r in held:
            Membership.objects.create(user=users[u], branch=self.branches[b], role=self.roles[r])
        active_delegations = set()
        for frm, to, active in delegations:
            if frm == to:
                continue
            starts, ends = (
                (NOW - timedelta(days=1), NOW + timedelta(days=1))
                if active
                else (NOW - timedelta(days=3), NOW - timedelta(days=2))
            )
            Delegation.objects.create(from_user=users[frm], to_user=users[to], starts_at=starts, ends_at=ends)
            if active:
                active_delegations.add((frm, to))
        set_flow(flow)
        matter = Matter.objects.create(
            title="t",
            description="d",
            amount_fen=amount,
            branch=self.branches[where],
            requested_by=users[requester],
        )
        # Which steps must apply, and where, from the rules alone.
        expected = [
            (r, _level_branch(lv, where))
            for r, lv, m in flow
            if m is None or (amount is not None and amount >= m)
        ]
        if not expected:
            # Nothing would ever decide it: the engine refuses it instead of approving it.
            with pytest.raises(ValidationError):
                request_submit(actor=users[requester], process_type="matter", obj=matter, now=NOW)
            assert not ApprovalRequest.objects.exists()
            return
        if amount is not None and amount >= TWO_PERSON and len(expected) < 2:
            expected.append(expected[-1])
        item = request_submit(actor=users[requester], process_type="matter", obj=matter, now=NOW)
        index_of = {u.pk: i for i, u in enumerate(users)}

        def holds(person: int, role: str, branch: str) -> bool:
            return any((person, b, role) in held for b in _ancestors(branch))

        stale: int | None = None
        for who, outcome, send_step in actions:
            item.refresh_from_db()
            if item.status == RequestStatus.RETURNED and who == requester:
                request_resubmit(actor=users[who], request=item, now=NOW)
                continue
            # The inbox query and the service must agree on who may decide now.
            # Fresh rows: the user objects outlive one example, as they never do a request.
            forget_authority_cache(users[who])
            listed = pending_for(users[who], now=NOW).filter(pk=item.pk).exists()
            step_id = item.current_step_id if send_step else stale
            try:
                request_decide(
                    actor=users[who], request=item, outcome=outcome, comment="c", step_id=step_id, now=NOW
                )
            except PermissionDenied:
                assert not listed
            except ValidationError:
                pass
            else:
                assert listed
            stale = item.current_step_id

        item = ApprovalRequest.objects.get(pk=item.pk)
        # Shown by --hypothesis-show-statistics: how often the interesting end is reached.
        event(f"final status {item.status}")
        # Every decision ever made was by an authorised person other than the requester,
        # at most one step per person (or principal) per round.
        for rnd in range(1, item.round + 1):
            people: set[int] = set()
            for d in Decision.objects.filter(request=item, round=rnd).select_related(
                "step__role", "step__branch"
            ):
                decider = index_of[d.decided_by_id]
                principal = index_of[d.on_behalf_of_id] if d.on_behalf_of_id else decider
                assert requester not in (decider, principal)
                involved = {decider, principal}
                assert not (involved & people), "one person decided two steps"
                people |= involved
                step_branch = next(n for n, b in self.branches.items() if b.pk == d.step.branch_id)
                assert holds(principal, d.step.role.code, step_branch)
                if principal != decider:
                    assert (principal, decider) in active_delegations
        if item.status == RequestStatus.APPROVED:
            steps = list(
                RequestStep.objects.filter(request=item, round=item.round).select_related("role", "branch")
            )
            assert [(s.role.code, s.branch.name) for s in steps] == [
                (r, self.branches[b].name) for r, b in expected
            ]
            decided = Decision.objects.filter(request=item, round=item.round, outcome="approve")
            assert sorted(d.step_id for d in decided) == sorted(s.pk for s in steps)
