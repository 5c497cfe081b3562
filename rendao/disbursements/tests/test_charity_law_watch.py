"""The Charity-law watch: Art 61 ratios with exact figures across two years, Art 40 payments, the page."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, override_settings

from rendao.conftest import Personas, signed_in_client
from rendao.core.inbox import inbox_items
from rendao.core.models import User
from rendao.disbursements.models import Category
from rendao.disbursements.tests.payments_factory import funded_project, paid_disbursement, payee
from rendao.disbursements.watch import Ratio, china_year, watch_compute, watch_for_viewer
from rendao.funds.models import Donation, FundraisingProject, Refund, RefundStatus
from rendao.funds.tests.factories import donate, pay

pytestmark = pytest.mark.django_db
CHINA = ZoneInfo("Asia/Shanghai")
PAGE = "/staff/charity-law/"


def paid_at(project: FundraisingProject, amount_fen: int, at: datetime, **fields: object) -> Donation:
    donation = donate(project, amount_fen=amount_fen)
    pay(donation)
    Donation.objects.filter(pk=donation.pk).update(paid_at=at, **fields)
    donation.refresh_from_db()
    return donation


def refunded(donation: Donation, amount_fen: int, at: datetime, no: str) -> Refund:
    return Refund.objects.create(
        donation=donation,
        out_refund_no=no,
        amount_fen=amount_fen,
        reason="捐赠人申请",
        status=RefundStatus.SUCCEEDED,
        completed_at=at,
    )


@pytest.fixture
def figures(personas: Personas) -> dict[str, FundraisingProject]:
    """2024 income of 思明's subtree: 1,000,000 + 333,333 − 33,333 = 1,300,000 fen; 2025: 500,000."""
    siming = funded_project(personas.tree.siming, personas.siming_staff)
    street = funded_project(personas.tree.street, personas.siming_staff)
    huli = funded_project(personas.tree.huli, personas.huli_staff)
    first = paid_at(siming, 1_000_000, datetime(2024, 5, 1, 10, tzinfo=CHINA))
    paid_at(street, 333_333, datetime(2024, 12, 31, 23, 30, tzinfo=CHINA))
    paid_at(siming, 500_000, datetime(2025, 1, 1, 0, 10, tzinfo=CHINA))
    refunded(first, 33_333, datetime(2024, 6, 1, 9, tzinfo=CHINA), "RF-1")
    # Not 思明's: another district, and a late payment held for refund.
    paid_at(huli, 400_000, datetime(2024, 7, 1, tzinfo=CHINA))
    late = paid_at(siming, 70_000, datetime(2024, 8, 1, tzinfo=CHINA), refund_flagged=True)
    refunded(late, 70_000, datetime(2024, 8, 2, tzinfo=CHINA), "RF-2")

    by = personas.finance
    related = payee(personas.tree.siming, name="理事关联医院", related_party=True)
    for reference, project, amount, day, category, to in [
        ("C1", siming, 900_000, date(2025, 3, 1), Category.CHARITABLE, None),
        ("C2", street, 10_000, date(2025, 12, 31), Category.CHARITABLE, related),
        ("M1", siming, 100_001, date(2025, 6, 1), Category.MANAGEMENT, None),
        ("C0", siming, 50_000, date(2024, 12, 31), Category.CHARITABLE, related),
        ("H1", huli, 300_000, date(2025, 3, 1), Category.MANAGEMENT, None),
    ]:
        paid_disbursement(
            project, by=by, reference=reference, amount_fen=amount, paid_on=day, category=category, to=to
        )
    return {"siming": siming, "street": street, "huli": huli}


class TestFigures:
    def test_the_ratios_of_2025_use_the_income_of_2024(
        self, personas: Personas, figures: dict[str, FundraisingProject]
    ) -> None:
        watch = watch_compute(branch=personas.tree.siming, year=2025)
        assert watch.prior_income_fen == 1_300_000
        assert watch.income_fen == 500_000
        assert (watch.charitable_fen, watch.management_fen, watch.fundraising_fen) == (910_000, 100_001, 0)
        # 910,000 / 1,300,000 is exactly 70 %: the threshold is reached.
        assert watch.spending.percent == "70.0%"
        assert watch.spending.ok is True
        # 100,001 / 1,010,001 = 9.9010 %.
        assert watch.management.percent == "9.9%"
        assert watch.management.ok is True
        assert not watch.at_risk

    def test_one_fen_less_or_more_puts_a_ratio_at_risk(
        self, personas: Personas, figures: dict[str, FundraisingProject]
    ) -> None:
        paid_disbursement(
            figures["siming"],
            by=personas.finance,
            reference="M2",
            amount_fen=12_222,
            paid_on=date(2025, 7, 1),
            category=Category.MANAGEMENT,
        )
        watch = watch_compute(branch=personas.tree.siming, year=2025)
        # 112,223 / 1,022,223 = 10.978 %: over 10 %.
        assert watch.management.percent == "11.0%"
        assert watch.management.ok is False
        assert watch.at_risk
        refunded(Donation.objects.get(amount_fen=333_333), 1, datetime(2024, 12, 1, tzinfo=CHINA), "RF-3")
        # 910,000 / 1,299,999 is just over 70 %; income one fen lower does not hurt.
        assert watch_compute(branch=personas.tree.siming, year=2025).spending.ok is True

    def test_the_year_before_has_no_prior_income(
        self, personas: Personas, figures: dict[str, FundraisingProject]
    ) -> None:
        watch = watch_compute(branch=personas.tree.siming, year=2024)
        assert watch.prior_income_fen == 0
        assert watch.income_fen == 1_300_000
        assert watch.charitable_fen == 50_000
        assert watch.spending.ok is None
        assert watch.spending.percent == "—"
        assert watch.management.percent == "0.0%"

    def test_the_city_counts_every_district(
        self, personas: Personas, figures: dict[str, FundraisingProject]
    ) -> None:
        watch = watch_compute(branch=personas.tree.city, year=2025)
        assert watch.prior_income_fen == 1_700_000
        assert watch.management_fen == 400_001
        # 400,001 / 1,310,001 = 30.53 %.
        assert watch.management.percent == "30.5%"

    def test_related_party_payments_of_the_year_are_listed(
        self, personas: Personas, figures: dict[str, FundraisingProject]
    ) -> None:
        watch = watch_compute(branch=personas.tree.siming, year=2025)
        assert watch.related_party_count == 1
        assert watch.related_party_fen == 10_000
        (row,) = watch.related_party
        assert (row.paid_on, row.payee, row.amount_fen) == (date(2025, 12, 31), "理事关联医院", 10_000)
        assert row.relation == "理事任职单位"

    @override_settings(CHARITY_SPENDING_MIN_PERCENT=75, CHARITY_MANAGEMENT_MAX_PERCENT=20)
    def test_the_thresholds_are_settings(
        self, personas: Personas, figures: dict[str, FundraisingProject]
    ) -> None:
        watch = watch_compute(branch=personas.tree.siming, year=2025)
        assert watch.spending.ok is False
        assert watch.management.ok is True

    def test_the_queries_are_bounded(
        self,
        personas: Personas,
        figures: dict[str, FundraisingProject],
        django_assert_max_num_queries: object,
    ) -> None:
        with django_assert_max_num_queries(8):  # type: ignore[operator]
            watch_compute(branch=personas.tree.city, year=2025)


