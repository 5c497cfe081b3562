"""Branch and membership reads through the API: public office information for
everyone, scoped lists for staff, constant query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rendao.conftest import Personas, make_staff, signed_in_client
from rendao.core.audit import RequestMeta
from rendao.core.models import Branch, Membership, Role, User
from rendao.core.services.tokens import token_create

pytestmark = pytest.mark.django_db

PUBLIC_FIELDS = {
    "id",
    "name",
    "kind",
    "institution_type",
    "division_code",
    "parent_id",
    "address",
    "contact_phone",
}


def token_client(user: User, branch: Branch | None = None) -> Client:
    _, plaintext = token_create(actor=user, name="test", branch=branch, meta=RequestMeta())
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}")


def get_json(client: Client, url: str) -> tuple[int, Any]:
    response = client.get(url)
    return response.status_code, response.json()


def add_communities(parent: Branch, count: int) -> None:
    for i in range(count):
        Branch.objects.add_child(
            Branch.objects.get(pk=parent.pk),
            instance=Branch(name=f"社区{i}", kind=Branch.Kind.COMMUNITY, contact_name="张三"),
        )


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# --- public -------------------------------------------------------------------------


def test_anyone_lists_active_branches_in_tree_order_with_public_fields_only(personas: Personas) -> None:
    tree = personas.tree
    Branch.objects.filter(pk=tree.school.pk).update(
        is_active=False, contact_name="李老师", population=1200, address="湖里区某路1号"
    )
    Branch.objects.filter(pk=tree.siming.pk).update(contact_name="王主任", contact_phone="0592-1234567")
    status, body = get_json(Client(), "/api/v1/branches")
    assert status == 200
    assert body["count"] == 5
    names = [b["name"] for b in body["items"]]
    assert names == [tree.city.name, tree.siming.name, tree.street.name, tree.community.name, tree.huli.name]
    for item in body["items"]:
        assert set(item) == PUBLIC_FIELDS
    siming = body["items"][1]
    assert siming["parent_id"] == tree.city.pk
    assert siming["contact_phone"] == "0592-1234567"
    assert body["items"][0]["parent_id"] is None
    assert body["items"][3]["parent_id"] == tree.street.pk
    assert "王主任" not in str(body)


def test_the_public_list_pages_with_limit_and_offset(personas: Personas) -> None:
    status, body = get_json(Client(), "/api/v1/branches?limit=2&offset=1")
    assert status == 200
    assert body["count"] == 6
    assert [b["id"] for b in body["items"]] == [personas.tree.siming.pk, personas.tree.street.pk]


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=abc", "offset=-1"])
def test_the_public_list_rejects_bad_paging(personas: Personas, query: str) -> None:
    status, body = get_json(Client(), f"/api/v1/branches?{query}")
    assert status == 422
    assert body["error"]["code"] == "validation_error"
    assert body["error"]["details"][0]["loc"][0] == "query"


def test_the_public_list_costs_two_queries_however_many_branches(personas: Personas) -> None:
    client = Client()
    few = count_queries(client, "/api/v1/branches")
    add_communities(personas.tree.street, 30)
    many = count_queries(client, "/api/v1/branches")
    assert few == many == 2  # the count and the page


def test_anyone_reads_one_active_branch(personas: Personas) -> None:
    tree = personas.tree
    status, body = get_json(Client(), f"/api/v1/branches/{tree.school.pk}")
    assert status == 200
    assert set(body) == PUBLIC_FIELDS
    assert body["kind"] == "institution"
    assert body["institution_type"] == "school"
    assert body["parent_id"] == tree.huli.pk


def test_an_inactive_or_unknown_branch_is_not_found(personas: Personas) -> None:
    Branch.objects.filter(pk=personas.tree.school.pk).update(is_active=False)
    for url in (f"/api/v1/branches/{personas.tree.school.pk}", "/api/v1/branches/999999"):
        status, body = get_json(Client(), url)
        assert status == 404
        assert body["error"]["code"] == "not_found"


# --- staff branches ---------------------------------------------------------------------


def test_staff_list_the_branches_in_their_scope_including_inactive_ones(personas: Personas) -> None:
    tree = personas.tree
    Branch.objects.filter(pk=tree.community.pk).update(is_active=False)
    status, body = get_json(signed_in_client(personas.siming_staff), "/api/v1/staff/branches")
    assert status == 200
    assert [b["id"] for b in body["items"]] == [tree.siming.pk, tree.street.pk, tree.community.pk]
    assert body["items"][2]["is_active"] is False
    assert body["items"][0]["parent_id"] == tree.city.pk


def test_city_staff_see_the_whole_tree(personas: Personas) -> None:
    status, body = get_json(signed_in_client(personas.city_staff), "/api/v1/staff/branches")
    assert status == 200
    assert body["count"] == 6


@pytest.mark.parametrize("who", ["public", "volunteer", "outsider"])
def test_users_without_a_branch_role_are_refused_the_staff_list(personas: Personas, who: str) -> None:
    user = getattr(personas, who)
    status, body = get_json(signed_in_client(user), "/api/v1/staff/branches")
    assert status == 403
    assert body["error"]["code"] == "forbidden"


def test_anonymous_callers_are_asked_to_authenticate(personas: Personas) -> None:
    response = Client().get("/api/v1/staff/branches")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_staff_branch_list_costs_the_same_however_many_branches(personas: Personas) -> None:
    client = token_client(personas.city_staff)
    client.get("/api/v1/me")  # stamps last_used_at, so later requests write nothing
    few = count_queries(client, "/api/v1/staff/branches")
    add_communities(personas.tree.community, 30)
    many = count_queries(client, "/api/v1/staff/branches")
    assert few == many
    # token lookup; the caller's membership rows (once, whatever the number of
    # permissions asked about); count; page
    assert many == 4


# --- staff memberships ------------------------------------------------------------------


def test_staff_list_memberships_in_their_scope(personas: Personas) -> None:
    status, body = get_json(signed_in_client(personas.siming_staff), "/api/v1/staff/memberships")
    assert status == 200
    assert {(m["user"]["username"], m["branch"]["id"]) for m in body["items"]} == {
        ("siming", personas.tree.siming.pk),
        ("reviewer", personas.tree.siming.pk),
    }
    item = body["items"][0]
    assert set(item) == {"id", "user", "role", "branch", "created_at"}
    assert item["role"]["name"] == Role.objects.get(code=item["role"]["code"]).label
    assert set(item["user"]) == {"id", "username", "display_name"}


def test_the_membership_list_filters_by_a_branch_and_its_subtree(personas: Personas) -> None:
    tree = personas.tree
    make_staff("street_reviewer", tree.street, Role.REVIEWER)
    client = signed_in_client(personas.city_staff)
    _, subtree = get_json(client, f"/api/v1/staff/memberships?branch={tree.siming.pk}")
    assert {m["user"]["username"] for m in subtree["items"]} == {"siming", "reviewer", "street_reviewer"}
    _, exact = get_json(client, f"/api/v1/staff/memberships?branch={tree.siming.pk}&subtree=false")
    assert {m["user"]["username"] for m in exact["items"]} == {"siming", "reviewer"}


def test_a_branch_outside_the_scope_is_not_found(personas: Personas) -> None:
    client = signed_in_client(personas.siming_staff)
    for branch_id in (personas.tree.huli.pk, personas.tree.city.pk, 999999):
        status, body = get_json(client, f"/api/v1/staff/memberships?branch={branch_id}")
        assert status == 404
        assert body["error"]["code"] == "not_found"


def test_a_bad_branch_filter_is_a_validation_error(personas: Personas) -> None:
    status, body = get_json(signed_in_client(personas.city_staff), "/api/v1/staff/memberships?branch=abc")
    assert status == 422
    assert body["error"]["details"][0]["loc"] == ["query", "branch"]


def test_roles_without_membership_view_are_refused(personas: Personas) -> None:
    # Finance officers and reviewers see branches but not who works there.
    for user in (personas.finance, personas.reviewer):
        status, body = get_json(signed_in_client(user), "/api/v1/staff/memberships")
        assert status == 403
        assert body["error"]["code"] == "forbidden"


def test_the_membership_list_costs_the_same_however_many_memberships(personas: Personas) -> None:
    client = signed_in_client(personas.city_staff)
    few = count_queries(client, "/api/v1/staff/memberships")
    role = Role.objects.get(code=Role.REVIEWER)
    for i in range(20):
        user = User.objects.create_user(f"extra{i}")
        Membership.objects.create(user=user, branch=personas.tree.street, role=role)
    many = count_queries(client, "/api/v1/staff/memberships")
    assert few == many


# --- me ---------------------------------------------------------------------------------


def test_me_lists_roles_as_role_at_branch(personas: Personas) -> None:
    Membership.objects.create(
        user=personas.siming_staff, branch=personas.tree.street, role=Role.objects.get(code=Role.REVIEWER)
    )
    status, body = get_json(signed_in_client(personas.siming_staff), "/api/v1/me")
    assert status == 200
    admin, reviewer = Role.objects.get(code=Role.BRANCH_ADMIN), Role.objects.get(code=Role.REVIEWER)
    assert [m["label"] for m in body["memberships"]] == [
        f"{admin.label}@{personas.tree.siming.name}",
        f"{reviewer.label}@{personas.tree.street.name}",
    ]
    assert [m["role"] for m in body["memberships"]] == [Role.BRANCH_ADMIN, Role.REVIEWER]
    assert body["mobile_masked"] is None


def test_the_cached_public_list_shows_a_change_at_once(personas: Personas) -> None:
    client = Client()
    before = client.get("/api/v1/branches", {"limit": 200}).json()
    branch = personas.tree.school
    branch.name = "湖里实验中学红十字会"
    branch.save()
    after = client.get("/api/v1/branches", {"limit": 200}).json()
    assert before["count"] == after["count"]
    names = {item["name"] for item in after["items"]}
    assert "湖里实验中学红十字会" in names
    assert "湖里中学红十字会" not in names


def test_a_cached_page_costs_no_query(personas: Personas, django_assert_num_queries: Any) -> None:
    client = Client()
    client.get("/api/v1/branches")
    with django_assert_num_queries(0):
        assert client.get("/api/v1/branches").status_code == 200
