"""Demo staff and public accounts: who they are and how their secrets are made.

Every demo staff account shares one password and has a confirmed TOTP device
whose key is derived from its username, so loading the demo again, on any
machine, gives the same codes. That is only acceptable because demo data is
refused in production (`RENDAO_ENV=production`) and every such account is
flagged `is_demo`, the only accounts `rendao totp` will print a code for.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from rendao.core.models import Role

# Shared by every demo staff account and printed by `demo_accounts`.
DEMO_PASSWORD = "RedCross-Demo-2019"  # noqa: S105 - a published demo credential
# Fixed label the TOTP keys are derived from; changing it changes every code.
TOTP_LABEL = b"rendao demo TOTP key v1"
TOTP_DEVICE_NAME = "demo"


def demo_totp_key(username: str) -> str:
    """The hex TOTP key (20 bytes, as django-otp stores it) of a demo account."""
    return hmac.new(TOTP_LABEL, username.encode(), hashlib.sha256).hexdigest()[:40]


@dataclass(frozen=True)
class StaffSpec:
    username: str
    display_name: str
    role: str
    branch: str  # the branch's name in the demo tree
    is_staff: bool = False  # Django admin access: the system administrator only


CITY = "厦门市红十字会"
STAFF: tuple[StaffSpec, ...] = (
    StaffSpec("sysadmin", "系统管理员（演示）", Role.SYSTEM_ADMIN, CITY, is_staff=True),
    StaffSpec("city_admin", "市红会管理员（演示）", Role.BRANCH_ADMIN, CITY),
    StaffSpec("siming_admin", "思明区红会管理员（演示）", Role.BRANCH_ADMIN, "思明区红十字会"),
    StaffSpec("huli_admin", "湖里区红会管理员（演示）", Role.BRANCH_ADMIN, "湖里区红十字会"),
    StaffSpec("finance", "财务（演示）", Role.FINANCE, CITY),
    StaffSpec("reviewer", "思明区审核员（演示）", Role.REVIEWER, "思明区红十字会"),
    StaffSpec("training", "培训专员（演示）", Role.TRAINING_OFFICER, CITY),
    StaffSpec("volunteers", "志愿者管理员（演示）", Role.VOLUNTEER_MANAGER, CITY),
    StaffSpec("auditor", "审计（演示）", Role.AUDITOR, CITY),
    StaffSpec("leader", "领导（演示）", Role.LEADER, CITY),
    StaffSpec("lianxiu_admin", "莲秀社区红会专干（演示）", Role.BRANCH_ADMIN, "莲秀社区红十字会"),
)


@dataclass(frozen=True)
class PublicSpec:
    username: str
    display_name: str
    mobile: str  # E.164; 138 0013 8xxx is the number range used for testing


PUBLIC: tuple[PublicSpec, ...] = (
    PublicSpec("demo_public_1", "演示用户一", "+8613800138001"),
    PublicSpec("demo_public_2", "演示用户二", "+8613800138002"),
    PublicSpec("demo_public_3", "演示用户三", "+8613800138003"),
)
