from __future__ import annotations

import pytest
from django.core.exceptions import FieldError
from django.db import connection

from rendao.conftest import Personas
from rendao.privacy.fields import index_for
from rendao.privacy.models import Identity

pytestmark = pytest.mark.django_db

# A synthetic number with a correct check digit (GB 11643): 思明区, born 1990-01-01.
ID_NUMBER = "350203199001011236"


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


def test_a_person_is_found_by_blind_index_whatever_the_spelling(personas: Personas) -> None:
    Identity.objects.create(user=personas.public, real_name="张三明", id_number="35020319900101123x")
    assert Identity.objects.filter(id_number_index=index_for("id_number", "35020319900101123X")).exists()


def test_searching_an_encrypted_column_is_refused_not_silently_empty(personas: Personas) -> None:
    with pytest.raises(FieldError):
        list(Identity.objects.filter(id_number=ID_NUMBER))
