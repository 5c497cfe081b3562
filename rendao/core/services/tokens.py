"""Personal access tokens: create, revoke, and check one presented to the API.

A token reads `rdo_<prefix>_<secret>`: the prefix (48 random bits, hex) finds the
row, the secret (256 random bits, hex) proves possession. Only the SHA-256 digest
of the whole token is stored: with 256 bits of entropy there is nothing for a
slow hash to protect against, and a fast one keeps authentication cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rendao.core.audit import RequestMeta, audit_record
from rendao.core.models import ApiToken, User
from rendao.core.permissions import Perm
from rendao.core.scope import has_perm_anywhere, in_scope

if TYPE_CHECKING:
    from rendao.core.models import Branch

TOKEN_SCHEME = "rdo"  # noqa: S105 - the public marker that starts every token
PREFIX_BYTES = 6
SECRET_BYTES = 32
TOKEN_RE = re.compile(r"^rdo_([0-9a-f]{12})_([0-9a-f]{64})$")
NAME_MAX_LENGTH = 100
# A person rarely needs more than a handful of integrations; the cap stops a
# script run amok from filling the table.
MAX_ACTIVE_TOKENS_PER_USER = 20
# last_used_at is a hint for people reviewing their tokens, not an audit trail:
# stamping it at most once a minute spares a database write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def _active_q(now: datetime) -> Q:
    return Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def token_create(
    *,
    actor: User,
    name: str,
    branch: Branch | None = None,
    expires_at: datetime | None = None,
    meta: RequestMeta,
) -> tuple[ApiToken, str]:
    """Create a token for `actor`; return it with its plaintext, shown only once.

    Only users who may use tokens somewhere get one, and a token limited to a
    branch must be limited to one within the actor's own token scope.
    """
    if not actor.is_active or not has_perm_anywhere(actor, Perm.TOKEN_USE):
        raise PermissionDenied(_("Your roles do not include using API tokens."))
    if branch is not None and not in_scope(actor, Perm.TOKEN_USE, branch):
        raise PermissionDenied(_("A token can only be limited to a branch within your scope."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name.")})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {"name": _("The name can be at most %(n)d characters long.") % {"n": NAME_MAX_LENGTH}}
        )
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationError({"expires_at": _("The expiry date must be in the future.")})

    with transaction.atomic():
        # The user's row lock serialises this user's concurrent creations on
        # PostgreSQL, so two requests cannot both slip under the cap.
        User.objects.select_for_update().only("pk").get(pk=actor.pk)
        if ApiToken.objects.filter(_active_q(now), user=actor).count() >= MAX_ACTIVE_TOKENS_PER_USER:
            raise ValidationError(
                _("You already have %(n)d active tokens; revoke one first.")
                % {"n": MAX_ACTIVE_TOKENS_PER_USER}
            )
        prefix = secrets.token_hex(PREFIX_BYTES)
        plaintext = f"{TOKEN_SCHEME}_{prefix}_{secrets.token_hex(SECRET_BYTES)}"
        token = ApiToken.objects.create(
            user=actor,
            name=name,
            prefix=prefix,
            digest=token_digest(plaintext),
            branch=branch,
            expires_at=expires_at,
        )
        audit_record(
            actor=actor,
            action="api_token.create",
            obj=token,
            branch=branch,
            after={
                "name": name,
                "prefix": prefix,
                "branch_id": branch.pk if branch else None,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
            meta=meta,
        )
    return token, plaintext


def token_revoke(*, actor: User, token: ApiToken, meta: RequestMeta) -> ApiToken:
    """Revoke one of the actor's own tokens; revoking twice changes nothing."""
    if token.user_id != actor.pk:
        raise PermissionDenied(_("You can only revoke your own tokens."))
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="api_token.revoke",
            obj=locked,
            branch=locked.branch,
            before={"revoked_at": None},
            after={"revoked_at": locked.revoked_at.isoformat()},
            meta=meta,
        )
    return locked


def token_authenticate(*, plaintext: str) -> ApiToken | None:
    """The live token matching `plaintext` (with its user and branch), or None.

    None for a malformed, unknown, wrong, revoked or expired token and for a
    disabled user: the caller learns nothing about which.
    """
    match = TOKEN_RE.match(plaintext)
    if match is None:
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user", "branch")
        .filter(_active_q(now), prefix=match.group(1), user__is_active=True)
        .first()
    )
    # Constant-time comparison: the prefix lookup already reveals whether a
    # prefix exists, but the secret must not leak through timing.
    if token is None or not hmac.compare_digest(token.digest, token_digest(plaintext)):
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # A conditional UPDATE: concurrent requests stamp the row once, and no
        # row lock is held across the request.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token
