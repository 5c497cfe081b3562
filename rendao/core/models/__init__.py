"""Core models: branches, accounts, roles, audit, outbox, API tokens."""

from rendao.core.models.accounts import LoginAttempt, SignInCode, User
from rendao.core.models.audit import AuditEvent, AuditHead
from rendao.core.models.branches import Branch
from rendao.core.models.outbox import OutboxMessage
from rendao.core.models.preferences import MessagePreference
from rendao.core.models.roles import Membership, Role
from rendao.core.models.tokens import ApiToken

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "Branch",
    "LoginAttempt",
    "Membership",
    "MessagePreference",
    "OutboxMessage",
    "Role",
    "SignInCode",
    "User",
]
