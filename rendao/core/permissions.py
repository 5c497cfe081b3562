"""The fixed list of permissions that roles are made of.

Roles are data (rows of `Role`), but what a role may contain is this list, so a
permission check in code can never name something that no role can hold.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Perm(models.TextChoices):
    # System permissions: held by the system administrator and nobody else.
    SYSTEM_CONFIGURE = "system.configure", _("Configure the system")
    SYSTEM_ACCOUNTS = "system.accounts", _("Manage accounts and role grants")
    # Business permissions, each reaching the subtree of the branch it is held at.
    BRANCH_VIEW = "branch.view", _("View branches")
    BRANCH_MANAGE = "branch.manage", _("Manage branches")
    MEMBERSHIP_VIEW = "membership.view", _("View staff memberships")
    MEMBERSHIP_MANAGE = "membership.manage", _("Grant and revoke staff roles")
    AUDIT_VIEW = "audit.view", _("Read the audit log")
    OUTBOX_VIEW = "outbox.view", _("Read outgoing messages")
    OUTBOX_RETRY = "outbox.retry", _("Send again outgoing messages that were given up")
    DASHBOARD_VIEW = "dashboard.view", _("View dashboards")
    FINANCE_VIEW = "finance.view", _("View finance records")
    FINANCE_MANAGE = "finance.manage", _("Record and reconcile finance")
    REVIEW_DECIDE = "review.decide", _("Decide approval steps")
    TRAINING_MANAGE = "training.manage", _("Manage first-aid training")
    VOLUNTEER_MANAGE = "volunteer.manage", _("Manage volunteers")
    TOKEN_USE = "token.use", _("Use personal access tokens for integrations")
    ATTACHMENT_VIEW = "attachment.view", _("Read attachments")
    ATTACHMENT_MANAGE = "attachment.manage", _("Upload and delete attachments")
    PRIVACY_MANAGE = "privacy.manage", _("Handle requests about personal data (correction, deletion)")
    # Each use is audited (rendao.privacy.reveal.pii_reveal); pages mask by default.
    PII_REVEAL = "pii.reveal", _("See personal data unmasked")
    GOODS_VIEW = "goods.view", _("View warehouses, stock and goods movements")
    GOODS_MANAGE = "goods.manage", _("Receive, move, issue and count goods")
    RECIPIENTS_MANAGE = "recipients.manage", _("Manage recipient institutions and their representatives")


SYSTEM_PERMS = frozenset({Perm.SYSTEM_CONFIGURE, Perm.SYSTEM_ACCOUNTS})
BUSINESS_PERMS = frozenset(set(Perm) - SYSTEM_PERMS)
# Permissions that only read. An auditor or leader role may hold nothing else.
READ_PERMS = frozenset(p for p in Perm if p.value.endswith(".view"))
