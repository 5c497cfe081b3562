"""The donor feedback message type (registered at start-up by FeedbackConfig.ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from rendao.core.messages import MessageType, message_type_register

USE_REPORT = message_type_register(
    MessageType(
        key="use_report",
        label=gettext_lazy("How the projects I gave to use the money and goods"),
        subject=gettext_lazy("How your donation to {project} is used"),
        body=gettext_lazy(
            "[Red Cross] {project}, the project you gave to, has used {what} for {purpose} "
            "({recipient}), on {day}. Public ledger entry #{entry}. Details: {url}"
        ),
        # The link is the donor's private follow link: it must not stay in the outbox.
        forget_after_delivery=True,
    )
)
