"""A user's message preferences, and `notify` choosing channels by them."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from rendao.conftest import Personas, signed_in_client
from rendao.core.audit import RequestMeta
from rendao.core.messages import message_preferences_update, message_render, notify, preference_for
from rendao.core.models import AuditEvent, MessagePreference, OutboxMessage, User

pytestmark = pytest.mark.django_db

OPENID = "oWx_follower_0123456789abcd"
DINGTALK_ID = "manager4220"
URL = "/my/messages/"
NEWS = {"title": "Open day", "summary": "Come and visit the first-aid centre."}


@pytest.fixture(autouse=True)
def _all_channels_routed(settings: SettingsWrapper) -> None:
    # Platform channels routed to the console: no provider needed to test the choice.
    settings.CHANNEL_ROUTES = [
        "sms=console",
        "email=email",
        "console=console",
        "wechat=console",
        "dingtalk=console",
    ]


def _prefer(user: User, **fields: object) -> MessagePreference:
    preference, _ = MessagePreference.objects.update_or_create(user=user, defaults=fields)
    return preference


def _english(user: User) -> Client:
    client = signed_in_client(user, verified=False)
    client.cookies["django_language"] = "en"
    return client


# --- notify --------------------------------------------------------------------


def test_without_preferences_a_message_goes_by_sms_in_the_site_language(personas: Personas) -> None:
    (message,) = notify(user=personas.public, kind="news", context=NEWS, branch=personas.tree.siming)
    assert (message.channel, message.recipient, message.kind) == ("sms", "+8613800138000", "news")
    assert message.user == personas.public
    assert message.branch == personas.tree.siming
    # The site language is zh-Hans: the template's own words and punctuation are Chinese.
    assert message.body == message_render("news", NEWS, settings.LANGUAGE_CODE).body
    assert "Come and visit the first-aid centre." in message.body


def test_a_message_goes_to_every_chosen_channel_in_the_users_language(personas: Personas) -> None:
    _prefer(personas.public, channels="wechat,sms", wechat_openid=OPENID, language="en")
    messages = notify(user=personas.public, kind="news", context=NEWS)
    assert [(m.channel, m.recipient) for m in messages] == [("wechat", OPENID), ("sms", "+8613800138000")]
    assert messages[0].subject == "Open day"
    assert messages[0].body == "[Red Cross] Open day: Come and visit the first-aid centre."


def test_a_chosen_channel_that_is_no_longer_routed_falls_back_to_sms(
    personas: Personas, settings: SettingsWrapper
) -> None:
    _prefer(personas.public, channels="dingtalk", dingtalk_userid=DINGTALK_ID)
    settings.CHANNEL_ROUTES = ["sms=console"]
    (message,) = notify(user=personas.public, kind="news", context=NEWS)
    assert message.channel == "sms"


def test_an_opt_out_skips_optional_messages_only(personas: Personas) -> None:
    _prefer(personas.public, optional_messages=False)
    assert notify(user=personas.public, kind="news", context=NEWS) == []
    assert (
        notify(
            user=personas.public,
            kind="activity_reminder",
            context={"activity": "a", "starts_at": "b", "url": "c"},
        )
        == []
    )
    (notice,) = notify(
        user=personas.public, kind="security_notice", context={"event": "A new device signed in."}
    )
    assert notice.kind == "security_notice"
    assert OutboxMessage.objects.count() == 1


def test_a_disabled_account_gets_essential_messages_only(personas: Personas) -> None:
    personas.public.is_active = False
    assert notify(user=personas.public, kind="news", context=NEWS) == []
    assert len(notify(user=personas.public, kind="security_notice", context={"event": "x"})) == 1


def test_codes_sent_by_notify_are_forgotten_after_delivery(personas: Personas) -> None:
    (message,) = notify(user=personas.public, kind="signin_code", context={"code": "123456", "minutes": 5})
    assert message.forget_after_delivery is True


def test_a_user_no_channel_reaches_gets_nothing_and_the_log_has_no_personal_data(
    personas: Personas, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="rendao.messages"):
        assert notify(user=personas.siming_staff, kind="security_notice", context={"event": "x"}) == []
    assert f"user {personas.siming_staff.pk}" in caplog.text
    assert "siming" not in caplog.text


def test_staff_reached_on_dingtalk(personas: Personas) -> None:
    _prefer(personas.siming_staff, channels="dingtalk", dingtalk_userid=DINGTALK_ID)
    (message,) = notify(user=personas.siming_staff, kind="news", context=NEWS)
    assert (message.channel, message.recipient) == ("dingtalk", DINGTALK_ID)


def test_account_ids_are_encrypted_at_rest(personas: Personas) -> None:
    _prefer(personas.public, wechat_openid=OPENID, dingtalk_userid=DINGTALK_ID)
    with connection.cursor() as cursor:
        cursor.execute("SELECT wechat_openid, dingtalk_userid FROM core_messagepreference")
        row = cursor.fetchone()
    assert OPENID not in str(row)
    assert DINGTALK_ID not in str(row)
    assert preference_for(personas.public).wechat_openid == OPENID


# --- the service -----------------------------------------------------------------


def _update(user: User, **changes: object) -> MessagePreference:
    arguments: dict[str, object] = {
        "channels": ["sms"],
        "optional_messages": True,
        "language": "",
        "addresses": {},
        "meta": RequestMeta(),
    }
    arguments.update(changes)
    return message_preferences_update(actor=user, **arguments)  # type: ignore[arg-type]


def test_preferences_are_saved_and_audited_without_the_ids(personas: Personas) -> None:
    _update(personas.public, channels=["wechat", "sms"], language="en", addresses={"wechat": OPENID})
    preference = preference_for(personas.public)
    assert preference.channel_list == ["wechat", "sms"]
    assert preference.wechat_openid == OPENID
    event = AuditEvent.objects.get(action="user.message_preferences_changed")
    assert event.after == {
        "channels": ["wechat", "sms"],
        "optional_messages": True,
        "language": "en",
        "wechat_account_set": True,
        "dingtalk_account_set": False,
        "wecom_account_set": False,
    }
    assert OPENID not in str(event.before) + str(event.after)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"channels": ["fax"]}, "channels"),
        ({"channels": ["wecom"]}, "channels"),  # not routed here
        ({"channels": ["sms", "sms"]}, "channels"),
        ({"channels": ["wechat"]}, "channels"),  # no openid
        ({"language": "fr"}, "language"),
        ({"addresses": {"wechat": "not an openid!"}}, "wechat_openid"),
    ],
)
def test_bad_preferences_are_refused_and_change_nothing(
    personas: Personas, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _update(personas.public, **changes)
    assert field in refused.value.message_dict
    assert not MessagePreference.objects.exists()
    assert not AuditEvent.objects.filter(action="user.message_preferences_changed").exists()


# --- the page ------------------------------------------------------------------


def test_the_page_needs_a_signed_in_user() -> None:
    response = Client().get(URL)
    assert response.status_code == 302
    assert reverse("core:signin") in response["Location"]


def test_the_page_offers_only_routed_channels(personas: Personas, settings: SettingsWrapper) -> None:
    settings.CHANNEL_ROUTES = ["sms=console", "wechat=console"]
    page = _english(personas.public).get(URL).content.decode()
    assert 'value="sms"' in page
    assert 'value="wechat"' in page
    assert 'value="dingtalk"' not in page
    assert "DingTalk user id" not in page


def test_saving_through_the_page(personas: Personas) -> None:
    client = _english(personas.public)
    response = client.post(
        URL, {"channels": ["wechat"], "wechat_openid": OPENID, "language": "en"}, follow=True
    )
    assert response.status_code == 200
    assert "Your message preferences have been saved." in response.content.decode()
    preference = preference_for(personas.public)
    assert preference.channel_list == ["wechat"]
    assert preference.optional_messages is False  # an unticked box is a refusal
    assert preference.wechat_openid == OPENID


def test_a_stored_id_is_shown_masked_and_kept_when_left_blank(personas: Personas) -> None:
    _prefer(personas.public, channels="wechat", wechat_openid=OPENID)
    client = _english(personas.public)
    page = client.get(URL).content.decode()
    assert OPENID not in page
    assert "oWx****abcd" in page
    client.post(URL, {"channels": ["wechat"], "wechat_openid": "", "optional_messages": "on"})
    assert preference_for(personas.public).wechat_openid == OPENID


def test_a_stored_id_can_be_removed(personas: Personas) -> None:
    _prefer(personas.public, channels="sms", wechat_openid=OPENID)
    _english(personas.public).post(URL, {"channels": ["sms"], "wechat_openid_remove": "on"})
    assert preference_for(personas.public).wechat_openid == ""


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"channels": ["fax"]}, "Choose only channels from the list."),
        ({"channels": ["wechat"]}, "We have no address for you on: WeChat."),
        ({"channels": ["sms"], "wechat_openid": "bad id!"}, "This account id is not valid."),
        ({"channels": ["sms"], "language": "klingon"}, "Choose a language from the list."),
    ],
)
def test_bad_input_on_the_page_is_explained_and_changes_nothing(
    personas: Personas, data: dict[str, object], error: str
) -> None:
    response = _english(personas.public).post(URL, data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not MessagePreference.objects.exists()


def test_a_post_without_the_csrf_token_is_refused(personas: Personas) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.public)
    response = client.post(URL, {"channels": ["sms"]})
    assert response.status_code == 403
    assert not MessagePreference.objects.exists()


def test_staff_manage_their_own_preferences_on_the_same_page(personas: Personas) -> None:
    client = _english(personas.siming_staff)
    client.post(URL, {"channels": ["dingtalk"], "dingtalk_userid": DINGTALK_ID, "optional_messages": "on"})
    assert preference_for(personas.siming_staff).dingtalk_userid == DINGTALK_ID
    assert not MessagePreference.objects.filter(user=personas.public).exists()


def test_the_page_reads_a_fixed_number_of_queries(
    personas: Personas, django_assert_max_num_queries: object
) -> None:
    client = _english(personas.public)
    client.get(URL)
    with django_assert_max_num_queries(6):  # type: ignore[operator]
        assert client.get(URL).status_code == 200
