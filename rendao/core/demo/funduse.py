"""Demo data of issue 6: where the demo's money and goods went.

Recipient institutions (schools, a hospital, street offices; one a related
party) with representatives from the demo's public accounts and published
needs; disbursements from the demo projects' funds in every state (in approval,
approved, partly paid, paid, signed off, disputed, rejected, withdrawn,
cancelled); warehouses of the city, 思明 and 湖里 with goods received from
organisations, a person and an anonymous donor, a transfer, distribution orders
to a school, a hospital and street offices (signed off, one with a shortfall
that was investigated, one awaiting sign-off, one in approval) and a write-off
approved by two people.

Everything goes through the services, with the approvals engine deciding as
the demo's staff would, so the log, the journal, the feedback to donors and the
audit trail are what real use leaves behind. Idempotent: nothing happens when
the demo warehouses are already there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from rendao.approvals.models import ApprovalRequest, Decision, Outcome, RequestStatus
from rendao.approvals.services import holders, request_decide, request_withdraw
from rendao.core.demo.accounts import CITY
from rendao.core.models import Branch, Membership, User
from rendao.disbursements.models import Category, Disbursement
from rendao.disbursements.services import (
    disbursement_cancel,
    disbursement_request,
    payment_record,
    signoff_confirm,
    signoff_dispute,
)
from rendao.funds.donations import fund_code
from rendao.funds.models import Account, FundraisingProject
from rendao.goods.distribution import order_issue, order_request, order_shortfall_close, order_signoff
from rendao.goods.intake import IntakeLine, intake_record
from rendao.goods.models import DistributionOrder, Lot, Pick, Warehouse
from rendao.goods.warehouses import transfer_create, warehouse_create
from rendao.goods.writeoffs import writeoff_request
from rendao.recipients.models import Institution, InstitutionKind, Need
from rendao.recipients.services import institution_create, member_add, need_publish

WAREHOUSES = (
    ("CK-DEMO-CITY", CITY, "厦门市红十字备灾仓库", "厦门市湖里区（演示地址）"),
    ("CK-DEMO-SM", "思明区红十字会", "思明区红十字备灾仓库", "厦门市思明区（演示地址）"),
    ("CK-DEMO-HL", "湖里区红十字会", "湖里区红十字备灾仓库", "厦门市湖里区（演示地址）"),
)

# (key, branch, name, kind, representative's mobile or "", related-party note or "")
INSTITUTIONS = (
    ("school", "思明区红十字会", "思明区演示实验小学", InstitutionKind.SCHOOL, "+8613800138003", ""),
    ("school2", "湖里区红十字会", "湖里区演示中学", InstitutionKind.SCHOOL, "", ""),
    ("hospital", CITY, "厦门市演示第三医院", InstitutionKind.HOSPITAL, "+8613800138004", ""),
    ("jialian", "思明区红十字会", "嘉莲街道办事处", InstitutionKind.STREET_OFFICE, "+8613800138001", ""),
    ("dianqian", "湖里区红十字会", "殿前街道办事处", InstitutionKind.STREET_OFFICE, "", ""),
    (
        "welfare",
        CITY,
        "厦门市演示社会福利院",
        InstitutionKind.WELFARE,
        "",
        "本会一名理事兼任该院院长（演示）",
    ),
    ("auditor", CITY, "厦门演示会计师事务所", InstitutionKind.OTHER, "", ""),
)


@dataclass
class FundUseResult:
    institutions: int = 0
    needs: int = 0
    disbursements: int = 0
    intakes: int = 0
    orders: int = 0
    write_offs: int = 0


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _decide_all(process_type: str, obj_pk: int, *, outcome: str = Outcome.APPROVE, comment: str = "") -> None:
    """Decide each step of the object's pending request with a distinct eligible demo staff member."""
    request = ApprovalRequest.objects.get(
        process_type=process_type, object_id=obj_pk, status=RequestStatus.PENDING
    )
    while request.status == RequestStatus.PENDING and request.current_role_id is not None:
        decided = set(Decision.objects.filter(request=request).values_list("decided_by_id", flat=True))
        people = holders(
            role_id=request.current_role_id,
            path=request.current_path,
            exclude={request.requester_id, *decided},
        )
        # The holder at the step's own branch decides, as in life; the city's
        # administrator stays free for a later step placed at the city.
        depth = {
            m.user_id: len(m.branch.path)
            for m in Membership.objects.filter(
                user__in=people, role_id=request.current_role_id
            ).select_related("branch")
        }
        people.sort(key=lambda u: -depth.get(u.pk, 0))
        request_decide(actor=people[0], request=request, outcome=outcome, comment=comment)
        request.refresh_from_db()
        if outcome != Outcome.APPROVE:
            return


