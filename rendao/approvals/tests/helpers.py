"""Helpers shared by the approvals tests: flows and items built the way services build them."""

from __future__ import annotations

from datetime import datetime

from rendao.approvals.matters import matter_create
from rendao.approvals.models import ApprovalRequest, Flow, FlowStep, Level
from rendao.conftest import make_staff
from rendao.core.models import Branch, Role, User


def set_flow(
    steps: list[tuple[str, str, int | None]],
    *,
    process_type: str = "matter",
    branch: Branch | None = None,
    hours: int = 48,
) -> Flow:
    """Replace the flow of `process_type` (at `branch`, or the default) by these steps.

    Each step is (role code, level, minimum amount in fen or None).
    """
    Flow.objects.filter(process_type=process_type, branch=branch).delete()
    flow = Flow.objects.create(process_type=process_type, branch=branch, name=f"test {process_type}")
    for position, (role, level, min_fen) in enumerate(steps, start=1):
        FlowStep.objects.create(
            flow=flow,
            position=position,
            role=Role.objects.get(code=role),
            level=level,
            min_amount_fen=min_fen,
            hours=hours,
        )
    return flow


def requester_at(branch: Branch, username: str = "requester") -> User:
    """A staff member who may request matters at `branch` (a volunteer manager there)."""
    return make_staff(username, branch, Role.VOLUNTEER_MANAGER)


def submit(
    requester: User,
    branch: Branch,
    *,
    amount_fen: int | None = None,
    title: str = "Buy first-aid kits",
    now: datetime | None = None,
) -> ApprovalRequest:
    return matter_create(
        actor=requester,
        branch=branch,
        title=title,
        description="Twenty kits for the community station.",
        amount_fen=amount_fen,
        now=now,
    )


SAME, PARENT, DISTRICT, CITY = Level.SAME, Level.PARENT, Level.DISTRICT, Level.CITY
