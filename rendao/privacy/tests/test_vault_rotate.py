from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from rendao.conftest import Personas
from rendao.core.models import OutboxMessage, User
from rendao.core.services.outbox import message_enqueue
from rendao.privacy.crypto import key_id_of
from rendao.privacy.fields import index_for
from rendao.privacy.management.commands.vault_rotate import vault_fields
from rendao.privacy.models import Identity
from rendao.privacy.tests import vault_helpers
from rendao.privacy.tests.vault_helpers import Keys

pytestmark = pytest.mark.django_db

keys = vault_helpers.keys  # the fixture, made visible to this module's tests

NUMBERS = ["35020319900101123X", "350203199001011248", "350203199001020013"]


def rotate(*args: str) -> str:
    out = StringIO()
    call_command("vault_rotate", *args, stdout=out)
    return out.getvalue()


def stored_key_ids() -> dict[str, set[str]]:
    """Key id of every sealed value in the database, by table.column, read raw."""
    found: dict[str, set[str]] = {}
    with connection.cursor() as cur:
        for model, f in vault_fields():
            cur.execute(f"SELECT {f.column} FROM {model._meta.db_table}")  # noqa: S608 - names from models
            kids = {key_id_of(v) or "?" for (v,) in cur.fetchall() if v}
            if kids:
                found[f"{model._meta.db_table}.{f.column}"] = kids
    return found


@pytest.fixture
def people(keys: Keys, personas: Personas) -> list[User]:
    users = [personas.public, personas.volunteer]
    users.append(User.objects.create_user("third", mobile="+8613700137000"))
    for user, number in zip(users, NUMBERS, strict=True):
        Identity.objects.create(user=user, real_name=f"姓名{user.pk}", id_number=number)
    message_enqueue(channel="nowhere", recipient="+8613800138000", kind="notice", body="hello")
    return users


def test_the_vault_fields_are_found_through_the_app_registry() -> None:
    labels = {f"{m._meta.label_lower}.{f.name}" for m, f in vault_fields()}
    assert {
        "core.user.mobile",
        "core.outboxmessage.recipient",
        "privacy.identity.real_name",
        "privacy.identity.id_number",
    } <= labels


def test_rotation_re_encrypts_everything_under_the_new_key(keys: Keys, people: list[User]) -> None:
    assert set().union(*stored_key_ids().values()) == {"k1"}
    keys.use("k2", "k1")

    printed = rotate("--batch", "2")

    assert set().union(*stored_key_ids().values()) == {"k2"}
    assert "privacy.identity.id_number: k1=3; re-encrypted 3" in printed
    assert "left under other keys: 0" in printed
    # The old key can go: everything still opens and is still found by its index.
    keys.use("k2")
    assert sorted(Identity.objects.values_list("id_number", flat=True)) == sorted(NUMBERS)
    assert User.objects.get(mobile_index=index_for("mobile", "13700137000")).username == "third"
    assert OutboxMessage.objects.get().recipient == "+8613800138000"


def test_a_second_rotation_has_nothing_to_do(keys: Keys, people: list[User]) -> None:
    keys.use("k2", "k1")
    rotate()
    printed = rotate()
    assert "privacy.identity.id_number: k2=3; re-encrypted 0" in printed


def test_a_dry_run_counts_and_changes_nothing(keys: Keys, people: list[User]) -> None:
    keys.use("k2", "k1")
    before = stored_key_ids()
    printed = rotate("--dry-run")
    assert stored_key_ids() == before
    assert "privacy.identity.id_number: k1=3; re-encrypted 0" in printed
    assert "left under other keys: " in printed
    assert "left under other keys: 0" not in printed


def test_values_under_a_key_no_longer_in_the_ring_are_reported_and_left_alone(
    keys: Keys, people: list[User]
) -> None:
    keys.use("k2")  # k1 dropped before rotating: its values cannot be opened
    before = stored_key_ids()
    with pytest.raises(CommandError, match="could not be decrypted"):
        rotate()
    assert stored_key_ids() == before


def test_reindex_recomputes_blind_indexes_after_an_index_key_change(keys: Keys, people: list[User]) -> None:
    keys.use("k1", index=1)
    assert not Identity.objects.filter(id_number_index=index_for("id_number", NUMBERS[0])).exists()

    printed = rotate("--reindex")

    assert "privacy.identity.id_number_index: 0 unchanged, 3 recomputed" in printed
    for number in NUMBERS:
        assert Identity.objects.filter(id_number_index=index_for("id_number", number)).exists()
    assert User.objects.filter(mobile_index=index_for("mobile", "+8613800138000")).exists()


def test_a_batch_below_one_is_refused(keys: Keys) -> None:
    with pytest.raises(CommandError, match="--batch"):
        rotate("--batch", "0")
