"""Demo giving: four fundraising projects modelled on the 2019 article, and over a thousand sandbox donations.

Loaded by `load_demo` (rendao/core/demo/loader.py) after the branch tree and the
demo staff exist, inside the loader's transaction; refused in production there.

What it makes, and how:

- 红十字爱心小书包 (restricted, education support) with its six co-initiators
  (Charity Law Art 26); an emergency typhoon appeal that opened before it was
  filed (the 10-day exception) and was filed within its deadline; a restricted
  appeal for first-aid equipment of district health centres; the unrestricted
  博爱 general appeal. The approvals flow is not run: the only demo finance
  officer sits at the city society and would be both requester and decider of
  a city project's flow, which the engine rightly refuses. So the projects are
  created directly in their open state (one event row says so) and their
  accounts are opened by the same functions the opening transition uses;
  co-initiators go through `coinitiator_add`.
- Donations go through the real path: `donation_create`, the order registered
  at the sandbox gateway, the gateway's signed notification, and
  `notification_receive` (signature, nonce, row lock, journal entry, log leaf,
  counters). Each payment happens at a moment in the past: the channel clock
  (`payments.clock`, which the sandbox signs and verifies with) is set to that
  moment for the payment, so the notification, the sandbox's own bill, the
  donation's paid_at and the log leaf's "at" all say when it was paid.
- A few orders are abandoned (expired by the real sweeper) and a few are paid
  after they expired: recorded against refunds payable and flagged for refund.
- Refunds through `refund_request` (actor None, the system): two of the late
  payments given back in full, one donation refunded in full (its receipt is
  voided) and one in part; the other late payments wait for finance.
- Receipts: the newest `receipts_now` are issued synchronously with
  `receipt_issue`, so the first pages one opens have them; the others are
  issued by the worker from the tasks the payments queued on commit, as in
  production (`receipts_sweep` is the safety net). Issuing all of them here
  would more than double the load: each renders its PDF (about 25 ms).
  Receipts are dated the day they are issued.

Donor names are synthetic (a surname and one or two given-name characters drawn
at random); mobile numbers come only from 138 0013 8xxx, the range the demo
accounts use. Everything is drawn from a seeded generator: the same amounts,
names and projects every time (order numbers and tokens stay random, as the
services make them).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from unittest import mock

from django.db import transaction
from django.utils import timezone

from rendao.core.models import Branch, User
from rendao.funds import payments
from rendao.funds.donations import (
    DonationRequest,
    donation_accounts_open,
    donation_create,
    donations_sweep,
    notification_receive,
)
from rendao.funds.models import (
    CoInitiator,
    Donation,
    FundraisingProject,
    ProjectEvent,
    ProjectStatus,
    Refund,
    RefundStatus,
)
from rendao.funds.payments import ClientInfo
from rendao.funds.payments.sandbox.adapter import SandboxChannel
from rendao.funds.projects import EMERGENCY_FILING_DAYS, _restricted_fund, coinitiator_add
from rendao.funds.receipting import receipt_issue
from rendao.funds.refunds import LATE_REASON, late_refund_no, new_out_refund_no, refund_request

# How many paid donations `rendao demo` loads (tests pass far fewer). Each goes
# the whole payment path, about 18 ms of CPU on SQLite here: a thousand keep the
# demo's set-up within about 20 s of what it takes without giving
# (`rendao manage load_demo --donations N` loads more into a fresh database).
DEMO_DONATIONS = 1000
# Receipts issued during the load (the newest); the rest by the worker.
RECEIPTS_NOW = 20
# Donations per savepoint: a failure names its batch, and memory stays flat.
BATCH = 500
SEED = 2019
CHANNEL = "sandbox"
# The finance officer of the city society (rendao/core/demo/accounts.py) drafts the plans.
DRAFTER = "finance"
CITY = "厦门市红十字会"
NOTIFY_URL = "http://127.0.0.1/pay/notify/sandbox/"


@dataclass(frozen=True)
class CoInitiatorSpec:
    name: str
    role: str
    assessment: str


# The article names only 厦门市委文明办 among the "6家单位" that co-initiated the
# project; 厦门日报社 is named as a partner of the society. The other four are
# plausible stand-ins, not a claim about who the partners were.
BOOKBAG_PARTNERS: tuple[CoInitiatorSpec, ...] = (
    CoInitiatorSpec(
        "中共厦门市委文明办",
        "联合发起，统筹“爱心厦门”宣传动员",
        "党政机关，依法设立；与本会有长期合作，无不良记录；不经手善款。",
    ),
    CoInitiatorSpec(
        "厦门日报社",
        "媒体宣传与项目进展报道",
        "主流媒体单位，与本会签有战略合作协议；仅负责宣传，不经手善款。",
    ),
    CoInitiatorSpec(
        "厦门市教育局",
        "受助学生摸底核实、协助学校发放",
        "教育行政部门，掌握困难学生名册；受助名单由学校核实后报本会审定。",
    ),
    CoInitiatorSpec(
        "共青团厦门市委员会",
        "组织青年志愿者参与分装与发放",
        "群团组织，志愿者管理规范；志愿服务不涉及善款收支。",
    ),
    CoInitiatorSpec(
        "厦门市妇女联合会",
        "困难家庭走访与需求登记",
        "群团组织，基层网络健全；走访记录交本会存档，不经手善款。",
    ),
    CoInitiatorSpec(
        "厦门市志愿者联合会",
        "线上传播与社区募捐动员",
        "依法登记的社会组织，年检合格，无违法违规记录；善款全部进入本会账户。",
    ),
)


@dataclass(frozen=True)
class ProjectSpec:
    key: str
    branch: str
    title: str
    purpose: str
    area: str
    beneficiaries: str
    intended_use: str
    leftover_handling: str
    target_yuan: int
    cost_yuan: int
    restricted: bool
    # Days before today the project started, and days after today it ends.
    started_days_ago: int
    ends_in_days: int
    # Share of the demo's donations, and how the giving tails off after the start:
    # None spreads evenly; a number of days makes most gifts come in its first days.
    share: float
    burst_days: float | None = None
    emergency: bool = False
    partners: tuple[CoInitiatorSpec, ...] = ()


PROJECTS: tuple[ProjectSpec, ...] = (
    ProjectSpec(
        key="bookbag",
        branch=CITY,
        title="红十字爱心小书包",
        purpose="落实“爱心厦门”建设部署，为农村学校和外来务工人员子女中的困难学生送去书包和学习用品。",
        area="厦门市",
        beneficiaries="全市农村学校及外来务工人员子女学校中家庭经济困难的小学生",
        intended_use="采购爱心书包、文具和课外读物，由学校核实名单后统一发放",
        leftover_handling="结余资金经捐赠人公示后转入本会同类助学项目",
        target_yuan=100_000,
        cost_yuan=0,
        restricted=True,
        started_days_ago=150,
        ends_in_days=33,
        share=0.40,
        partners=BOOKBAG_PARTNERS,
    ),
    ProjectSpec(
        key="typhoon",
        branch=CITY,
        title="台风“白鹭”灾后紧急救助",
        purpose="台风“白鹭”（演示用虚构台风）登陆后，为受灾群众提供紧急生活救助和灾后恢复支持。",
        area="厦门市受灾街道、镇",
        beneficiaries="受台风影响的困难群众和转移安置人员",
        intended_use="采购发放食品、饮用水、毛毯、卫生用品等救灾物资，资助受损困难家庭恢复生活",
        leftover_handling="结余资金转入本会备灾救灾资金，用于同类灾害救助",
        target_yuan=50_000,
        cost_yuan=0,
        restricted=True,
        started_days_ago=41,
        ends_in_days=33,
        share=0.27,
        burst_days=6.0,
        emergency=True,
    ),
    ProjectSpec(
        key="hospital",
        branch="翔安区红十字会",
        title="翔安区基层卫生院急救设备购置",
        purpose="为翔安区基层卫生院添置自动体外除颤器（AED），提升农村地区院前急救能力（首批）。",
        area="厦门市翔安区",
        beneficiaries="翔安区各镇（街道）卫生院及其服务的居民",
        intended_use="首批采购AED 4台，并开展配套急救培训",
        leftover_handling="结余资金用于设备维护和急救培训",
        target_yuan=80_000,
        cost_yuan=0,
        restricted=True,
        started_days_ago=120,
        ends_in_days=245,
        share=0.13,
    ),
    ProjectSpec(
        key="general",
        branch=CITY,
        title="博爱厦门·人道救助募捐",
        purpose="募集非定向善款，用于本会人道救助、应急救护培训和备灾救灾等公益事业。",
        area="厦门市",
        beneficiaries="符合本会救助条件的困难群众",
        intended_use="按本会年度计划统筹用于人道救助、应急救护普及和备灾救灾",
        leftover_handling="结转下一年度继续用于本会公益事业",
        target_yuan=100_000,
        cost_yuan=20_000,
        restricted=False,
        started_days_ago=300,
        ends_in_days=33,
        share=0.20,
    ),
)

# (amount in fen, weight): the page's presets most, then typical custom sums.
AMOUNTS: tuple[tuple[int, int], ...] = (
    (1_000, 26),
    (5_000, 18),
    (10_000, 20),
    (50_000, 4),
    (100, 2),
    (2_000, 8),
    (3_000, 5),
    (6_600, 4),
    (8_800, 4),
    (20_000, 5),
    (52_000, 1),
    (100_000, 2),
    (500_000, 1),
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔向汤洪庄"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志文红玉海燕晓鹏宇欣怡子涵浩然思雨佳琪梓萱"
    "俊杰淑珍金凤阿水美玲添福"
)
ANONYMOUS_SHARE = 0.2
RECEIPT_SHARE = 0.3
MOBILE_SHARE = 0.3
ATTRIBUTED_SHARE = 0.35  # of the gifts to a project with co-initiators
ABANDONED_EVERY = 25  # one order in so many is never paid: expired by the sweeper
LATE = 5  # orders paid after they expired: flagged for refund


@dataclass
class GivingResult:
    """What a load changed; all zero when the demo giving was already there."""

    projects_created: int = 0
    coinitiators_created: int = 0
    donations_paid: int = 0
    orders_expired: int = 0
    late_payments: int = 0
    receipts_issued: int = 0
    refunds: int = 0
    projects: dict[str, FundraisingProject] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.projects_created or self.donations_paid or self.orders_expired)


@dataclass(frozen=True)
class _Gift:
    project: str
    created_at: datetime
    paid_at: datetime
    amount_fen: int
    anonymous: bool
    name: str
    mobile: str
    receipt_wanted: bool
    partner: int | None
    user: str | None
    abandoned: bool = False


def giving_demo_load(
    *, donations: int = DEMO_DONATIONS, receipts_now: int = RECEIPTS_NOW, now: datetime | None = None
) -> GivingResult:
    """Create the demo projects and `donations` paid sandbox donations; idempotent.

    Runs inside the caller's transaction (the demo loader's). Does nothing when
    any demo project is already there: a second load changes nothing.
    """
    now = now or timezone.now()
    result = GivingResult()
    branches = {b.name: b for b in Branch.objects.filter(name__in={p.branch for p in PROJECTS})}
    if FundraisingProject.objects.filter(
        title__in=[p.title for p in PROJECTS], branch__in=branches.values()
    ).exists():
        return result
    drafter = User.objects.get(username=DRAFTER)
    with transaction.atomic():
        for spec in PROJECTS:
            result.projects[spec.key] = _project_open(spec, branches[spec.branch], drafter, now, result)
    rng = random.Random(SEED)  # noqa: S311 - demo data, drawn reproducibly
    gifts = _gifts(rng, donations, now)
    partners = {key: list(project.co_initiators.order_by("pk")) for key, project in result.projects.items()}
    users = {
        u.username: u for u in User.objects.filter(username__in=_DONOR_ACCOUNTS).select_related("identity")
    }
    for start in range(0, len(gifts), BATCH):
        with transaction.atomic():
            _donations_load(gifts[start : start + BATCH], result, partners, users)
    _late_payments(rng, result, now)
    with transaction.atomic():
        _receipts_issue(result, receipts_now)
    _refunds(result)
    return result


# --- projects ------------------------------------------------------------------------


def _project_open(
    spec: ProjectSpec, branch: Branch, drafter: User, now: datetime, result: GivingResult
) -> FundraisingProject:
    today = timezone.localdate(now)
    start = today - timedelta(days=spec.started_days_ago)
    # An ordinary project is filed a few days before it opens; the emergency one
    # opens first and is filed within its deadline (Charity Law Art 73, as amended 2023).
    if spec.emergency:
        filed_on = start + timedelta(days=6)
        deadline: date | None = start + timedelta(days=EMERGENCY_FILING_DAYS)
    else:
        filed_on = start - timedelta(days=7)
        deadline = None
    opened_at = timezone.make_aware(datetime.combine(start, time(9, 0)))
    spec_number = PROJECTS.index(spec) + 1
    project = FundraisingProject.objects.create(
        branch=branch,
        title=spec.title,
        purpose=spec.purpose,
        start_date=start,
        end_date=today + timedelta(days=spec.ends_in_days),
        area=spec.area,
        responsible_name="项目负责人（演示）",
        responsible_office_address=f"{branch.name}办公室（演示地址）",
        channels=[CHANNEL],
        bank_account=f"{branch.name} 募捐专户 0000 0000 0000 0000（演示）",
        beneficiaries=spec.beneficiaries,
        intended_use=spec.intended_use,
        cost_fen=spec.cost_yuan * 100,
        leftover_handling=spec.leftover_handling,
        target_fen=spec.target_yuan * 100,
        restricted=spec.restricted,
        emergency=spec.emergency,
        status=ProjectStatus.OPEN,
        filing_number=f"{(branch.division_code or '350200')[:6]}-{filed_on.year}-D{spec_number:02d}",
        filed_on=filed_on,
        opened_on=start,
        filing_deadline=deadline,
        created_by=drafter,
        created_at=opened_at - timedelta(days=14),
        updated_at=opened_at,
    )
    ProjectEvent.objects.create(
        project=project,
        from_status="",
        to_status=ProjectStatus.OPEN,
        actor=None,
        note="demo data",
        at=opened_at,
    )
    # What the opening transition opens: the restricted fund and the donation accounts.
    _restricted_fund(project, actor=None)
    donation_accounts_open(project)
    result.projects_created += 1
    for partner in spec.partners:
        coinitiator_add(
            actor=drafter,
            project=project,
            organisation_name=partner.name,
            assessment_note=partner.assessment,
            role=partner.role,
            now=opened_at - timedelta(days=10),
        )
        result.coinitiators_created += 1
    return project


# --- drawing the donations -------------------------------------------------------------

# Demo public accounts that gave while signed in (their own name and number).
_DONOR_ACCOUNTS = ("demo_public_1", "demo_public_2", "demo_public_3")


def _name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def _moment(rng: random.Random, spec: ProjectSpec, now: datetime) -> datetime:
    """A time at which someone gave: between the project's opening and an hour ago,
    in waking hours, and for an appeal mostly in its first days."""
    today = timezone.localdate(now)
    days = spec.started_days_ago
    if spec.burst_days is None:
        offset = rng.random() * days
    else:
        offset = min(rng.expovariate(1 / spec.burst_days), days * rng.random())
    day = today - timedelta(days=days) + timedelta(days=int(offset))
    minutes = rng.randint(7 * 60, 23 * 60 + 59)
    moment = timezone.make_aware(datetime.combine(day, time(minutes // 60, minutes % 60, rng.randint(0, 59))))
    if moment > now - timedelta(hours=1):
        moment = now - timedelta(hours=1, minutes=rng.randint(1, 600))
    return max(moment, timezone.make_aware(datetime.combine(today - timedelta(days=days), time(9, 5))))


def _gifts(rng: random.Random, count: int, now: datetime) -> list[_Gift]:
    amounts = [a for a, _w in AMOUNTS]
    weights = [w for _a, w in AMOUNTS]
    shares = [p.share for p in PROJECTS]
    gifts: list[_Gift] = []
    paid_count = 0
    i = 0
    while paid_count < count:
        i += 1
        # Every so many orders is left unpaid (so even a small load has some).
        abandoned = i % ABANDONED_EVERY == 2
        paid_count += not abandoned
        spec = rng.choices(PROJECTS, weights=shares)[0]
        created = _moment(rng, spec, now)
        paid_at = created + timedelta(seconds=rng.randint(8, 240), microseconds=rng.randint(0, 999_999))
        user = _DONOR_ACCOUNTS[i % len(_DONOR_ACCOUNTS)] if i % 97 == 1 else None
        anonymous = user is None and rng.random() < ANONYMOUS_SHARE
        name = "" if anonymous else _name(rng)
        mobile = ""
        if not anonymous and rng.random() < MOBILE_SHARE:
            mobile = f"+86138001381{rng.randint(0, 99):02d}"
        partner = None
        if spec.partners and rng.random() < ATTRIBUTED_SHARE:
            partner = rng.randrange(len(spec.partners))
        gifts.append(
            _Gift(
                project=spec.key,
                created_at=created,
                paid_at=paid_at,
                amount_fen=rng.choices(amounts, weights=weights)[0],
                anonymous=anonymous,
                name=name,
                mobile=mobile,
                receipt_wanted=rng.random() < RECEIPT_SHARE,
                partner=partner,
                user=user,
                abandoned=abandoned,
            )
        )
    # In time order: the log's indexes then follow the days the gifts were made.
    gifts.sort(key=lambda g: g.paid_at)
    return gifts


# --- paying them -------------------------------------------------------------------------


@contextmanager
def _channel_clock(moment: datetime) -> Iterator[None]:
    """The sandbox stamps, signs and checks its notifications with `payments.clock`;
    set to `moment`, the payment happens (and is verified) at that moment."""
    stamp = moment.timestamp()
    clock: Callable[[], float] = lambda: stamp  # noqa: E731
    with mock.patch.object(payments, "clock", clock):
        yield


def _donations_load(
    gifts: list[_Gift],
    result: GivingResult,
    partners: dict[str, list[CoInitiator]],
    users: dict[str, User],
) -> None:
    channel = SandboxChannel()
    for gift in gifts:
        project = result.projects[gift.project]
        user = users.get(gift.user or "")
        name, mobile = gift.name, gift.mobile
        if user is not None:
            # A signed-in donor gives under the real name and number of their account.
            name = user.identity.real_name
            mobile = user.mobile or ""
        co = partners[gift.project][gift.partner] if gift.partner is not None else None
        donation, _created = donation_create(
            DonationRequest(
                project_id=project.pk,
                amount_fen=gift.amount_fen,
                channel=CHANNEL,
                anonymous=gift.anonymous,
                donor_name=name,
                mobile=mobile,
                receipt_wanted=gift.receipt_wanted,
                attribution=co.attribution_code if co is not None else "",
            ),
            user=user,
            now=gift.created_at,
        )
        if gift.abandoned:
            continue  # never paid: the sweeper expires it below
        _pay(channel, donation, gift.paid_at)
        result.donations_paid += 1


def _receipts_issue(result: GivingResult, count: int) -> None:
    newest = Donation.objects.filter(
        project__in=result.projects.values(),
        status=Donation.Status.PAID,
        receipt_wanted=True,
        refund_flagged=False,
    ).order_by("-paid_at")[:count]
    for pk in list(newest.values_list("pk", flat=True)):
        if receipt_issue(pk) is not None:
            result.receipts_issued += 1


def _pay(channel: SandboxChannel, donation: Donation, at: datetime) -> None:
    """Pay at the sandbox at `at`, and deliver its signed notification as the notify view does."""
    with _channel_clock(at):
        channel.create_order(
            order_ref=donation.out_trade_no,
            amount_fen=donation.amount_fen,
            description=donation.project.title[:100],
            notify_url=NOTIFY_URL,
            client=ClientInfo(),
        )
        headers, body = channel.pay(donation.out_trade_no)
        reply = notification_receive(CHANNEL, headers, body)
    if reply.status != 200:
        raise RuntimeError(f"the demo payment of {donation.out_trade_no} was refused")


def _late_payments(rng: random.Random, result: GivingResult, now: datetime) -> None:
    """Expire the abandoned orders with the real sweeper, then let a few of them be paid after
    all: money for an order we had closed, recorded and held for refund."""
    with transaction.atomic():
        swept = donations_sweep(now=now, batch=100_000)
        result.orders_expired = swept.expired
        expired = list(
            Donation.objects.filter(
                project__in=result.projects.values(), status=Donation.Status.EXPIRED
            ).order_by("created_at", "pk")
        )
        channel = SandboxChannel()
        # Half of them at most, so that some stay expired, unpaid, as abandoned orders do.
        for donation in rng.sample(expired, min(LATE, len(expired) // 2)):
            # Paid at the channel some minutes after our order had expired.
            at = min(donation.expires_at + timedelta(minutes=rng.randint(5, 90)), now - timedelta(minutes=1))
            _pay(channel, donation, at)
            result.late_payments += 1


def _refunds(result: GivingResult) -> None:
    projects = list(result.projects.values())
    late = Donation.objects.filter(
        project__in=projects, refund_flagged=True, status=Donation.Status.PAID
    ).order_by("paid_at", "pk")[:2]
    for donation in late:
        _refund(donation, donation.amount_fen, late_refund_no(donation), LATE_REASON)
    paid = Donation.objects.filter(
        project=result.projects["bookbag"], status=Donation.Status.PAID, refund_flagged=False
    ).select_related("project", "branch")
    # A gift given twice by mistake, whose receipt had gone out (it is voided) …
    twice = paid.filter(receipt__isnull=False).order_by("-paid_at", "-pk").first()
    if twice is not None:
        _refund(twice, twice.amount_fen, new_out_refund_no(), "捐赠人误操作重复捐赠，申请全额退款")
    # … and one where the donor typed a larger amount than they meant.
    typo = paid.filter(amount_fen__gte=2_000, receipt__isnull=True).order_by("-paid_at", "-pk").first()
    if typo is not None:
        _refund(typo, typo.amount_fen // 2, new_out_refund_no(), "捐赠人金额填写有误，申请退还一半")
    result.refunds = Refund.objects.filter(
        donation__project__in=projects, status=RefundStatus.SUCCEEDED
    ).count()


def _refund(donation: Donation, amount_fen: int, number: str, reason: str) -> None:
    refund = refund_request(
        donation=donation, amount_fen=amount_fen, out_refund_no=number, reason=reason, actor=None
    )
    if refund.status != RefundStatus.SUCCEEDED:
        raise RuntimeError(f"the demo refund {number} did not succeed ({refund.status})")
