"""The registry of message types: templates, translation, and recovering values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from rendao.core import messages
from rendao.core.messages import (
    MessageType,
    TemplateError,
    message_render,
    message_type_get,
    message_type_register,
    message_types,
    provider_templates,
    template_fields,
)


@pytest.fixture(autouse=True)
def _registry_restored() -> Iterator[None]:
    # Types registered by a test must not show up in other tests of the process.
    saved = dict(messages._REGISTRY)
    yield
    messages._REGISTRY.clear()
    messages._REGISTRY.update(saved)


def test_a_sign_in_code_renders_in_english() -> None:
    rendered = message_render("signin_code", {"code": "123456", "minutes": 5}, "en")
    assert rendered.body == (
        "[Red Cross] Your sign-in code is 123456. It is valid for 5 minutes. Never tell it to anyone."
    )
    assert rendered.subject == ""


def test_rendering_follows_the_requested_language_not_the_active_one() -> None:
    with translation.override("zh-hans"):
        english = message_render("security_notice", {"event": "x"}, "en")
    assert english.subject == "Security notice"


def test_without_a_language_the_active_one_is_used() -> None:
    with translation.override("en"):
        assert message_render("news", {"title": "T", "summary": "S"}).body == "[Red Cross] T: S"


def test_every_placeholder_must_be_given() -> None:
    with pytest.raises(TemplateError, match="needs minutes"):
        message_render("signin_code", {"code": "123456"}, "en")


def test_an_unknown_message_type_is_refused() -> None:
    with pytest.raises(TemplateError, match="unknown message type 'nope'"):
        message_render("nope", {}, "en")


def test_context_values_cannot_reach_into_objects() -> None:
    class Secretive:
        secret = "hidden"

        def __str__(self) -> str:
            return "shown"

    assert "shown" in message_render("news", {"title": Secretive(), "summary": "s"}, "en").body


@pytest.mark.parametrize(
    "text",
    ["{}", "{0}", "{a.b}", "{a[0]}", "{a!r}", "{a:>10}", "{a}{b}", "{unclosed"],
)
def test_only_plain_separated_placeholders_are_allowed(text: str) -> None:
    with pytest.raises(TemplateError):
        template_fields(text)


def test_registering_a_type_twice_or_with_a_bad_key_is_refused() -> None:
    with pytest.raises(TemplateError, match="registered twice"):
        message_type_register(MessageType(key="signin_code", label="x", body="{code}"))
    with pytest.raises(TemplateError, match="lower_snake_case"):
        message_type_register(MessageType(key="Bad-Key", label="x", body="x"))
    with pytest.raises(TemplateError):
        message_type_register(MessageType(key="broken_template", label="x", body="{a.b}"))
    assert "broken_template" not in [t.key for t in message_types()]


def test_sign_in_codes_and_security_notices_are_essential_and_news_is_not() -> None:
    assert message_type_get("signin_code").essential
    assert message_type_get("signin_code").forget_after_delivery
    assert message_type_get("security_notice").essential
    assert not message_type_get("news").essential
    assert not message_type_get("activity_reminder").essential


class _Translated:
    """A template whose "translation" lost its placeholder, as a careless catalogue might."""

    def __str__(self) -> str:
        return "Code {code}" if translation.get_language() is None else "Kod {kode}"


def test_a_translation_with_wrong_placeholders_falls_back_to_the_original() -> None:
    message_type_register(MessageType(key="t_broken_translation", label="x", body=_Translated()))  # type: ignore[arg-type]
    with translation.override("en"):
        assert str(_Translated()) == "Kod {kode}"
        assert message_render("t_broken_translation", {"code": "1"}).body == "Code 1"


def test_provider_templates_are_parsed_with_their_variable_map() -> None:
    parsed = provider_templates(
        ["signin_code:SMS_1:code=code", "activity_reminder:tmpl-x:thing1=activity|time2=starts_at"], "X"
    )
    assert parsed["signin_code"].values({"code": "1", "minutes": "5"}) == {"code": "1"}
    assert parsed["activity_reminder"].values({"activity": "a", "starts_at": "b", "url": "u"}) == {
        "thing1": "a",
        "time2": "b",
    }


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (["signin_code"], "is not kind:template_id"),
        (["unknown:T1"], "'unknown' is not a message type"),
        (["signin_code:T1", "signin_code:T2"], "listed twice"),
        (["signin_code:T1:code"], "is not var=placeholder"),
        (["signin_code:T1:code=secret"], "is not var=placeholder"),
        (["signin_code:T 1"], "is not kind:template_id"),
    ],
)
def test_malformed_provider_templates_are_refused(entries: list[str], message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        provider_templates(entries, "RENDAO_X")