class TestRatio:
    @pytest.mark.parametrize(
        ("numerator", "denominator", "text"),
        [
            (1, 3, "33.3%"),
            (2, 3, "66.7%"),
            (1, 2000, "0.1%"),
            (1, 2001, "0.0%"),
            (7, 7, "100.0%"),
            (0, 0, "—"),
        ],
    )
    def test_percentages_round_half_up_exactly(self, numerator: int, denominator: int, text: str) -> None:
        assert Ratio(numerator, denominator, 70, True).percent == text


class TestAccess:
    @pytest.mark.parametrize("who", ["huli_staff", "public", "outsider"])
    def test_others_are_refused(self, personas: Personas, who: str) -> None:
        with pytest.raises(PermissionDenied):
            watch_for_viewer(user=getattr(personas, who), branch=personas.tree.siming, year=2025)

    @pytest.mark.parametrize(
        "who", ["finance", "auditor", "leader", "siming_staff", "reviewer", "city_staff"]
    )
    def test_finance_and_dashboard_viewers_may_watch(self, personas: Personas, who: str) -> None:
        watch_for_viewer(user=getattr(personas, who), branch=personas.tree.siming, year=2025)


def page_client(user: User) -> Client:
    client = signed_in_client(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


class TestPage:
    def test_it_shows_the_ratios_of_the_year_asked(
        self, personas: Personas, figures: dict[str, FundraisingProject]
    ) -> None:
        response = page_client(personas.finance).get(PAGE, {"branch": personas.tree.siming.pk, "year": 2025})
        assert response.status_code == 200
        page = response.content.decode()
        assert '<strong data-ratio="spending">70.0%</strong>' in page
        assert '<strong data-ratio="management">9.9%</strong>' in page
        assert "理事关联医院" in page
        assert "¥13,000.00" in page  # the 2024 income

    def test_without_parameters_it_shows_this_year_of_the_working_branch(self, personas: Personas) -> None:
        response = page_client(personas.reviewer).get(PAGE)
        assert response.status_code == 200
        assert f"思明区红十字会 · {china_year()}" in response.content.decode()

    @pytest.mark.parametrize(
        ("query", "message"),
        [({"year": "abc"}, "Enter a whole number"), ({"year": "1999"}, "Ensure this value")],
    )
    def test_a_bad_year_is_400(self, personas: Personas, query: dict[str, str], message: str) -> None:
        response = page_client(personas.siming_staff).get(PAGE, query)
        assert response.status_code == 400
        assert message in response.content.decode()

    @pytest.mark.parametrize("branch", ["huli", "999999", "abc"])
    def test_a_branch_out_of_scope_is_not_found(self, personas: Personas, branch: str) -> None:
        if branch == "huli":
            branch = str(personas.tree.huli.pk)
        assert page_client(personas.siming_staff).get(PAGE, {"branch": branch}).status_code == 404

    @pytest.mark.parametrize("who", ["public", "outsider", "sysadmin"])
    def test_others_are_forbidden(self, personas: Personas, who: str) -> None:
        assert page_client(getattr(personas, who)).get(PAGE).status_code == 403

    def test_anonymous_callers_are_sent_to_sign_in(self) -> None:
        assert Client().get(PAGE).status_code == 302


class TestWorkbench:
    def test_related_party_payments_of_this_year_show_on_the_workbench(self, personas: Personas) -> None:
        project = funded_project(personas.tree.siming, personas.siming_staff)
        related = payee(personas.tree.siming, name="理事关联医院", related_party=True)
        today = datetime.now(CHINA).date()
        paid_disbursement(
            project, by=personas.finance, reference="R1", amount_fen=1_000, paid_on=today, to=related
        )
        titles = [str(item.title) for item in inbox_items(personas.finance, personas.tree.siming)]
        assert "Related-party payments this year (Art 40)" in titles
        others = [str(item.title) for item in inbox_items(personas.huli_staff, personas.tree.huli)]
        assert "Related-party payments this year (Art 40)" not in others
