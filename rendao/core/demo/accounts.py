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

from stdnum.cn import ric

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
    # Issue 6: a second finance officer decides the city's disbursement step when
    # `finance` asked for the payment (nobody approves their own request), and
    # warehouse keepers receive, move and issue goods.
    StaffSpec("finance_reviewer", "财务复核（演示）", Role.FINANCE, CITY),
    StaffSpec("city_keeper", "市备灾仓库管理员（演示）", Role.WAREHOUSE_KEEPER, CITY),
    StaffSpec("siming_keeper", "思明区仓库管理员（演示）", Role.WAREHOUSE_KEEPER, "思明区红十字会"),
)


def demo_id_number(region: str, birth: str, sequence: str) -> str:
    """A synthetic resident ID number with a correct GB 11643 check character.

    `region` is a Xiamen district code (350203 思明, 350205 海沧, 350206 湖里,
    350211 集美, 350213 翔安), `birth` YYYYMMDD, `sequence` three digits (odd
    for men). The check character is computed by python-stdnum, so the number
    passes every validation: it is made up, but treated as real personal data.
    """
    stem = f"{region}{birth}{sequence}"
    return stem + ric.calc_check_digit(stem + "0")


@dataclass(frozen=True)
class PublicSpec:
    username: str
    display_name: str
    # E.164; 138 0013 8xxx is the number range used for testing. None for a
    # child, who does not sign in: a guardian acts for them.
    mobile: str | None
    real_name: str
    id_number: str


PUBLIC: tuple[PublicSpec, ...] = (
    PublicSpec(
        "demo_public_1", "演示用户一", "+8613800138001", "陈志明", demo_id_number("350203", "19850312", "013")
    ),
    PublicSpec(
        "demo_public_2", "演示用户二", "+8613800138002", "林雅婷", demo_id_number("350206", "19920718", "024")
    ),
    PublicSpec(
        "demo_public_3", "演示用户三", "+8613800138003", "黄建国", demo_id_number("350211", "19930905", "035")
    ),
    PublicSpec(
        "demo_public_4", "演示用户四", "+8613800138004", "郑丽华", demo_id_number("350205", "20010127", "046")
    ),
    # A child under 14 (PIPL Art 31: a guardian consents for them). Their
    # guardian is demo_public_2; the consent records link them.
    PublicSpec("demo_child_1", "演示儿童", None, "林小雨", demo_id_number("350213", "20160601", "062")),
)
