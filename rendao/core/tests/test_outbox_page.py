"""The staff outbox page and its "retry now" action, through HTTP."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rendao.conftest import Personas, signed_in_client
from rendao.core.models import AuditEvent, Branch, OutboxMessage, User
from rendao.core.services.outbox import outbox_retry

pytestmark = pytest.mark.django_db

Status = OutboxMessage.Status
OnCommit = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]
EN = {"accept-language": "en"}
URL = "/staff/outbox/"


def _write(branch: Branch | None, **fields: Any) -> OutboxMessage:
    defaults: dict[str, Any] = {
        "channel": "sms",
        "recipient": "+8613812345678",
        "kind": "notice",
        "body": f"for {branch.name if branch else 'nobody'}",
        "branch": branch,
    }
    return OutboxMessage.objects.create(**{**defaults, **fields})


def _get(user: User, query: str = "") -> Any:
    return signed_in_client(user).get(f"{URL}{query}", headers=EN)


def _shown(response: Any) -> list[str]:
    return sorted(row["message"].body for row in response.context["rows"])


def test_the_page_has_its_name_in_the_core_namespace() -> None:
    assert reverse("core:outbox") == URL


def test_district_staff_see_their_subtree_only(personas: Personas) -> None:
    t = personas.tree
    for branch in (t.city, t.siming, t.street, t.huli, None):
        _write(branch)
    response = _get(personas.siming_staff)
    assert response.status_code == 200
    assert _shown(response) == ["for 嘉莲街道红十字会", "for 思明区红十字会"]


def test_city_staff_also_see_messages_without_a_branch(personas: Personas) -> None:
    t = personas.tree
    for branch in (t.city, t.huli, None):
        _write(branch)
    assert _shown(_get(personas.city_staff)) == ["for nobody", "for 厦门市红十字会", "for 湖里区红十字会"]


def test_the_auditor_reads_the_outbox(personas: Personas) -> None:
    _write(None)
    assert _shown(_get(personas.auditor)) == ["for nobody"]


@pytest.mark.parametrize("persona", ["reviewer", "finance", "sysadmin", "outsider", "public", "volunteer"])
def test_staff_without_the_permission_and_the_public_are_refused(personas: Personas, persona: str) -> None:
    _write(None)
    assert _get(getattr(personas, persona)).status_code == 403


def test_a_session_without_the_second_factor_is_sent_to_sign_in(personas: Personas) -> None:
    client = signed_in_client(personas.city_staff, verified=False)
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:staff_signin"))


def test_the_recipient_is_masked_and_the_body_shown(personas: Personas) -> None:
    _write(personas.tree.city, body="Training moved to Sunday")
    html = _get(personas.city_staff).content.decode()
    assert "138****5678" in html
    assert "13812345678" not in html
    assert "Training moved to Sunday" in html


def test_a_delivered_code_is_shown_as_erased(personas: Personas) -> None:
    _write(None, body="", recipient="138****5678", forget_after_delivery=True, status=Status.SENT)
    html = _get(personas.city_staff).content.decode()
    assert "Content erased after delivery." in html


def test_the_status_filter_narrows_the_list(personas: Personas) -> None:
    _write(personas.tree.city, body="dead one", status=Status.DEAD)
    _write(personas.tree.city, body="sent one", status=Status.SENT)
    response = _get(personas.city_staff, "?status=dead")
    assert _shown(response) == ["dead one"]
    assert response.context["notices"] == []


def test_the_channel_filter_narrows_the_list(personas: Personas) -> None:
    _write(personas.tree.city, body="an sms")
    _write(personas.tree.city, body="an email", channel="email", recipient="a@example.org")
    assert _shown(_get(personas.city_staff, "?channel=email")) == ["an email"]


@pytest.mark.parametrize("query", ["?status=lost", "?channel=pigeon", "?status=%27%3B--"])
def test_an_unknown_filter_value_is_ignored_and_said_so(personas: Personas, query: str) -> None:
    _write(personas.tree.city, body="one")
    response = _get(personas.city_staff, query)
    assert response.status_code == 200
    assert _shown(response) == ["one"]
    assert len(response.context["notices"]) == 1
    assert "filter ignored" in response.content.decode()


def test_pages_hold_fifty_messages_and_past_the_end_shows_the_last(personas: Personas) -> None:
    for i in range(55):
        _write(personas.tree.city, body=f"m{i:02d}")
    first = _get(personas.city_staff)
    assert len(first.context["rows"]) == 50
    assert "?page=2" in first.content.decode()
    last = _get(personas.city_staff, "?page=99")
    assert last.status_code == 200
    assert last.context["page"].number == 2
    assert len(last.context["rows"]) == 5


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", ""])
def test_a_page_number_that_is_not_a_positive_integer_is_404(personas: Personas, page: str) -> None:
    assert _get(personas.city_staff, f"?page={page}").status_code == 404


def test_the_query_count_does_not_grow_with_the_messages(personas: Personas) -> None:
    client = signed_in_client(personas.city_staff)
    t = personas.tree
    client.get(URL, headers=EN)  # warm caches that do not depend on the list

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL, headers=EN).status_code == 200
        return len(ctx.captured_queries)

    for branch in (t.city, t.siming, None):
        _write(branch, status=Status.DEAD)
    few = count()
    for i in range(30):
        _write((t.street, t.huli, None)[i % 3], status=(Status.DEAD, Status.SENT)[i % 2])
    assert count() == few


# --- retry ---------------------------------------------------------------------


def _retry(user: User, message: OutboxMessage) -> Any:
    return signed_in_client(user).post(reverse("core:outbox_retry", args=[message.pk]), headers=EN)


def test_a_dead_message_can_be_sent_again(
    personas: Personas, django_capture_on_commit_callbacks: OnCommit
) -> None:
    message = _write(personas.tree.siming, status=Status.DEAD, attempts=8, last_error="gateway down")
    assert "Retry now" in _get(personas.siming_staff).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = _retry(personas.siming_staff, message)
    assert response.status_code == 302
    assert response["Location"] == URL
    message.refresh_from_db()
    # Queued on commit and delivered through the console adapter at once (tests run tasks inline).
    assert message.status == Status.SENT
    assert message.attempts == 1
    event = AuditEvent.objects.get(action="outbox.retry")
    assert event.actor == personas.siming_staff
    assert event.object_id == str(message.pk)
    assert event.branch == personas.tree.siming
    assert event.before is not None
    assert event.before["status"] == "dead"


def test_only_a_dead_message_can_be_sent_again(personas: Personas) -> None:
    message = _write(personas.tree.city, status=Status.SENT)
    response = _retry(personas.city_staff, message)
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert not AuditEvent.objects.filter(action="outbox.retry").exists()
    follow = signed_in_client(personas.city_staff).get(URL, headers=EN)
    assert follow.status_code == 200


def test_the_service_refuses_a_message_that_is_not_dead(personas: Personas) -> None:
    message = _write(personas.tree.city, status=Status.RETRYING)
    with pytest.raises(ValidationError):
        outbox_retry(actor=personas.city_staff, message=message)
    message.refresh_from_db()
    assert message.status == Status.RETRYING


def test_another_districts_message_cannot_be_retried(personas: Personas) -> None:
    message = _write(personas.tree.huli, status=Status.DEAD)
    assert _retry(personas.siming_staff, message).status_code == 404
    message.refresh_from_db()
    assert message.status == Status.DEAD


def test_a_message_without_a_branch_needs_the_permission_at_the_root(personas: Personas) -> None:
    message = _write(None, status=Status.DEAD)
    assert _retry(personas.siming_staff, message).status_code == 404
    assert _retry(personas.city_staff, message).status_code == 302


def test_the_auditor_reads_but_cannot_retry(personas: Personas) -> None:
    message = _write(personas.tree.city, status=Status.DEAD)
    assert "Retry now" not in _get(personas.auditor).content.decode()
    assert _retry(personas.auditor, message).status_code == 404
    message.refresh_from_db()
    assert message.status == Status.DEAD


def test_retry_by_get_is_refused(personas: Personas) -> None:
    message = _write(personas.tree.city, status=Status.DEAD)
    url = reverse("core:outbox_retry", args=[message.pk])
    assert signed_in_client(personas.city_staff).get(url).status_code == 405
    message.refresh_from_db()
    assert message.status == Status.DEAD


def test_retry_without_a_csrf_token_is_refused(personas: Personas) -> None:
    message = _write(personas.tree.city, status=Status.DEAD)
    client = signed_in_client(personas.city_staff)
    client.handler.enforce_csrf_checks = True
    assert client.post(reverse("core:outbox_retry", args=[message.pk])).status_code == 403
    message.refresh_from_db()
    assert message.status == Status.DEAD


def test_retry_of_an_unknown_id_is_404(personas: Personas) -> None:
    url = reverse("core:outbox_retry", args=["00000000-0000-0000-0000-000000000000"])
    assert signed_in_client(personas.city_staff).post(url).status_code == 404
