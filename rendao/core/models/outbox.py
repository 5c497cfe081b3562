from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rendao.privacy.fields import EncryptedTextField


class OutboxMessage(models.Model):
    """A message to send, written in the caller's transaction.

    Nothing leaves the platform before the caller commits: delivery is a task
    scheduled on commit, and a periodic sweep picks up anything a crash left
    behind. The id is the idempotency key handed to the channel.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        RETRYING = "retrying", _("Failed, will retry")
        DEAD = "dead", _("Given up")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(_("channel"), max_length=30)
    # Personal data (a mobile number, an address): sealed in the vault while the
    # message waits, and erased ('') once it is delivered. What pages show is
    # `recipient_masked`, written at enqueue and kept.
    recipient = EncryptedTextField(_("recipient"), blank=True)
    recipient_masked = models.CharField(_("recipient"), max_length=255, blank=True)
    kind = models.CharField(_("message type"), max_length=50)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    # The template's placeholder values as JSON, for providers that send only
    # pre-approved templates with values (Alibaba Cloud SMS, WeChat): kept
    # beside the rendered body, encrypted (a sign-in code, a name), and erased
    # with the body when the message is forgotten.
    params = EncryptedTextField(_("template values"), blank=True, default="")
    # Codes and links that must not outlive delivery are blanked once sent.
    forget_after_delivery = models.BooleanField(default=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    branch = models.ForeignKey(
        "core.Branch", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(null=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.channel}:{self.kind} {self.status}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Whoever writes a message, the masked form is there for the outbox page
        # before the recipient itself is forgotten.
        if self.recipient and not self.recipient_masked:
            from rendao.core.channels import mask_recipient  # the channels package imports models

            self.recipient_masked = mask_recipient(self.recipient)
        super().save(*args, **kwargs)

    @property
    def template_values(self) -> dict[str, str]:
        values: dict[str, str] = json.loads(self.params) if self.params else {}
        return values
