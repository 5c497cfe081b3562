"""Upload purposes of the goods app, registered from GoodsConfig.ready()."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy

from rendao.core import scope
from rendao.core.permissions import Perm
from rendao.uploads.purposes import JPEG, PNG, MiB, Purpose, register

if TYPE_CHECKING:
    from rendao.core.models import Branch, User

INTAKE_PHOTO = "goods_intake_photo"


def _keeper_may_upload(user: User, branch: Branch | None) -> bool:
    # Photos of goods as they arrive are taken by whoever receives them at the
    # warehouse's branch; they always belong to that branch.
    if branch is None or not user.is_authenticated or not user.is_active:
        return False
    return scope.in_scope(user, Perm.GOODS_MANAGE, branch)


def register_purposes() -> None:
    register(
        Purpose(
            code=INTAKE_PHOTO,
            label=gettext_lazy("Photo of donated goods"),
            content_types=frozenset({JPEG, PNG}),
            max_bytes=10 * MiB,
            read_perm=Perm.GOODS_VIEW,
            may_upload=_keeper_may_upload,
        )
    )
