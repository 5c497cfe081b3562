from __future__ import annotations

import smtplib
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError, EmailMessage
from django.core.validators import validate_email

from rendao.core.channels import DeliveryResult, PermanentError, TransientError
from rendao.core.channels.email import checks

if TYPE_CHECKING:
    from rendao.core.models import OutboxMessage


def message_id_header(message: OutboxMessage) -> str:
    """The Message-ID of the mail for `message`: the same on every attempt.

    A retry after a crash may send the same mail twice; because both copies carry
    one Message-ID, mail clients and list servers treat them as one message.
    """
    domain = urlsplit(settings.SITE_URL).hostname or "rendao.invalid"
    return f"<outbox.{message.pk}@{domain}>"


def _smtp_code_error(code: int, what: str) -> TransientError | PermanentError:
    # 5xx replies are final; 4xx (mailbox busy, greylisting, rate limit) are not.
    if 500 <= code < 600:
        return PermanentError(f"SMTP server refused the {what} ({code})")
    return TransientError(f"SMTP server deferred the {what} ({code})")


class EmailChannel:
    """Sends through Django's mail API, so EMAIL_BACKEND decides how (SMTP in
    production, the console in development, memory in tests)."""

    name = "email"

    def send(self, message: OutboxMessage) -> DeliveryResult:
        try:
            validate_email(message.recipient)
        except ValidationError as exc:
            raise PermanentError("the recipient is not a valid email address") from exc
        mail = EmailMessage(
            # A subject is one header line; a newline in it would be refused below.
            subject=" ".join(message.subject.split()),
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            headers={"Message-ID": message_id_header(message), "X-Rendao-Outbox-Id": str(message.pk)},
        )
        # Exception texts from smtplib quote the recipient address, so none of them
        # is passed on: only the reply code and what was refused.
        try:
            sent = mail.send(fail_silently=False)
        except BadHeaderError as exc:
            raise PermanentError("the message has an invalid header") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _reply in exc.recipients.values()]
            raise _smtp_code_error(min(codes, default=550), "recipient") from None
        except smtplib.SMTPResponseException as exc:
            raise _smtp_code_error(exc.smtp_code, "message") from None
        except (smtplib.SMTPException, OSError) as exc:
            # Connection refused, timeouts, a dropped connection: the server may be back later.
            raise TransientError(f"could not talk to the SMTP server ({type(exc).__name__})") from None
        if sent != 1:
            raise TransientError("the mail backend accepted no message")
        return DeliveryResult(provider_id=message_id_header(message))

    def check_settings(self) -> list[CheckMessage]:
        return checks.check_settings()
