"""Accounts and sign-in: SMS codes for the public, password + TOTP for staff.

Every refusal is a `ValidationError` whose message is safe to show to the person
signing in and never says whether a number or username has an account. Where a
refusal must still leave a trace (a wrong code burns a guess, a wrong password
counts towards the throttle, failures are audited), the trace is committed first
and the error raised after the transaction.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from datetime import timedelta
from importlib import import_module
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import SESSION_KEY, authenticate
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from rendao.core.audit import RequestMeta, audit_record
from rendao.core.messages import SIGNIN_CODE, message_render
from rendao.core.models import ApiToken, LoginAttempt, SignInCode, User
from rendao.core.permissions import Perm
from rendao.core.scope import has_perm_anywhere
from rendao.core.services.outbox import message_enqueue
from rendao.privacy.fields import index_for
from rendao.privacy.validation import parse_mobile

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

logger = logging.getLogger("rendao.accounts")

# Purpose strings of the keyed digests: a digest made for one use is useless for
# another, and none can be recomputed without SECRET_KEY.
_PHONE_PURPOSE = "rendao.core.accounts.sign_in_phone"
_CODE_PURPOSE = "rendao.core.accounts.sign_in_code"

CODE_RE = re.compile(r"\d{6}")
# Window of the staff password throttle.
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
# How long spent sign-in codes and attempts are kept (see signin_records_purge).
SIGNIN_RECORDS_KEPT = timedelta(days=1)
# Name given to the authenticator device created at enrolment (stored data, not UI text).
TOTP_DEVICE_NAME = "authenticator"


def _bad_code() -> ValidationError:
    # One message for wrong, expired, used and burnt codes, and for numbers that
    # were never sent one: nothing is learnt from which of them it was.
    return ValidationError(
        _("The code is not correct or has expired. Please request a new code."), code="bad_code"
    )


# --- mobile numbers ------------------------------------------------------------


def phone_normalize(raw: str) -> str:
    """A mainland China mobile number in E.164 form (+8613800138000), or ValidationError."""
    return parse_mobile(raw)


def phone_digest(e164: str) -> str:
    """Keyed digest of a number: lets sends be counted without storing the number."""
    return salted_hmac(_PHONE_PURPOSE, e164, algorithm="sha256").hexdigest()


def _code_digest(phone_dgst: str, code: str) -> str:
    # Bound to the number, so a code sent to one number is worthless for another.
    return salted_hmac(_CODE_PURPOSE, f"{phone_dgst}:{code}", algorithm="sha256").hexdigest()


def _serialise_sends_for(phone_dgst: str) -> None:
    """Queue concurrent sends to one number so the hourly count cannot be raced.

    SQLite transactions here are IMMEDIATE (settings), which already serialises
    writers; PostgreSQL needs a transaction-scoped advisory lock on the number.
    """
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # 15 hex digits = 60 bits: fits PostgreSQL's signed bigint key.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(phone_dgst[:15], 16)])


# --- public sign-in by SMS -------------------------------------------------------


def sms_code_send(*, phone: str, meta: RequestMeta) -> SignInCode:
    """Send a one-time sign-in code to a mobile number through the outbox.

    The same happens whether or not the number has an account. Limits per number
    and per IP are counted from the stored codes, so they hold across processes.
    """
    e164 = phone_normalize(phone)
    digest = phone_digest(e164)
    now = timezone.now()
    hour_ago = now - timedelta(hours=1)
    with transaction.atomic():
        _serialise_sends_for(digest)
        recent = SignInCode.objects.filter(created_at__gt=hour_ago)
        if recent.filter(phone_digest=digest).count() >= settings.SMS_CODE_PER_NUMBER_PER_HOUR:
            raise ValidationError(
                _("Too many codes have been sent to this number. Please try again in an hour."),
                code="rate_limited_number",
            )
        if meta.ip and recent.filter(ip=meta.ip).count() >= settings.SMS_CODE_PER_IP_PER_HOUR:
            raise ValidationError(
                _("Too many codes have been requested from your network. Please try again later."),
                code="rate_limited_ip",
            )
        code = f"{secrets.randbelow(10**6):06d}"
        row = SignInCode.objects.create(
            phone_digest=digest,
            code_digest=_code_digest(digest, code),
            ip=meta.ip,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
        )
        # Addressed to the number being signed in (there may be no user yet), in
        # the language of the page that asked for it.
        values = {"code": code, "minutes": max(1, settings.SMS_CODE_TTL_SECONDS // 60)}
        text = message_render(SIGNIN_CODE.key, values)
        message_enqueue(
            channel="sms",
            recipient=e164,
            kind=SIGNIN_CODE.key,
            body=text.body,
            forget_after_delivery=SIGNIN_CODE.forget_after_delivery,
            params=values,
        )
    return row


def sms_code_verify(*, phone: str, code: str, meta: RequestMeta) -> User:
    """Check a code against the latest one sent to the number; return the user to sign in.

    Only the latest code counts (a new request supersedes the old one). A wrong
    guess is counted and committed; after SMS_CODE_MAX_ATTEMPTS wrong guesses the
    code is burnt. A right code is used up. A new number gets a new account.
    """
    e164 = phone_normalize(phone)
    code = (code or "").strip()
    if not CODE_RE.fullmatch(code):
        raise _bad_code()
    digest = phone_digest(e164)
    now = timezone.now()
    user: User | None = None
    with transaction.atomic():
        row = (
            SignInCode.objects.select_for_update()
            .filter(phone_digest=digest, created_at__gt=now - timedelta(hours=1))
            .order_by("-created_at", "-id")
            .first()
        )
        if (
            row is None
            or row.used_at is not None
            or row.expires_at <= now
            or row.attempts >= settings.SMS_CODE_MAX_ATTEMPTS
        ):
            pass
        elif not constant_time_compare(row.code_digest, _code_digest(digest, code)):
            row.attempts += 1
            row.save(update_fields=["attempts"])
        else:
            row.used_at = now
            row.save(update_fields=["used_at"])
            user = _user_for_mobile(e164, meta=meta)
    if user is None:
        raise _bad_code()
    if not user.is_active:
        # Whoever got this far holds the phone, so saying so reveals nothing new.
        raise ValidationError(
            _("This account has been disabled. Please contact the Red Cross society."), code="inactive"
        )
    return user


def _user_for_mobile(e164: str, *, meta: RequestMeta) -> User:
    # The number is sealed in the vault: its blind index is the only way to find it.
    user = User.objects.filter(mobile_index=index_for("mobile", e164)).first()
    if user is not None:
        return user
    user = User.objects.create_user(username=f"p{secrets.token_hex(6)}", mobile=e164)
    audit_record(actor=user, action="user.registered", obj=user, after={"via": "sms"}, meta=meta)
    return user


# --- staff sign-in: password, then TOTP ------------------------------------------


def staff_password_check(*, username: str, password: str, meta: RequestMeta) -> User:
    """First step of a staff sign-in; returns the user whose password matched.

    After LOGIN_FAILURES_PER_ACCOUNT failures for the username, or
    LOGIN_FAILURES_PER_IP for the IP, within 15 minutes, attempts are refused
    without checking the password, so guessing gains nothing.
    """
    username = (username or "").strip()[:150]
    now = timezone.now()
    failures = LoginAttempt.objects.filter(succeeded=False, at__gt=now - LOGIN_FAILURE_WINDOW)
    if failures.filter(username=username).count() >= settings.LOGIN_FAILURES_PER_ACCOUNT or (
        meta.ip and failures.filter(ip=meta.ip).count() >= settings.LOGIN_FAILURES_PER_IP
    ):
        # Logged, not audited: a flood of refused attempts must not be able to
        # flood the audit chain (each append takes its head lock).
        logger.warning("staff sign-in throttled ip=%s", meta.ip)
        raise ValidationError(
            _("Too many failed sign-in attempts. Please wait 15 minutes and try again."), code="throttled"
        )
    found = authenticate(None, username=username, password=password)
    user = found if isinstance(found, User) else None
    with transaction.atomic():
        LoginAttempt.objects.create(username=username, ip=meta.ip, succeeded=user is not None, at=now)
        if user is None:
            # The typed username is recorded only when it names an account: people
            # sometimes type their password into the username box.
            known = User.objects.filter(username=username).only("pk").first()
            audit_record(
                actor=None,
                actor_label="anonymous",
                action="staff.signin_failed",
                object_type="core.user",
                object_id=known.pk if known else "",
                after={"step": "password"},
                meta=meta,
            )
    if user is None:
        raise ValidationError(_("The username or password is not correct."), code="invalid_login")
    return user


def has_confirmed_totp(user: User) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def staff_totp_verify(*, user: User, code: str, meta: RequestMeta) -> TOTPDevice:
    """Second step of a staff sign-in: a code from one of the user's confirmed devices.

    Repeated wrong codes slow the device down (django-otp's throttling); a code
    is accepted once only.
    """
    code = (code or "").strip()
    verified: TOTPDevice | None = None
    throttled = False
    with transaction.atomic():
        devices = list(
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("id")
        )
        allowed = [d for d in devices if d.verify_is_allowed()[0]]
        if devices and not allowed:
            throttled = True
        else:
            if code.isdigit():
                # verify_token counts a wrong code towards the device's throttle itself.
                verified = next((d for d in allowed if d.verify_token(code)), None)
            else:
                # A malformed code is still a wrong guess.
                for d in allowed:
                    d.throttle_increment(commit=True)
            audit_record(
                actor=user,
                action="staff.signed_in" if verified else "staff.signin_failed",
                obj=user,
                after={"device": verified.pk} if verified else {"step": "totp"},
                meta=meta,
            )
    if throttled:
        raise ValidationError(
            _("Too many wrong codes. Please wait a little and try again."), code="totp_throttled"
        )
    if verified is None:
        raise ValidationError(_("The code is not correct. Please try again."), code="bad_totp")
    return verified


def totp_enrol_start(*, user: User) -> str:
    """A new secret (hex) for the user to add to an authenticator app.

    Nothing is stored: the caller keeps the secret with the pending sign-in until
    `totp_enrol_confirm` proves the app has it, so a page load changes nothing.
    """
    if has_confirmed_totp(user):
        raise ValidationError(_("This account already has an authenticator."), code="already_enrolled")
    return str(random_hex(20))


def totp_device_unsaved(*, user: User, key: str) -> TOTPDevice:
    """An unsaved device for `key`, to build the otpauth URI from."""
    return TOTPDevice(user=user, name=TOTP_DEVICE_NAME, key=key, confirmed=False)


def totp_enrol_confirm(*, user: User, key: str, code: str, meta: RequestMeta) -> TOTPDevice:
    """Store the authenticator once a code from it matches; this also completes the sign-in."""
    if not re.fullmatch(r"[0-9a-f]{40}", key or ""):
        raise ValidationError(_("The enrolment has expired. Please sign in again."), code="bad_key")
    code = (code or "").strip()
    device = totp_device_unsaved(user=user, key=key)
    check = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    check.time = time.time()
    if not code.isdigit() or not check.verify(int(code), device.tolerance):
        raise ValidationError(_("The code is not correct. Please try again."), code="bad_totp")
    with transaction.atomic():
        # The user row lock stops two tabs from enrolling two devices at once.
        User.objects.select_for_update().filter(pk=user.pk).first()
        if has_confirmed_totp(user):
            raise ValidationError(_("This account already has an authenticator."), code="already_enrolled")
        device.confirmed = True
        device.last_t = check.t()  # the code just used cannot be replayed
        device.save()
        audit_record(
            actor=user, action="staff.totp_enrolled", obj=user, after={"device": device.pk}, meta=meta
        )
        audit_record(actor=user, action="staff.signed_in", obj=user, after={"device": device.pk}, meta=meta)
    return device


def signin_records_purge() -> int:
    """Delete sign-in codes and password attempts too old to count towards any limit.

    They only ever matter for an hour (codes) or 15 minutes (attempts); a day's
    margin keeps them for looking into an incident, and the audit log keeps the
    failures for good. Safe to run twice at once. Returns the rows deleted.
    """
    cutoff = timezone.now() - SIGNIN_RECORDS_KEPT
    codes, _ = SignInCode.objects.filter(created_at__lt=cutoff).delete()
    attempts, _ = LoginAttempt.objects.filter(at__lt=cutoff).delete()
    return codes + attempts


# --- disabling accounts ----------------------------------------------------------


def user_set_active(*, actor: User | AnonymousUser, user: User, active: bool, meta: RequestMeta) -> User:
    """Enable or disable an account; disabling ends its sessions and revokes its tokens."""
    if not has_perm_anywhere(actor, Perm.SYSTEM_ACCOUNTS):
        raise PermissionDenied(_("You do not have permission to manage accounts."))
    if not active and actor.pk == user.pk:
        raise ValidationError(_("You cannot disable your own account."), code="self_disable")
    assert isinstance(actor, User)  # noqa: S101 - has_perm_anywhere is false for anonymous users
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = {"is_active": locked.is_active}
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        revoked = 0
        ended = 0
        if not active:
            revoked = ApiToken.objects.filter(user=locked, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
            ended = _sessions_end(locked)
        audit_record(
            actor=actor,
            action="user.enabled" if active else "user.disabled",
            obj=locked,
            before=before,
            after={"is_active": active, "api_access_revoked": revoked, "sessions_ended": ended},
            meta=meta,
        )
    user.is_active = active
    return user


def _sessions_end(user: User) -> int:
    """Delete every live session of `user`; returns how many.

    An inactive user is refused on the next request anyway (ModelBackend), but
    deleting the sessions means re-enabling the account later does not bring
    them back. Sessions do not record their user in a column, so the live ones
    (at most SESSION_COOKIE_AGE old: a bounded set) are decoded; deleting through
    the session engine also clears a cached copy.
    """
    engine = import_module(settings.SESSION_ENGINE)
    live = Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=500)
    # Collected first, deleted after: no deletes while the read cursor is open.
    keys = [s.session_key for s in live if str(s.get_decoded().get(SESSION_KEY)) == str(user.pk)]
    for key in keys:
        engine.SessionStore(key).delete()
    return len(keys)
