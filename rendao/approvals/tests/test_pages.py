"""The staff approvals pages: inbox, detail and decision form, matter form, delegations."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rendao.approvals.models import ApprovalRequest, Decision, Delegation, Matter, RequestStatus
from rendao.approvals.tests.helpers import requester_at, submit
from rendao.conftest import Personas, signed_in_client
from rendao.core.models import Role

pytestmark = pytest.mark.django_db


def _inbox_queries(client, tab: str = "pending") -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("approvals:inbox"), {"tab": tab})
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_the_inbox_lists_what_i_may_decide_in_constant_queries(personas: Personas) -> None:
    tree = personas.tree
    requester = requester_at(tree.street)
    submit(requester, tree.street, title="first")
    client = signed_in_client(personas.siming_staff)
    few, page = _inbox_queries(client)
    assert "first" in page
    for i in range(12):
        submit(requester, tree.community, title=f"more {i}")
    many, page = _inbox_queries(client)
    assert "more 11" in page
    assert many == few


def test_each_inbox_tab_costs_the_same_whatever_the_number_of_items(personas: Personas) -> None:
    tree = personas.tree
    requester = requester_at(tree.street)
    submit(requester, tree.street)
    client = signed_in_client(requester)
    before = {tab: _inbox_queries(client, tab)[0] for tab in ("pending", "mine", "history")}
    for i in range(8):
        submit(requester, tree.street, title=f"n{i}")
    after = {tab: _inbox_queries(client, tab)[0] for tab in ("pending", "mine", "history")}
    assert after == before


def test_the_inbox_does_not_list_my_own_items_or_other_districts(personas: Personas) -> None:
    tree = personas.tree
    submit(personas.siming_staff, tree.street, title="my own request")
    submit(requester_at(tree.school), tree.school, title="huli matter")
    _n, page = _inbox_queries(signed_in_client(personas.siming_staff))
    assert "my own request" not in page
    assert "huli matter" not in page


def test_the_workbench_shows_how_many_approvals_wait(personas: Personas) -> None:
    tree = personas.tree
    requester = requester_at(tree.street)
    for i in range(3):
        submit(requester, tree.street, title=f"w{i}")
    response = signed_in_client(personas.siming_staff).get(reverse("core:workbench"))
    content = response.content.decode()
    assert (
        "Approvals waiting for your decision" in content
        or "待您审批" in content
        or reverse("approvals:inbox") in content
    )
    assert '<span class="rd-count">3</span>' in content


def test_a_decision_through_the_page(personas: Personas) -> None:
    tree = personas.tree
    item = submit(requester_at(tree.street), tree.street)
    client = signed_in_client(personas.siming_staff)
    detail = client.get(reverse("approvals:detail", kwargs={"pk": item.pk}))
    assert detail.status_code == 200
    assert b'name="outcome"' in detail.content
    response = client.post(
        reverse("approvals:decide", kwargs={"pk": item.pk}),
        {"outcome": "approve", "comment": "", "step": item.current_step_id},
    )
    assert response.status_code == 302
    assert Decision.objects.get().decided_by == personas.siming_staff


@pytest.mark.parametrize(
    "data",
    [
        {"outcome": "reject", "comment": ""},
        {"outcome": "return", "comment": "  "},
        {"outcome": "perhaps", "comment": "x"},
        {"outcome": "approve", "step": "abc"},
        {"comment": "no outcome"},
    ],
)
def test_bad_decision_input_is_refused_with_a_message_and_changes_nothing(
    personas: Personas, data: dict[str, str]
) -> None:
    tree = personas.tree
    item = submit(requester_at(tree.street), tree.street)
    data = {"step": str(item.current_step_id), **data}
    response = signed_in_client(personas.siming_staff).post(
        reverse("approvals:decide", kwargs={"pk": item.pk}), data
    )
    assert response.status_code == 400
    assert b'role="alert"' in response.content
    assert not Decision.objects.exists()
    assert ApprovalRequest.objects.get(pk=item.pk).status == RequestStatus.PENDING


def test_a_get_never_decides(personas: Personas) -> None:
    tree = personas.tree
    item = submit(requester_at(tree.street), tree.street)
    response = signed_in_client(personas.siming_staff).get(
        reverse("approvals:decide", kwargs={"pk": item.pk}),
        {"outcome": "approve", "step": str(item.current_step_id)},
    )
    assert response.status_code == 405
    assert not Decision.objects.exists()


def test_a_matter_is_created_through_the_form(personas: Personas) -> None:
    tree = personas.tree
    requester = requester_at(tree.street)
    client = signed_in_client(requester)
    assert client.get(reverse("approvals:matter_create")).status_code == 200
    response = client.post(
        reverse("approvals:matter_create"),
        {
            "branch": tree.community.pk,
            "title": "Use of the seal",
            "description": "For the MoU.",
            "amount_fen": "1234.56",
        },
    )
    assert response.status_code == 302
    matter = Matter.objects.get()
    assert matter.amount_fen == 123456
    assert matter.branch == tree.community


@pytest.mark.parametrize(
    "data",
    [
        {"title": "", "description": "d"},
        {"title": "t", "description": ""},
        {"title": "t", "description": "d", "amount_fen": "-1"},
        {"title": "t", "description": "d", "amount_fen": "1.234"},
        {"title": "t", "description": "d", "amount_fen": "abc"},
        {"title": "t", "description": "d", "branch": "out"},
    ],
)
def test_bad_matter_input_is_refused_and_nothing_is_stored(personas: Personas, data: dict[str, str]) -> None:
    tree = personas.tree
    requester = requester_at(tree.street)
    data = {"branch": str(tree.street.pk), **data}
    if data["branch"] == "out":
        data["branch"] = str(tree.school.pk)  # outside the requester's subtree
    response = signed_in_client(requester).post(reverse("approvals:matter_create"), data)
    assert response.status_code == 400
    assert not Matter.objects.exists()
    assert not ApprovalRequest.objects.exists()


def test_staff_without_a_business_role_cannot_open_the_matter_form(personas: Personas) -> None:
    for user in (personas.auditor, personas.sysadmin):
        assert signed_in_client(user).get(reverse("approvals:matter_create")).status_code == 403


def test_a_returned_matter_is_revised_through_the_form(personas: Personas) -> None:
    tree = personas.tree
    requester = requester_at(tree.street)
    item = submit(requester, tree.street, amount_fen=10_000)
    signed_in_client(personas.siming_staff).post(
        reverse("approvals:decide", kwargs={"pk": item.pk}),
        {"outcome": "return", "comment": "Attach the quote.", "step": item.current_step_id},
    )
    client = signed_in_client(requester)
    form = client.get(reverse("approvals:matter_revise", kwargs={"pk": item.pk}))
    assert form.status_code == 200
    assert b'value="100.00"' in form.content
    response = client.post(
        reverse("approvals:matter_revise", kwargs={"pk": item.pk}),
        {"title": "Kits, quote attached", "description": "Quote attached.", "amount_fen": "120"},
    )
    assert response.status_code == 302
    item = ApprovalRequest.objects.get(pk=item.pk)
    assert item.status == RequestStatus.PENDING
    assert item.round == 2
    assert item.amount_fen == 12_000


def test_delegations_are_created_and_ended_through_the_page(personas: Personas) -> None:
    client = signed_in_client(personas.siming_staff)
    url = reverse("approvals:delegations")
    bad = client.post(
        url, {"username": "nobody", "starts_at": "2030-01-01T09:00", "ends_at": "2030-01-02T09:00"}
    )
    assert bad.status_code == 400
    assert not Delegation.objects.exists()
    backwards = client.post(
        url, {"username": "reviewer", "starts_at": "2030-01-02T09:00", "ends_at": "2030-01-01T09:00"}
    )
    assert backwards.status_code == 400
    assert not Delegation.objects.exists()
    ok = client.post(
        url, {"username": "reviewer", "starts_at": "2030-01-01T09:00", "ends_at": "2030-01-02T09:00"}
    )
    assert ok.status_code == 302
    delegation = Delegation.objects.get()
    # Someone else's delegation cannot be ended by an outsider.
    assert (
        signed_in_client(personas.huli_staff)
        .post(reverse("approvals:delegation_end", kwargs={"pk": delegation.pk}))
        .status_code
        == 404
    )
    assert client.post(reverse("approvals:delegation_end", kwargs={"pk": delegation.pk})).status_code == 302
    delegation.refresh_from_db()
    assert delegation.ends_at <= delegation.created_at or delegation.starts_at < delegation.ends_at


def test_an_item_out_of_reach_is_a_404(personas: Personas) -> None:
    tree = personas.tree
    item = submit(requester_at(tree.street), tree.street)
    for user in (personas.huli_staff, personas.finance):
        assert (
            signed_in_client(user).get(reverse("approvals:detail", kwargs={"pk": item.pk})).status_code == 404
        )
    # Not staff at all: refused before the item is even looked up.
    assert (
        signed_in_client(personas.outsider)
        .get(reverse("approvals:detail", kwargs={"pk": item.pk}))
        .status_code
        == 403
    )
    # The requester and an auditor see it without a decision form.
    for user in (item.requester, personas.auditor):
        response = signed_in_client(user).get(reverse("approvals:detail", kwargs={"pk": item.pk}))
        assert response.status_code == 200
        assert b'name="outcome"' not in response.content
    assert Role.objects.exists()
