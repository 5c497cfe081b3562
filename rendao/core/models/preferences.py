from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rendao.privacy.fields import EncryptedTextField


class MessagePreference(models.Model):
    """How a user wants to be reached: channels, language, optional messages.

    One row per user, created on their first change; a user without one gets
    the defaults (`rendao.core.messages.preference_for`). The account ids on
    messaging platforms identify a person, so they are sealed in the vault like
    the mobile number; they are only ever used to address a message.
    """

    class Channel(models.TextChoices):
        # The logical channels a person can choose (see rendao/core/channels/).
        SMS = "sms", _("Text message")
        EMAIL = "email", _("Email")
        WECHAT = "wechat", _("WeChat")
        DINGTALK = "dingtalk", _("DingTalk")
        WECOM = "wecom", _("WeCom")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="message_preference",
        verbose_name=_("user"),
    )
    # Logical channels in the order the user chose them, comma separated (values
    # of Channel): every chosen channel that can reach the user gets the message.
    channels = models.CharField(_("channels"), max_length=100, blank=True)
    optional_messages = models.BooleanField(
        _("optional messages"),
        default=True,
        help_text=_("Reminders and news. Sign-in codes and security notices are always sent."),
    )
    # Language of the messages ("" follows the site's default language).
    language = models.CharField(_("language"), max_length=10, blank=True)
    wechat_openid = EncryptedTextField(_("WeChat openid"), blank=True)
    dingtalk_userid = EncryptedTextField(_("DingTalk user id"), blank=True)
    wecom_userid = EncryptedTextField(_("WeCom user id"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    # Which field holds the user's address on each platform channel.
    ADDRESS_FIELDS: ClassVar[dict[str, str]] = {
        Channel.WECHAT: "wechat_openid",
        Channel.DINGTALK: "dingtalk_userid",
        Channel.WECOM: "wecom_userid",
    }

    class Meta:
        verbose_name = _("message preference")
        verbose_name_plural = _("message preferences")

    def __str__(self) -> str:
        return f"message preference {self.pk}"

    @property
    def channel_list(self) -> list[str]:
        return [c for c in self.channels.split(",") if c]
