"""Template context shared by every page."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

from rendao.core.workbench import current_branch, held_perms, switchable_branch_list

if TYPE_CHECKING:
    from rendao.core.models import Branch


@dataclass(frozen=True)
class BranchOption:
    pk: int
    label: str


class Workbench:
    """The staff user's current branch, the branches they may switch to, and the
    permissions they hold somewhere (to show only menu entries they can open).

    Each part is computed on first use in a template, so public pages (the hot
    path of the site) pay no query for any of it.
    """

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    @cached_property
    def branch(self) -> Branch | None:
        return current_branch(self._request)

    @cached_property
    def branches(self) -> list[Branch]:
        return switchable_branch_list(self._request.user)

    @cached_property
    def options(self) -> list[BranchOption]:
        """Branches for a <select>, indented by depth (options cannot be styled)."""
        if not self.branches:
            return []
        top = min(b.depth for b in self.branches)
        return [BranchOption(pk=b.pk, label="– " * (b.depth - top) + b.name) for b in self.branches]

    @cached_property
    def perms(self) -> frozenset[str]:
        return held_perms(self._request.user)


def workbench(request: HttpRequest) -> dict[str, Any]:
    return {"workbench": Workbench(request)}
