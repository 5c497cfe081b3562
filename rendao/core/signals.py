"""Signal receivers of the core app (connected in CoreConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from rendao.core.models import Branch


@receiver(post_save, sender=Branch, dispatch_uid="rendao_branch_list_version_save")
@receiver(post_delete, sender=Branch, dispatch_uid="rendao_branch_list_version_delete")
def branch_list_changed(sender: type[Branch], **kwargs: Any) -> None:
    """Any saved branch makes the cached public branch list stale.

    A signal rather than a call in each service because the tree library and
    the demo loader save branches too; deleting the version key makes every
    cached page unreachable at once.
    """
    from rendao.core.api import BRANCH_LIST_VERSION_KEY

    cache.delete(BRANCH_LIST_VERSION_KEY)
