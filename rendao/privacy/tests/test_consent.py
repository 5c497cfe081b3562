"""Consent records through the services: grant, withdraw, check, children, proof."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import override

from rendao.conftest import Personas
from rendao.core.audit import audit_verify
from rendao.core.models import AuditEvent, User
from rendao.privacy.models import Consent, ConsentText, GuardianRelation
from rendao.privacy.purposes import PURPOSE_INFO, Purpose
from rendao.privacy.services import (
    ConsentRequired,
    consent_check,
    consent_grant,
    consent_withdraw,
    require_consent,
)
from rendao.privacy.tests.helpers import give_identity, text

pytestmark = pytest.mark.django_db


def test_version_1_of_every_purposes_text_is_seeded_in_both_languages() -> None:
    for purpose in Purpose:
        assert purpose in PURPOSE_INFO
        for language in ("zh-hans", "en"):
            t = ConsentText.objects.get(purpose=purpose, language=language, version=1)
            assert t.title
            # Each text says how to withdraw (PIPL Art 15, 17).
            assert ("撤回" if language == "zh-hans" else "withdraw") in t.body
            assert t.published_at <= timezone.now()


def test_a_person_consents_and_may_then_be_processed(personas: Personas) -> None:
    assert not consent_check(subject=personas.public, purpose=Purpose.HEALTH_DATA)
    consent = consent_grant(subject=personas.public, purpose=Purpose.HEALTH_DATA, text=text())
    assert consent.text.version == 1
    assert consent.withdrawn_at is None
    assert consent_check(subject=personas.public, purpose=Purpose.HEALTH_DATA)
    assert require_consent(subject=personas.public, purpose=Purpose.HEALTH_DATA) == consent
    # Only for that purpose, and only for that person.
    assert not consent_check(subject=personas.public, purpose=Purpose.PUBLIC_NOTICE)
    assert not consent_check(subject=personas.volunteer, purpose=Purpose.HEALTH_DATA)


def test_a_consent_withdrawn_mid_process_stops_the_next_step(personas: Personas) -> None:
    consent_grant(
        subject=personas.public,
        purpose=Purpose.SHARE_STEM_CELL_REGISTRY,
        text=text(Purpose.SHARE_STEM_CELL_REGISTRY),
    )
    steps_done = []
    for step in ("collect sample", "type HLA", "send to CMDP"):
        try:
            require_consent(subject=personas.public, purpose=Purpose.SHARE_STEM_CELL_REGISTRY)
        except ConsentRequired:
            break
        steps_done.append(step)
        if step == "collect sample":
            consent_withdraw(subject=personas.public, purpose=Purpose.SHARE_STEM_CELL_REGISTRY)
    assert steps_done == ["collect sample"]


def test_the_refusal_is_a_permission_error_naming_the_purpose_in_the_readers_language(
    personas: Personas,
) -> None:
    with override("en"), pytest.raises(ConsentRequired) as caught:
        require_consent(subject=personas.public, purpose=Purpose.PUBLIC_NOTICE)
    assert isinstance(caught.value, PermissionDenied)
    assert "Publishing my name in a public notice" in str(caught.value)
    assert caught.value.purpose == Purpose.PUBLIC_NOTICE


def test_a_withdrawn_consent_is_kept_and_a_new_grant_is_a_new_row(personas: Personas) -> None:
    first = consent_grant(subject=personas.public, purpose=Purpose.HEALTH_DATA, text=text())
    consent_withdraw(subject=personas.public, purpose=Purpose.HEALTH_DATA)
    second = consent_grant(
        subject=personas.public, purpose=Purpose.HEALTH_DATA, text=text(language="zh-hans")
    )
    rows = list(Consent.objects.filter(subject=personas.public).order_by("id"))
    assert [r.pk for r in rows] == [first.pk, second.pk]
    assert rows[0].withdrawn_at is not None
    assert rows[0].withdrawn_by == personas.public
    assert rows[1].withdrawn_at is None
    assert rows[1].text.language == "zh-hans"


def test_withdrawing_a_consent_never_given_is_refused_and_changes_nothing(personas: Personas) -> None:
    with pytest.raises(ValidationError) as caught:
        consent_withdraw(subject=personas.public, purpose=Purpose.HEALTH_DATA)
    assert caught.value.code == "nothing_to_withdraw"
    assert not AuditEvent.objects.exists()


def test_withdrawing_twice_is_refused_the_second_time(personas: Personas) -> None:
    consent_grant(subject=personas.public, purpose=Purpose.HEALTH_DATA, text=text())
    consent_withdraw(subject=personas.public, purpose=Purpose.HEALTH_DATA)
    with pytest.raises(ValidationError):
        consent_withdraw(subject=personas.public, purpose=Purpose.HEALTH_DATA)
    assert Consent.objects.get().withdrawn_at is not None


def test_an_unknown_purpose_is_refused(personas: Personas) -> None:
    with pytest.raises(ValidationError) as caught:
        consent_grant(subject=personas.public, purpose="marketing", text=text())
    assert "purpose" in caught.value.message_dict
    with pytest.raises(ValidationError):
        consent_withdraw(subject=personas.public, purpose="marketing")
    # Code asking about a purpose nobody can consent to is a bug, said loudly.
    with pytest.raises(ValueError, match="marketing"):
        consent_check(subject=personas.public, purpose="marketing")
    assert not Consent.objects.exists()


def test_a_text_of_another_purpose_is_refused(personas: Personas) -> None:
    with pytest.raises(ValidationError) as caught:
        consent_grant(subject=personas.public, purpose=Purpose.HEALTH_DATA, text=text(Purpose.PUBLIC_NOTICE))
    assert "text" in caught.value.message_dict
    assert not Consent.objects.exists()


def test_an_outdated_text_is_refused_once_a_new_version_is_published(personas: Personas) -> None:
    old = text()
    ConsentText.objects.create(
        purpose=Purpose.HEALTH_DATA,
        language="en",
        version=2,
        title="v2",
        body="new words",
        published_at=timezone.now(),
    )
    with pytest.raises(ValidationError) as caught:
        consent_grant(subject=personas.public, purpose=Purpose.HEALTH_DATA, text=old)
    assert caught.value.error_dict["text"][0].code == "text_outdated"
    assert not Consent.objects.exists()
    # The earlier consents to version 1 keep pointing at version 1.
    assert ConsentText.objects.filter(pk=old.pk, body__contains="health").exists()


def test_granting_twice_is_refused_and_the_database_backs_it(personas: Personas) -> None:
    consent_grant(subject=personas.public, purpose=Purpose.HEALTH_DATA, text=text())
    with pytest.raises(ValidationError) as caught:
        consent_grant(subject=personas.public, purpose=Purpose.HEALTH_DATA, text=text())
    assert caught.value.code == "already_given"
    with pytest.raises(IntegrityError), transaction.atomic():
        Consent.objects.create(
            subject=personas.public, purpose=Purpose.HEALTH_DATA, text=text(), granted_at=timezone.now()
        )


def test_a_child_under_14_cannot_consent_alone(personas: Personas) -> None:
    give_identity(personas.public, age=10)
    with pytest.raises(ValidationError) as caught:
        consent_grant(subject=personas.public, purpose=Purpose.HEALTH_DATA, text=text())
    assert caught.value.code == "guardian_required"
    assert not Consent.objects.exists()
    assert not consent_check(subject=personas.public, purpose=Purpose.HEALTH_DATA)


def test_a_guardians_consent_counts_for_a_child(personas: Personas) -> None:
    give_identity(personas.public, age=10)
    give_identity(personas.volunteer, age=40, name="张大山", serial="456")
    consent = consent_grant(
        subject=personas.public,
        purpose=Purpose.HEALTH_DATA,
        text=text(),
        guardian=personas.volunteer,
        relation=GuardianRelation.PARENT,
    )
    assert consent.guardian == personas.volunteer
    assert consent.relation == "parent"
    assert consent_check(subject=personas.public, purpose=Purpose.HEALTH_DATA)
    event = AuditEvent.objects.get(action="consent.grant")
    assert event.actor == personas.volunteer
    assert event.after is not None
    assert event.after["by_guardian"] is True
    # The guardian may withdraw it; a stranger may not.
    stranger = User.objects.create_user("stranger")
    with pytest.raises(PermissionDenied):
        consent_withdraw(subject=personas.public, purpose=Purpose.HEALTH_DATA, actor=stranger)
    consent_withdraw(subject=personas.public, purpose=Purpose.HEALTH_DATA, actor=personas.volunteer)
    assert not consent_check(subject=personas.public, purpose=Purpose.HEALTH_DATA)


def test_a_childs_own_earlier_consent_stops_counting_once_their_age_is_known(personas: Personas) -> None:
    consent_grant(subject=personas.public, purpose=Purpose.HEALTH_DATA, text=text())
    assert consent_check(subject=personas.public, purpose=Purpose.HEALTH_DATA)
    give_identity(personas.public, age=13)
    assert not consent_check(subject=personas.public, purpose=Purpose.HEALTH_DATA)
    with pytest.raises(ConsentRequired):
        require_consent(subject=personas.public, purpose=Purpose.HEALTH_DATA)
    # The guardian's consent then replaces it, keeping the child's row as history.
    give_identity(personas.volunteer, age=40, serial="456")
    consent_grant(
        subject=personas.public,
        purpose=Purpose.HEALTH_DATA,
        text=text(),
        guardian=personas.volunteer,
        relation=GuardianRelation.GUARDIAN,
    )
    assert consent_check(subject=personas.public, purpose=Purpose.HEALTH_DATA)
    assert Consent.objects.filter(subject=personas.public).count() == 2


@pytest.mark.parametrize(
    ("child_age", "guardian_age", "relation", "field"),
    [
        (10, 40, "uncle", "relation"),  # not a relation we know
        (10, 16, "parent", "guardian"),  # the guardian is a minor
        (10, None, "parent", "guardian"),  # the guardian's age is unknown
        (30, 60, "parent", "guardian"),  # an adult consents for themselves
        (None, 40, "parent", "guardian"),  # the child's age is unknown
    ],
)
def test_a_guardian_consent_that_does_not_hold_up_is_refused(
    personas: Personas, child_age: int | None, guardian_age: int | None, relation: str, field: str
) -> None:
    if child_age is not None:
        give_identity(personas.public, age=child_age)
    if guardian_age is not None:
        give_identity(personas.volunteer, age=guardian_age, serial="456")
    with pytest.raises(ValidationError) as caught:
        consent_grant(
            subject=personas.public,
            purpose=Purpose.HEALTH_DATA,
            text=text(),
            guardian=personas.volunteer,
            relation=relation,
        )
    assert field in caught.value.message_dict
    assert not Consent.objects.exists()


def test_nobody_is_their_own_guardian(personas: Personas) -> None:
    give_identity(personas.public, age=10)
    with pytest.raises(ValidationError) as caught:
        consent_grant(
            subject=personas.public,
            purpose=Purpose.HEALTH_DATA,
            text=text(),
            guardian=personas.public,
            relation="parent",
        )
    assert "guardian" in caught.value.message_dict


def test_a_disabled_account_has_no_consent_that_counts(personas: Personas) -> None:
    consent_grant(subject=personas.public, purpose=Purpose.HEALTH_DATA, text=text())
    User.objects.filter(pk=personas.public.pk).update(is_active=False)
    personas.public.refresh_from_db()
    assert not consent_check(subject=personas.public, purpose=Purpose.HEALTH_DATA)


def test_audit_rows_name_the_purpose_and_version_but_no_personal_data(personas: Personas) -> None:
    give_identity(personas.public, age=30)
    consent_grant(subject=personas.public, purpose=Purpose.HEALTH_DATA, text=text())
    consent_withdraw(subject=personas.public, purpose=Purpose.HEALTH_DATA)
    events = list(AuditEvent.objects.filter(action__startswith="consent.").order_by("id"))
    assert [e.action for e in events] == ["consent.grant", "consent.withdraw"]
    granted = events[0].after
    assert granted is not None
    assert granted["purpose"] == "health_data"
    assert granted["text_version"] == 1
    dumped = repr([(e.before, e.after, e.actor_label) for e in events])
    for personal in ("张三明", "13800138000", personas.public.identity.id_number):
        assert personal not in dumped
    assert audit_verify().ok
