"""Upload purposes of disbursements, registered from DisbursementsConfig.ready()."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy

from rendao.core import scope
from rendao.core.permissions import Perm
from rendao.uploads.purposes import JPEG, PDF, PNG, MiB, Purpose, register

if TYPE_CHECKING:
    from rendao.core.models import Branch, User

DOCUMENT = "disbursement_document"
SIGNOFF_FORM = "disbursement_signoff_form"


def _finance_may_upload(user: User, branch: Branch | None) -> bool:
    # Supporting documents and the payee's signed paper form are filed by the
    # finance staff of the disbursement's branch; they always belong to a branch.
    if branch is None or not user.is_authenticated or not user.is_active:
        return False
    return scope.in_scope(user, Perm.FINANCE_MANAGE, branch)


def register_purposes() -> None:
    register(
        Purpose(
            code=DOCUMENT,
            label=gettext_lazy("Disbursement supporting document"),
            # An invoice, agreement or letter: scanned to PDF or photographed.
            content_types=frozenset({PDF, JPEG, PNG}),
            max_bytes=10 * MiB,
            read_perm=Perm.FINANCE_VIEW,
            may_upload=_finance_may_upload,
        )
    )
    register(
        Purpose(
            code=SIGNOFF_FORM,
            label=gettext_lazy("Payee's signed receipt form"),
            content_types=frozenset({PDF, JPEG, PNG}),
            max_bytes=10 * MiB,
            read_perm=Perm.FINANCE_VIEW,
            may_upload=_finance_may_upload,
        )
    )
