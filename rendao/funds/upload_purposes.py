"""Upload purposes of the funds app, registered from FundsConfig.ready()."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy

from rendao.core import scope
from rendao.core.permissions import Perm
from rendao.uploads.purposes import JPEG, PDF, PNG, MiB, Purpose, register

if TYPE_CHECKING:
    from rendao.core.models import Branch, User

COINITIATOR_AGREEMENT = "coinitiator_agreement"


def _finance_may_upload(user: User, branch: Branch | None) -> bool:
    # The written co-fundraising agreement (Charity Law Art 26) is filed by the
    # finance staff who add the partner; it always belongs to the project's branch.
    if branch is None or not user.is_authenticated or not user.is_active:
        return False
    return scope.in_scope(user, Perm.FINANCE_MANAGE, branch)


def register_purposes() -> None:
    register(
        Purpose(
            code=COINITIATOR_AGREEMENT,
            label=gettext_lazy("Co-fundraising agreement"),
            # A signed, stamped agreement: scanned to PDF or photographed.
            content_types=frozenset({PDF, JPEG, PNG}),
            max_bytes=10 * MiB,
            read_perm=Perm.FINANCE_VIEW,
            may_upload=_finance_may_upload,
        )
    )