def _institutions(branches: dict[str, Branch], result: FundUseResult) -> dict[str, Institution]:
    admin = _user("city_admin")
    made: dict[str, Institution] = {}
    for key, branch, name, kind, mobile, related in INSTITUTIONS:
        institution = institution_create(
            actor=admin,
            branch=branches[branch],
            name=name,
            kind=kind,
            address="厦门市（演示地址）",
            contact_name="联系人（演示）",
            related_party=bool(related),
            related_party_note=related,
        )
        if mobile:
            member_add(actor=admin, institution=institution, mobile=mobile)
        made[key] = institution
        result.institutions += 1
    return made


def _needs(inst: dict[str, Institution], today: date, result: FundUseResult) -> dict[str, Need]:
    rep_school, rep_hospital, rep_jialian = (_user(f"demo_public_{n}") for n in (3, 4, 1))
    needs = {
        "bags": need_publish(
            actor=rep_school,
            institution=inst["school"],
            item_name="书包",
            specification="儿童款",
            unit="个",
            quantity=200,
            deadline=today + timedelta(days=20),
            purpose="新学期为家庭经济困难学生配发",
        ),
        "books": need_publish(
            actor=rep_school,
            institution=inst["school"],
            item_name="课外读物",
            specification="小学套装",
            unit="套",
            quantity=300,
            deadline=today + timedelta(days=45),
            purpose="充实班级图书角",
        ),
        "wheelchairs": need_publish(
            actor=rep_hospital,
            institution=inst["hospital"],
            item_name="轮椅",
            specification="折叠式",
            unit="台",
            quantity=10,
            deadline=today + timedelta(days=30),
            purpose="急诊和康复科周转使用",
        ),
        "walkers": need_publish(
            actor=rep_jialian,
            institution=inst["jialian"],
            item_name="助行器",
            specification="老年人用",
            unit="个",
            quantity=20,
            deadline=today + timedelta(days=25),
            purpose="辖区独居困难老人",
        ),
    }
    result.needs += len(needs)
    return needs


def _fund(project: FundraisingProject) -> Account:
    return Account.objects.get(code=fund_code(project))


