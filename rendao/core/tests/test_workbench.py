"""The staff workbench: roles, the branch switcher, the task inbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from rendao.conftest import Personas, signed_in_client
from rendao.core import inbox
from rendao.core.models import Branch, Membership, OutboxMessage, Role
from rendao.core.workbench import SESSION_BRANCH_KEY

pytestmark = pytest.mark.django_db

WORKBENCH = "/staff/"


def staff_client(user: object) -> Client:
    client = signed_in_client(user)  # type: ignore[arg-type]
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def dead_message(branch: Branch | None) -> OutboxMessage:
    return OutboxMessage.objects.create(
        channel="email",
        recipient="someone@example.org",
        kind="notice",
        body="hello",
        branch=branch,
        status=OutboxMessage.Status.DEAD,
    )


def test_the_workbench_lives_at_staff() -> None:
    assert reverse("core:workbench") == WORKBENCH


def test_an_anonymous_visitor_is_sent_to_the_staff_sign_in() -> None:
    response = Client().get(WORKBENCH)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:staff_signin"))


def test_staff_without_the_second_factor_are_sent_to_the_staff_sign_in(personas: Personas) -> None:
    response = signed_in_client(personas.siming_staff, verified=False).get(WORKBENCH)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:staff_signin"))


def test_a_public_user_is_refused(personas: Personas) -> None:
    assert signed_in_client(personas.public).get(WORKBENCH).status_code == 403


def test_a_staff_account_without_any_role_is_refused(personas: Personas) -> None:
    assert signed_in_client(personas.outsider).get(WORKBENCH).status_code == 403


def test_it_shows_the_users_roles_and_branches(personas: Personas) -> None:
    html = staff_client(personas.auditor).get(WORKBENCH).content.decode()
    assert "Auditor" in html
    assert "厦门市红十字会" in html
    assert "read-only" in html


def test_it_says_plainly_when_nothing_is_waiting(personas: Personas) -> None:
    html = staff_client(personas.siming_staff).get(WORKBENCH).content.decode()
    assert "Nothing is waiting for you in this branch." in html


def test_the_switcher_offers_only_the_users_subtree(personas: Personas) -> None:
    tree = personas.tree
    html = staff_client(personas.siming_staff).get(WORKBENCH).content.decode()
    for inside in (tree.siming, tree.street, tree.community):
        assert f'value="{inside.pk}"' in html
    for outside in (tree.city, tree.huli, tree.school):
        assert f'value="{outside.pk}"' not in html


def test_the_switcher_covers_roles_without_branch_view(personas: Personas) -> None:
    # The system administrator holds no branch.view, yet works at the city society.
    html = staff_client(personas.sysadmin).get(WORKBENCH).content.decode()
    assert f'value="{personas.tree.huli.pk}"' in html


def test_switching_to_a_branch_in_scope_keeps_it_in_the_session(personas: Personas) -> None:
    client = staff_client(personas.siming_staff)
    street = personas.tree.street
    response = client.post(reverse("core:switch_branch"), {"branch": street.pk, "next": WORKBENCH})
    assert response.status_code == 302
    assert response["Location"] == WORKBENCH
    assert client.session[SESSION_BRANCH_KEY] == street.pk
    html = client.get(WORKBENCH).content.decode()
    assert f'<option value="{street.pk}" selected>' in html


@pytest.mark.parametrize("target", ["huli", "city", "school"])
def test_switching_to_a_branch_out_of_scope_is_404_and_changes_nothing(
    personas: Personas, target: str
) -> None:
    client = staff_client(personas.siming_staff)
    client.post(reverse("core:switch_branch"), {"branch": personas.tree.street.pk})
    branch = getattr(personas.tree, target)
    response = client.post(reverse("core:switch_branch"), {"branch": branch.pk})
    assert response.status_code == 404
    assert client.session[SESSION_BRANCH_KEY] == personas.tree.street.pk


@pytest.mark.parametrize("bad", ["", "abc", "999999", "1 OR 1=1", "-1"])
def test_switching_to_an_unknown_branch_is_404_and_changes_nothing(personas: Personas, bad: str) -> None:
    client = staff_client(personas.siming_staff)
    response = client.post(reverse("core:switch_branch"), {"branch": bad})
    assert response.status_code == 404
    assert SESSION_BRANCH_KEY not in client.session


def test_switching_branch_needs_a_post(personas: Personas) -> None:
    client = staff_client(personas.siming_staff)
    response = client.get(reverse("core:switch_branch"), {"branch": personas.tree.street.pk})
    assert response.status_code == 405
    assert SESSION_BRANCH_KEY not in client.session


def test_switching_branch_needs_the_csrf_token(personas: Personas) -> None:
    client = staff_client(personas.siming_staff)
    client.handler.enforce_csrf_checks = True
    response = client.post(reverse("core:switch_branch"), {"branch": personas.tree.street.pk})
    assert response.status_code == 403
    assert SESSION_BRANCH_KEY not in client.session


def test_switching_never_redirects_off_site(personas: Personas) -> None:
    client = staff_client(personas.siming_staff)
    response = client.post(
        reverse("core:switch_branch"), {"branch": personas.tree.street.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == WORKBENCH


def test_a_public_user_cannot_switch_branch(personas: Personas) -> None:
    client = signed_in_client(personas.public)
    response = client.post(reverse("core:switch_branch"), {"branch": personas.tree.siming.pk})
    assert response.status_code == 403
    assert SESSION_BRANCH_KEY not in client.session


def test_a_chosen_branch_is_rechecked_on_every_request(personas: Personas) -> None:
    user = personas.reviewer  # reviewer at 思明
    client = staff_client(user)
    client.post(reverse("core:switch_branch"), {"branch": personas.tree.community.pk})
    # The role moves to 湖里: the old choice must no longer apply.
    Membership.objects.filter(user=user).update(branch=personas.tree.huli)
    html = client.get(WORKBENCH).content.decode()
    assert f'value="{personas.tree.community.pk}"' not in html
    assert f'<option value="{personas.tree.huli.pk}" selected>' in html


def test_the_inbox_lists_dead_outbox_messages_of_the_branch_for_outbox_readers(personas: Personas) -> None:
    tree = personas.tree
    dead_message(tree.street)
    dead_message(tree.community)
    dead_message(tree.huli)
    OutboxMessage.objects.create(
        channel="email", recipient="x@example.org", kind="n", body="b", branch=tree.street
    )
    html = staff_client(personas.siming_staff).get(WORKBENCH).content.decode()
    assert "Outgoing messages given up after every retry" in html
    assert '<span class="rd-count">2</span>' in html
    assert f"{reverse('core:outbox')}?status=dead" in html


def test_the_inbox_follows_the_current_branch(personas: Personas) -> None:
    tree = personas.tree
    dead_message(tree.community)
    client = staff_client(personas.city_staff)
    client.post(reverse("core:switch_branch"), {"branch": tree.huli.pk})
    assert "Nothing is waiting for you in this branch." in client.get(WORKBENCH).content.decode()
    client.post(reverse("core:switch_branch"), {"branch": tree.siming.pk})
    assert '<span class="rd-count">1</span>' in client.get(WORKBENCH).content.decode()


def test_branchless_dead_messages_show_only_at_the_root(personas: Personas) -> None:
    dead_message(None)
    assert (
        '<span class="rd-count">1</span>' in staff_client(personas.city_staff).get(WORKBENCH).content.decode()
    )
    siming_html = staff_client(personas.siming_staff).get(WORKBENCH).content.decode()
    assert "Nothing is waiting for you in this branch." in siming_html


def test_the_inbox_shows_nothing_to_users_without_outbox_view(personas: Personas) -> None:
    dead_message(personas.tree.siming)
    html = staff_client(personas.reviewer).get(WORKBENCH).content.decode()
    assert "Outgoing messages given up" not in html
    assert "Nothing is waiting for you in this branch." in html


@pytest.fixture
def extra_provider() -> Iterator[None]:
    @inbox.register("tests.applications")
    def applications(user: object, branch: Branch) -> list[inbox.InboxItem]:
        return [inbox.InboxItem(title=f"Applications in {branch.name}", url="", count=3)]

    yield
    inbox.unregister("tests.applications")


def test_apps_add_inbox_items_by_registering_a_provider(personas: Personas, extra_provider: None) -> None:
    html = staff_client(personas.siming_staff).get(WORKBENCH).content.decode()
    assert "Applications in 思明区红十字会" in html
    assert '<span class="rd-count">3</span>' in html


def test_the_workbench_query_count_does_not_grow_with_the_tree(
    personas: Personas, django_assert_max_num_queries: object
) -> None:
    tree = personas.tree
    for i in range(30):
        Branch.objects.add_child(
            Branch.objects.get(pk=tree.street.pk),
            instance=Branch(name=f"社区{i}", kind=Branch.Kind.COMMUNITY),
        )
        dead_message(tree.street)
    Membership.objects.create(
        user=personas.siming_staff, branch=tree.huli, role=Role.objects.get(code=Role.REVIEWER)
    )
    client = staff_client(personas.siming_staff)
    # 11 for the workbench itself, and a constant 4 for issue 6's items on it
    # (statement differences, the charity-law watch's figures and related-party count).
    with django_assert_max_num_queries(15):  # type: ignore[operator]
        response = client.get(WORKBENCH)
    assert response.status_code == 200
    assert (
        response.content.decode().count("<option ") == 30 + 3 + 2 + 2
    )  # 思明 subtree, 湖里 subtree, languages


def test_the_menu_offers_branches_and_tokens_to_those_who_may_use_them(personas: Personas) -> None:
    html = staff_client(personas.siming_staff).get(WORKBENCH).content.decode()
    assert reverse("core:branches") in html
    assert reverse("core:tokens") in html
    reviewer = staff_client(personas.reviewer).get(WORKBENCH).content.decode()
    assert reverse("core:branches") in reviewer
    assert reverse("core:tokens") not in reviewer
