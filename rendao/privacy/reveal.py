"""Seeing personal data unmasked: only with pii.reveal over the branch, always audited.

Pages and API responses show personal values masked (rendao.core.masking). A
staff member who needs the whole value (to call an applicant back, to check an
ID card at a counter) asks for it; this is the one function that hands it out,
and each call leaves an audit row naming the record and the field, never the
value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models, transaction

from rendao.core.audit import RequestMeta, audit_record
from rendao.core.models import User
from rendao.core.permissions import Perm
from rendao.core.scope import require_perm
from rendao.privacy.fields import EncryptedTextField

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from rendao.core.models import Branch

ACTION = "pii.revealed"


def pii_reveal(
    *,
    actor: User | AnonymousUser,
    obj: models.Model,
    field: str,
    branch: Branch,
    meta: RequestMeta | None = None,
) -> str:
    """The clear value of `obj.<field>` for `actor`, who must hold PII_REVEAL over `branch`.

    `branch` is the branch the caller found `obj` through (the application's,
    the volunteer team's): the permission is checked there, as for any other
    branch-scoped act. Raises PermissionDenied (nothing written) without it, and
    ValueError for a field that is not a vault field: only sealed values are
    revealed through here, so the audit trail covers exactly them.
    """
    try:
        model_field = obj._meta.get_field(field)
    except FieldDoesNotExist as exc:
        raise ValueError(f"{obj._meta.label_lower} has no field {field!r}") from exc
    if not isinstance(model_field, EncryptedTextField):
        raise ValueError(f"{obj._meta.label_lower}.{field} is not a personal-data vault field")
    require_perm(actor, Perm.PII_REVEAL, branch)
    if not isinstance(actor, User):  # require_perm lets only signed-in users through
        raise PermissionDenied
    value: str | None = getattr(obj, field)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=ACTION,
            obj=obj,
            branch=branch,
            after={"field": field},
            meta=meta,
        )
    return value or ""
