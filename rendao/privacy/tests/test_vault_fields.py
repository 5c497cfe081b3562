from __future__ import annotations

import pytest
from django.core.exceptions import FieldError
from django.db import connection

from rendao.conftest import Personas
from rendao.privacy.crypto import VaultError, blind_index, decrypt, encrypt, key_id_of
from rendao.privacy.fields import index_for
from rendao.privacy.models import Identity
from rendao.privacy.tests import vault_helpers
from rendao.privacy.tests.vault_helpers import Keys

pytestmark = pytest.mark.django_db

keys = vault_helpers.keys  # the fixture, made visible to this module's tests

# A synthetic number with a correct check digit (GB 11643): 思明区, born 1990-01-01.
ID_NUMBER = "350203199001011248"


def _raw(column: str, pk: int) -> str:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {column} FROM privacy_identity WHERE id = %s", [pk])  # noqa: S608 - test constant
        value: str = cur.fetchone()[0]
    return value


def _set_raw(column: str, pk: int, value: str) -> None:
    with connection.cursor() as cur:
        cur.execute(f"UPDATE privacy_identity SET {column} = %s WHERE id = %s", [value, pk])  # noqa: S608


def test_a_personal_field_is_stored_encrypted_and_read_back_in_clear(personas: Personas) -> None:
    Identity.objects.create(user=personas.public, real_name="张三明", id_number=ID_NUMBER)
    with connection.cursor() as cur:
        cur.execute("SELECT real_name, id_number FROM privacy_identity")
        stored_name, stored_number = cur.fetchone()
    assert ID_NUMBER not in stored_number
    assert stored_number.startswith("v1.")
    assert "张三明" not in stored_name
    got = Identity.objects.get(user=personas.public)
    assert (got.real_name, got.id_number) == ("张三明", ID_NUMBER)


def test_the_same_value_is_sealed_differently_each_time() -> None:
    assert encrypt(ID_NUMBER, aad="a.b.c") != encrypt(ID_NUMBER, aad="a.b.c")


def test_a_person_is_found_by_blind_index_whatever_the_spelling(personas: Personas) -> None:
    Identity.objects.create(user=personas.public, real_name="张三明", id_number="35020319900101123x")
    for spelling in ("35020319900101123X", "350203 19900101 123X", "350203-19900101-123x"):
        assert Identity.objects.filter(id_number_index=index_for("id_number", spelling)).exists()


def test_blind_indexes_of_one_value_differ_by_purpose() -> None:
    assert blind_index("13800138000", purpose="mobile") != blind_index("13800138000", purpose="id_number")


@pytest.mark.parametrize(
    "lookup",
    ["id_number", "id_number__iexact", "id_number__contains", "id_number__startswith", "id_number__in"],
)
def test_searching_an_encrypted_column_is_refused_not_silently_empty(personas: Personas, lookup: str) -> None:
    value: object = [ID_NUMBER] if lookup.endswith("__in") else ID_NUMBER
    with pytest.raises(FieldError, match="blind index"):
        list(Identity.objects.filter(**{lookup: value}))


def test_an_encrypted_column_may_still_be_tested_for_null(personas: Personas) -> None:
    assert personas.public.mobile
    assert type(personas.public).objects.filter(pk=personas.public.pk, mobile__isnull=False).exists()


def test_a_tampered_ciphertext_does_not_decrypt(personas: Personas) -> None:
    identity = Identity.objects.create(user=personas.public, real_name="张三明", id_number=ID_NUMBER)
    sealed = _raw("id_number", identity.pk)
    # Flip one character of the ciphertext body (not the version or key id).
    i = len(sealed) - 5
    tampered = sealed[:i] + ("A" if sealed[i] != "A" else "B") + sealed[i + 1 :]
    _set_raw("id_number", identity.pk, tampered)
    with pytest.raises(VaultError, match="does not decrypt"):
        Identity.objects.get(pk=identity.pk)


def test_a_value_copied_into_another_column_does_not_decrypt(personas: Personas) -> None:
    identity = Identity.objects.create(user=personas.public, real_name="张三明", id_number=ID_NUMBER)
    # The name column receives the ID number's ciphertext: bound to its column, it fails.
    _set_raw("real_name", identity.pk, _raw("id_number", identity.pk))
    with pytest.raises(VaultError):
        Identity.objects.get(pk=identity.pk)


def test_a_value_under_an_unknown_key_id_does_not_decrypt(keys: Keys, personas: Personas) -> None:
    identity = Identity.objects.create(user=personas.public, real_name="张三明", id_number=ID_NUMBER)
    assert key_id_of(_raw("id_number", identity.pk)) == "k1"
    keys.use("k2")
    with pytest.raises(VaultError, match="unknown vault key id"):
        Identity.objects.get(pk=identity.pk)


@pytest.mark.parametrize("garbage", ["plain text", "v1.k1", "v2.k1.AAAA", "v1.k1.!!!", "v1.k1."])
def test_garbage_in_an_encrypted_column_is_an_error_not_a_value(garbage: str) -> None:
    with pytest.raises(VaultError):
        decrypt(garbage, aad="privacy.identity.id_number")


def test_an_error_never_quotes_the_value(personas: Personas) -> None:
    identity = Identity.objects.create(user=personas.public, real_name="张三明", id_number=ID_NUMBER)
    _set_raw("id_number", identity.pk, "v1.zz." + _raw("id_number", identity.pk).split(".", 2)[2])
    with pytest.raises(VaultError) as caught:
        Identity.objects.get(pk=identity.pk)
    assert ID_NUMBER not in str(caught.value)


def test_an_identity_is_unique_per_id_number(personas: Personas) -> None:
    from django.db import IntegrityError, transaction

    Identity.objects.create(user=personas.public, real_name="张三明", id_number=ID_NUMBER)
    with pytest.raises(IntegrityError), transaction.atomic():
        Identity.objects.create(user=personas.volunteer, real_name="李四", id_number=ID_NUMBER.lower())
    assert Identity.objects.count() == 1


def test_changing_the_value_moves_its_blind_index(personas: Personas) -> None:
    identity = Identity.objects.create(user=personas.public, real_name="张三明", id_number=ID_NUMBER)
    other = "350203199001020013"
    identity.id_number = other
    identity.save()
    assert not Identity.objects.filter(id_number_index=index_for("id_number", ID_NUMBER)).exists()
    assert Identity.objects.filter(id_number_index=index_for("id_number", other)).exists()
