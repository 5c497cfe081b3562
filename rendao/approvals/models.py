"""The approvals engine's tables.

- `Flow` / `FlowStep`: how a process type is approved (data, edited in the
  system configuration), optionally overridden for a branch subtree.
- `ApprovalRequest`: one object going through its flow. The current step's role
  and branch path are copied onto the row, so "what may I decide now" is one
  query whatever the number of items (see `selectors.pending_for`).
- `RequestStep`: the flow's steps as they applied when the item was (re)submitted;
  a later edit of the flow never changes an item under way.
- `Decision`: who decided which step, how, when, on whose behalf.
- `Delegation`: someone decides in another's place while they are away.
- `Matter`: the engine's own process type, a general matter for approval (事项审批).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    """Where a step's role must be held, relative to the object's branch."""

    SAME = "same", _("The object's own branch")
    PARENT = "parent", _("The branch directly above")
    DISTRICT = "district", _("The district branch above it")
    CITY = "city", _("The city society")


class Flow(models.Model):
    """The steps that approve one process type, everywhere or in one branch subtree.

    The flow for an object is the one of the nearest branch at or above the
    object's branch, else the one without a branch (the default).
    """

    process_type = models.CharField(_("process type"), max_length=50)
    branch = models.ForeignKey(
        "core.Branch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("for the subtree of"),
        help_text=_("Empty: the default flow for every branch without its own."),
    )
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("approval flow")
        verbose_name_plural = _("approval flows")
        ordering = ["process_type", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["process_type", "branch"], name="approval_flow_unique_per_branch"
            ),
            # NULLs are distinct in a unique index: one default per type needs its own.
            models.UniqueConstraint(
                fields=["process_type"],
                condition=Q(branch__isnull=True),
                name="approval_flow_one_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FlowStep(models.Model):
    """One step of a flow: a role held at a level, maybe only above an amount."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="steps", verbose_name=_("flow"))
    position = models.PositiveSmallIntegerField(_("order"))
    role = models.ForeignKey("core.Role", on_delete=models.PROTECT, related_name="+", verbose_name=_("role"))
    level = models.CharField(_("held at"), max_length=10, choices=Level.choices, default=Level.SAME)
    min_amount_fen = models.BigIntegerField(
        _("only from amount (fen)"),
        null=True,
        blank=True,
        help_text=_("The step applies only when the amount is at least this many fen; empty: always."),
    )
    hours = models.PositiveIntegerField(
        _("time limit (hours)"), default=48, help_text=_("After this the step is escalated.")
    )

    class Meta:
        verbose_name = _("flow step")
        verbose_name_plural = _("flow steps")
        ordering = ["flow", "position"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "position"], name="approval_flow_step_position"),
            models.CheckConstraint(
                condition=Q(min_amount_fen__isnull=True) | Q(min_amount_fen__gte=0),
                name="approval_flow_step_amount_not_negative",
            ),
            models.CheckConstraint(condition=Q(hours__gte=1), name="approval_flow_step_hours_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.flow} #{self.position}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from rendao.core.permissions import BUSINESS_PERMS, READ_PERMS

        role = getattr(self, "role", None)
        if role is None:
            return
        perms = set(role.permissions or [])
        # Deciding is business work: a read-only role (auditor, leader) or the
        # system administrator's role never decides (separation of duties).
        if role.read_only or not (perms & BUSINESS_PERMS) or not (perms - READ_PERMS):
            raise ValidationError({"role": _("This role cannot decide approvals: choose a business role.")})


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a decision")
    RETURNED = "returned", _("Returned to the requester for revision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn by the requester")


class ApprovalRequest(models.Model):
    """One object going through its process type's flow."""

    Status = RequestStatus

    process_type = models.CharField(_("process type"), max_length=50, db_index=True)
    object_id = models.PositiveBigIntegerField(_("object id"))
    title = models.CharField(_("title"), max_length=200)
    branch = models.ForeignKey(
        "core.Branch", on_delete=models.PROTECT, related_name="+", verbose_name=_("branch")
    )
    amount_fen = models.BigIntegerField(_("amount (fen)"), null=True, blank=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    # Each (re)submission is a round; decisions of earlier rounds are history.
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    # The current step, denormalised for the inbox query; empty unless pending.
    current_step = models.ForeignKey(
        "RequestStep", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    current_role = models.ForeignKey(
        "core.Role", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Path of the branch where the current step's role must be held; a holder
    # at that branch or any branch above it qualifies (path prefix).
    current_path = models.CharField(max_length=255, blank=True)
    current_due_at = models.DateTimeField(_("due"), null=True, blank=True)
    created_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "current_role", "current_path"], name="approval_pending_idx"),
            models.Index(fields=["requester", "-created_at"], name="approval_requester_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RequestStatus.values), name="approval_request_status_valid"
            ),
            # Only a pending item has a current step, and a pending one always has one.
            models.CheckConstraint(
                condition=(
                    Q(status=RequestStatus.PENDING, current_role__isnull=False, current_step__isnull=False)
                    & ~Q(current_path="")
                )
                | (
                    ~Q(status=RequestStatus.PENDING)
                    & Q(current_role__isnull=True, current_step__isnull=True, current_path="")
                ),
                name="approval_request_current_iff_pending",
            ),
            # An object is under approval at most once at a time.
            models.UniqueConstraint(
                fields=["process_type", "object_id"],
                condition=Q(status__in=[RequestStatus.PENDING, RequestStatus.RETURNED]),
                name="approval_request_one_open_per_object",
            ),
            models.CheckConstraint(
                condition=Q(amount_fen__isnull=True) | Q(amount_fen__gte=0),
                name="approval_request_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class RequestStep(models.Model):
    """One step of one round of a request, as the flow said at submission."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="steps")
    round = models.PositiveSmallIntegerField(_("round"))
    position = models.PositiveSmallIntegerField(_("order"))
    role = models.ForeignKey("core.Role", on_delete=models.PROTECT, related_name="+", verbose_name=_("role"))
    level = models.CharField(_("held at"), max_length=10, choices=Level.choices)
    # The branch the level resolved to for this object.
    branch = models.ForeignKey(
        "core.Branch", on_delete=models.PROTECT, related_name="+", verbose_name=_("branch")
    )
    # Added by the two-person rule rather than by the flow.
    second_approver = models.BooleanField(_("second approver"), default=False)
    hours = models.PositiveIntegerField(_("time limit (hours)"))
    started_at = models.DateTimeField(null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("request step")
        verbose_name_plural = _("request steps")
        ordering = ["request", "round", "position"]
        constraints = [
            models.UniqueConstraint(fields=["request", "round", "position"], name="approval_step_position"),
        ]
        indexes = [
            models.Index(fields=["decided_at", "remind_at"], name="approval_step_remind_idx"),
            models.Index(fields=["decided_at", "due_at"], name="approval_step_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} r{self.round} #{self.position}"

    def start(self, now: datetime) -> None:
        """Set the clock: reminder when 80 % of the time limit has passed."""
        limit = timedelta(hours=self.hours)
        self.started_at = now
        self.due_at = now + limit
        self.remind_at = now + limit * 0.8


class Outcome(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    RETURN = "return", _("Return for revision")


class Decision(models.Model):
    """One decision on one step: append-only, the item's timeline."""

    Outcome = Outcome

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="decisions")
    step = models.OneToOneField(RequestStep, on_delete=models.CASCADE, related_name="decision")
    round = models.PositiveSmallIntegerField(_("round"))
    outcome = models.CharField(_("decision"), max_length=10, choices=Outcome.choices)
    comment = models.TextField(_("comment"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("decided by")
    )
    # Set when `decided_by` acted as the delegate of this person.
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("on behalf of"),
    )
    # Copied from the request so the database itself refuses self-approval.
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["decided_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=Outcome.values), name="approval_decision_outcome"),
            models.CheckConstraint(
                condition=~Q(decided_by=F("requester")), name="approval_decision_not_by_requester"
            ),
            models.CheckConstraint(
                condition=Q(on_behalf_of__isnull=True)
                | (~Q(on_behalf_of=F("requester")) & ~Q(on_behalf_of=F("decided_by"))),
                name="approval_decision_not_on_behalf_of_requester",
            ),
            # One person never decides two steps of the same item (in one round).
            models.UniqueConstraint(
                fields=["request", "round", "decided_by"], name="approval_decision_one_per_person"
            ),
            models.UniqueConstraint(
                fields=["request", "round", "on_behalf_of"],
                condition=Q(on_behalf_of__isnull=False),
                name="approval_decision_one_per_principal",
            ),
            models.CheckConstraint(
                condition=Q(outcome="approve") | ~Q(comment=""),
                name="approval_decision_comment_when_not_approving",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.outcome}"


class Delegation(models.Model):
    """`to_user` may decide in `from_user`'s place from `starts_at` until `ends_at`."""

    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="delegations_given",
        verbose_name=_("delegated by"),
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="delegations_received",
        verbose_name=_("delegate"),
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["to_user", "ends_at"], name="approval_delegation_to_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(from_user=F("to_user")), name="approval_delegation_not_self"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="approval_delegation_ends_after"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_user} → {self.to_user}"


class Matter(models.Model):
    """A matter for approval (事项审批): a purchase, use of the seal, anything an office decides.

    Its approval is an `ApprovalRequest` of process type "matter"; `outcome` is
    set by the engine's callbacks when the request is finished.
    """

    class Outcome(models.TextChoices):
        OPEN = "", _("Under approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), max_length=2000)
    amount_fen = models.BigIntegerField(
        _("amount (fen)"), null=True, blank=True, help_text=_("In fen (1 yuan = 100 fen); empty if none.")
    )
    branch = models.ForeignKey(
        "core.Branch", on_delete=models.PROTECT, related_name="+", verbose_name=_("branch")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("matter for approval")
        verbose_name_plural = _("matters for approval")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__isnull=True) | Q(amount_fen__gte=0),
                name="approval_matter_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.title