def _disbursements(
    projects: dict[str, FundraisingProject], inst: dict[str, Institution], today: date, result: FundUseResult
) -> None:
    finance = _user("finance")
    reps = {
        "school": _user("demo_public_3"),
        "hospital": _user("demo_public_4"),
        "jialian": _user("demo_public_1"),
    }

    def ask(
        project: str, payee: str, share: int, purpose: str, category: str = Category.CHARITABLE
    ) -> Disbursement:
        fund = _fund(projects[project])
        fund.refresh_from_db()
        # A share (in per mille) of what the fund has left, in whole yuan.
        amount = max(100, (fund.balance_fen - fund.reserved_fen) * share // 1000 // 100 * 100)
        result.disbursements += 1
        return disbursement_request(
            actor=finance,
            fund=fund,
            payee=inst[payee],
            amount_fen=amount,
            purpose=purpose,
            category=category,
            payee_bank_account="演示银行 3502 0000 0000 0000",
        )

    def approve(d: Disbursement) -> Disbursement:
        _decide_all("disbursement", d.pk)
        d.refresh_from_db()
        return d

    def pay(d: Disbursement, amount: int, days_ago: int, ref: str) -> Disbursement:
        payment_record(
            actor=finance,
            disbursement=d,
            bank_reference=ref,
            paid_on=today - timedelta(days=days_ago),
            amount_fen=amount,
        )
        d.refresh_from_db()
        return d

    # Signed off: the school confirms the bag money arrived.
    d = approve(ask("bookbag", "school", 300, "采购爱心书包和文具（第一批）"))
    d = pay(d, d.amount_fen, 20, "DEMO-BOC-0001")
    signoff_confirm(actor=reps["school"], disbursement=d, received_fen=d.amount_fen, note="已到账，谢谢")
    # Disputed: the street office says less arrived than was announced.
    d = approve(ask("typhoon", "jialian", 250, "受灾困难家庭临时生活救助"))
    d = pay(d, d.amount_fen, 9, "DEMO-BOC-0002")
    signoff_dispute(actor=reps["jialian"], disbursement=d, note="银行入账金额与通知不一致，请核实（演示）")
    # Paid, awaiting the street office's confirmation.
    d = approve(ask("typhoon", "dianqian", 200, "受损房屋应急修缮补助"))
    pay(d, d.amount_fen, 3, "DEMO-BOC-0003")
    # Partly paid: the hospital's equipment, paid in two instalments (one so far).
    d = approve(ask("hospital", "hospital", 400, "采购自动体外除颤器（AED）"))
    pay(d, d.amount_fen // 2 // 100 * 100, 5, "DEMO-BOC-0004")
    # Paid to a related party (Art 40): shown on the charity-law watch.
    d = approve(ask("general", "welfare", 80, "福利院冬季取暖用品"))
    pay(d, d.amount_fen, 12, "DEMO-BOC-0005")
    # A management cost (Art 61): the annual audit fee.
    d = approve(ask("general", "auditor", 30, "年度财务审计费", Category.MANAGEMENT))
    pay(d, d.amount_fen, 15, "DEMO-BOC-0006")
    # Approved, not yet paid.
    approve(ask("general", "school2", 60, "困难学生助学金"))
    # In approval.
    ask("bookbag", "school2", 150, "采购爱心书包和文具（第二批）")
    # Rejected.
    d = ask("general", "hospital", 50, "医院职工慰问品")
    _decide_all("disbursement", d.pk, outcome=Outcome.REJECT, comment="不属于本会救助范围")
    # Withdrawn by the requester.
    d = ask("typhoon", "jialian", 50, "重复提交的救助申请")
    request_withdraw(
        actor=finance, request=ApprovalRequest.objects.get(process_type="disbursement", object_id=d.pk)
    )
    # Cancelled after approval.
    d = approve(ask("general", "dianqian", 40, "社区急救箱配置"))
    disbursement_cancel(actor=finance, disbursement=d, reason="街道已由其他渠道配置")


def _warehouses(branches: dict[str, Branch]) -> dict[str, Warehouse]:
    admin = _user("city_admin")
    made = {}
    for code, branch, name, address in WAREHOUSES:
        made[code] = warehouse_create(
            actor=admin, branch=branches[branch], name=name, code=code, address=address
        )
    return made


def _lot(intake_lots: list[Lot], item: str) -> Lot:
    return next(lot for lot in intake_lots if lot.item_name == item)


def _goods(
    projects: dict[str, FundraisingProject],
    inst: dict[str, Institution],
    needs: dict[str, Need],
    wh: dict[str, Warehouse],
    today: date,
    result: FundUseResult,
) -> None:
    city_keeper, siming_keeper = _user("city_keeper"), _user("siming_keeper")
    city, siming, huli = wh["CK-DEMO-CITY"], wh["CK-DEMO-SM"], wh["CK-DEMO-HL"]

    def lines(*specs: tuple[str, str, str, int, int, int | None]) -> list[IntakeLine]:
        return [
            IntakeLine(
                item_name=name,
                specification=spec,
                unit=unit,
                quantity=qty,
                unit_value_fen=value,
                expires_on=None if days is None else today + timedelta(days=days),
            )
            for name, spec, unit, qty, value, days in specs
        ]

    food = intake_record(
        actor=city_keeper,
        warehouse=city,
        donor_kind="organisation",
        organisation_name="厦门演示食品有限公司",
        project=projects["typhoon"],
        received_on=today - timedelta(days=38),
        lines=lines(
            ("矿泉水", "550ml×24", "箱", 300, 2_400, 300),
            ("方便面", "5连包×6", "箱", 200, 6_000, 150),
        ),
    )
    quilts = intake_record(
        actor=city_keeper,
        warehouse=city,
        donor_kind="organisation",
        organisation_name="厦门演示纺织有限公司",
        project=projects["typhoon"],
        received_on=today - timedelta(days=37),
        lines=lines(("棉被", "1.5m×2m", "床", 150, 12_000, None)),
    )
    masks = intake_record(
        actor=city_keeper,
        warehouse=city,
        donor_kind="person",
        donor_name="张建华",
        donor_mobile="+8613800138005",
        project=projects["typhoon"],
        received_on=today - timedelta(days=36),
        lines=lines(("医用口罩", "KN95", "只", 2_000, 250, 200)),
    )
    bags = intake_record(
        actor=siming_keeper,
        warehouse=siming,
        donor_kind="anonymous",
        project=projects["bookbag"],
        need=needs["bags"],
        received_on=today - timedelta(days=25),
        lines=lines(("书包", "儿童款", "个", 400, 8_000, None), ("文具套装", "小学", "套", 400, 3_500, None)),
    )
    result.intakes += 4
    food_lots, bag_lots = list(food.lots.all()), list(bags.lots.all())
    # The typhoon response in 湖里 is served from its own warehouse.
    transfer_create(
        actor=city_keeper,
        lot=_lot(food_lots, "矿泉水"),
        source=city,
        target=huli,
        quantity=100,
        note="湖里安置点",
    )

    def order(
        keeper: User,
        warehouse: Warehouse,
        to: str,
        project: str,
        purpose: str,
        *items: tuple[str, str, str, int],
        need: Need | None = None,
    ) -> DistributionOrder:
        result.orders += 1
        o = order_request(
            actor=keeper,
            warehouse=warehouse,
            recipient=inst[to],
            project=projects[project],
            need=need,
            purpose=purpose,
            lines=list(items),
        )
        return o

    def issue(o: DistributionOrder, keeper: User) -> list[Pick]:
        _decide_all("goods_distribution", o.pk)
        o.refresh_from_db()
        order_issue(actor=keeper, order=o)
        return list(Pick.objects.filter(line__order=o).order_by("pk"))

    # The school receives its bags in full (and its published need is met).
    o = order(
        siming_keeper,
        siming,
        "school",
        "bookbag",
        "新学期爱心书包发放",
        ("书包", "儿童款", "个", 200),
        ("文具套装", "小学", "套", 200),
        need=needs["bags"],
    )
    picks = issue(o, siming_keeper)
    order_signoff(
        actor=_user("demo_public_3"), order=o, received={p.pk: p.quantity for p in picks}, note="已全部收到"
    )
    # The street office finds four cases of water short: recorded and investigated.
    o = order(
        city_keeper,
        city,
        "jialian",
        "typhoon",
        "台风受灾群众生活物资",
        ("矿泉水", "550ml×24", "箱", 80),
        ("方便面", "5连包×6", "箱", 60),
        ("棉被", "1.5m×2m", "床", 40),
    )
    picks = issue(o, city_keeper)
    received = {p.pk: p.quantity - (4 if p.lot.item_name == "矿泉水" else 0) for p in picks}
    order_signoff(
        actor=_user("demo_public_1"), order=o, received=received, note="矿泉水少4箱，外包装有破损（演示）"
    )
    order_shortfall_close(
        actor=_user("city_admin"),
        order=o,
        findings="运输途中4箱破损，承运方已赔付；破损情况已拍照留存（演示）。",
    )
    # The hospital receives masks in full.
    o = order(city_keeper, city, "hospital", "typhoon", "灾后防疫用口罩", ("医用口罩", "KN95", "只", 1_000))
    picks = issue(o, city_keeper)
    order_signoff(actor=_user("demo_public_4"), order=o, received={p.pk: p.quantity for p in picks})
    # Issued from 湖里, awaiting the street office's sign-off.
    o = order(city_keeper, huli, "dianqian", "typhoon", "安置点饮用水", ("矿泉水", "550ml×24", "箱", 50))
    issue(o, city_keeper)
    # In approval.
    order(
        siming_keeper,
        siming,
        "jialian",
        "bookbag",
        "辖区困难学生文具",
        ("文具套装", "小学", "套", 100),
    )
    # Three bags were found soaked after a leak: written off with two approvers.
    w = writeoff_request(
        actor=siming_keeper,
        warehouse=siming,
        lot=_lot(bag_lots, "书包"),
        quantity=3,
        reason="damaged",
        explanation="仓库漏水导致3个书包受潮霉变，已拍照（演示）",
    )
    _decide_all("goods_write_off", w.pk)
    result.write_offs += 1
    del quilts, masks


def funduse_demo_load(*, today: date | None = None) -> FundUseResult:
    """Load the fund-use demo once the demo projects have money; a second load changes nothing."""
    result = FundUseResult()
    if Warehouse.objects.filter(code=WAREHOUSES[0][0]).exists():
        return result
    today = today or timezone.localdate()
    names = {b for _k, b, *_rest in INSTITUTIONS} | {b for _c, b, *_rest in WAREHOUSES}
    branches = {b.name: b for b in Branch.objects.filter(name__in=names)}
    projects = {
        key: FundraisingProject.objects.get(title=title)
        for key, title in (
            ("bookbag", "红十字爱心小书包"),
            ("typhoon", "台风“白鹭”灾后紧急救助"),
            ("hospital", "翔安区基层卫生院急救设备购置"),
            ("general", "博爱厦门·人道救助募捐"),
        )
    }
    with transaction.atomic():
        inst = _institutions(branches, result)
        needs = _needs(inst, today, result)
        wh = _warehouses(branches)
        _goods(projects, inst, needs, wh, today, result)
        if all(_fund(p).balance_fen > 10_000 for p in projects.values()):
            _disbursements(projects, inst, today, result)
    return result
