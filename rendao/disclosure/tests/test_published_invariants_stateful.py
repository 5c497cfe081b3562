"""Random sequences of gifts, refunds, payments out, publications and corrections:
after every step, every public page and summary endpoint proves its own numbers.

Checked on the project, its branch, the city branch and the society, page and JSON:
every total equals the sum of its published lines; every published check holds;
income = paid out + balance; cumulative income never decreases and the only way
net income falls is a refund shown on its dated day line; the disclosure list shows
one current version per series, the history every version with its note, and each
version's log entry carries the hash of exactly what is shown.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client, TestCase, override_settings
from django.urls import reverse
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from rendao.conftest import Personas
from rendao.disbursements.models import Payment
from rendao.disbursements.tests import factories as money
from rendao.disclosure.figures import as_disclosure_figures, project_figures
from rendao.disclosure.models import Disclosure, DisclosureStatus
from rendao.disclosure.selectors import disclosures_public
from rendao.disclosure.services import content_hash, disclosure_correct, disclosure_publish
from rendao.disclosure.tests.helpers import disclosure_leaves, draft
from rendao.funds.models import Donation
from rendao.funds.refunds import refund_request
from rendao.funds.tests.factories import donate, pay

pytestmark = pytest.mark.django_db

# Online gifts start at 1 yuan (settings); payments out at 1 fen.
gifts = st.integers(min_value=100, max_value=500_000)
payouts = st.integers(min_value=1, max_value=500_000)


def english() -> Client:
    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def assert_adds_up(body: dict[str, Any]) -> None:
    income, spending, goods = body["income"], body["spending"], body["goods"]
    assert income["received_fen"] == sum(d["received_fen"] for d in income["by_day"])
    assert income["refunded_fen"] == sum(d["refunded_fen"] for d in income["by_day"])
    net = income["received_fen"] - income["refunded_fen"]
    assert net == income["net_income_fen"]
    assert net == sum(line["amount_fen"] for line in income["by_channel"])
    assert net == sum(line["amount_fen"] for line in income["by_partner"])
    assert spending["paid_out_fen"] == sum(line["amount_fen"] for line in spending["by_category"])
    assert spending["paid_out_fen"] == sum(line["amount_fen"] for line in spending["by_payee"])
    assert net == spending["paid_out_fen"] + body["balance_fen"]
    assert goods["received_value_fen"] == sum(line["amount_fen"] for line in goods["received"])
    assert goods["issued_value_fen"] == sum(line["amount_fen"] for line in goods["issued"])
    assert body["checks"]
    assert all(c["holds"] and c["left_fen"] == c["right_fen"] for c in body["checks"])
    assert body["consistent"] is True


class Publishing(RuleBasedStateMachine):
    world: money.World
    donations = Bundle("donations")

    def __init__(self) -> None:
        super().__init__()
        # Each example runs in a savepoint rolled back at teardown.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        w = self.world
        self.client = english()
        self.summaries = [
            f"/api/v1/open/summary/projects/{w.project.pk}",
            f"/api/v1/open/summary/branches/{w.project.branch_id}",
            f"/api/v1/open/summary/branches/{w.personas.tree.city.pk}",
            "/api/v1/open/summary/society",
        ]
        self.pages = [
            reverse("disclosure:open_project", kwargs={"pk": w.project.pk}),
            reverse("disclosure:open_branch", kwargs={"pk": w.project.branch_id}),
            reverse("disclosure:open_society"),
        ]
        self.seen: dict[str, tuple[int, int]] = {}
        self.refunded_by_us = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @rule(target=donations, fen=gifts)
    def give(self, fen: int) -> Donation:
        donation = donate(self.world.project, amount_fen=fen)
        assert pay(donation).status == 200
        donation.refresh_from_db()
        return donation

    @rule(donation=donations, share=st.integers(1, 100))
    def refund(self, donation: Donation, share: int) -> None:
        donation.refresh_from_db()
        fen = max(1, donation.amount_fen * share // 100)
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                refund_request(
                    donation=donation,
                    amount_fen=fen,
                    out_refund_no=f"RF{secrets.token_hex(8)}",
                    reason="donor asked",
                    actor=None,
                )
        except ValidationError:
            return  # more than is left, or the fund has promised it: nothing changed
        self.refunded_by_us += fen

    @rule(fen=payouts)
    def pay_out(self, fen: int) -> None:
        payments = Payment.objects.count()
        try:
            money.paid(self.world, amount_fen=fen)
        except ValidationError:
            # More than the fund has available: refused, nothing paid.
            assert Payment.objects.count() == payments

    @rule(correct=st.booleans())
    def publish(self, correct: bool) -> None:
        w = self.world
        figures = as_disclosure_figures(project_figures(w.project))
        current = list(disclosures_public(project=w.project))
        if correct and current:
            correction = disclosure_correct(
                actor=w.personas.finance,
                published=current[0],
                title=current[0].title,
                body=current[0].body + " 已更正。",
                figures=figures,
                correction_note="数字更新",
            )
            disclosure_publish(actor=w.personas.finance, disclosure=correction)
        else:
            disclosure_publish(
                actor=w.personas.finance,
                disclosure=draft(w.personas.finance, w.project.branch, project=w.project, figures=figures),
            )

    @invariant()
    def every_summary_adds_up_and_cumulative_income_never_falls(self) -> None:
        for url in self.summaries:
            response = self.client.get(url)
            assert response.status_code == 200
            body = response.json()
            assert_adds_up(body)
            received, refunded = body["income"]["received_fen"], body["income"]["refunded_fen"]
            before = self.seen.get(url, (0, 0))
            assert received >= before[0]
            assert refunded >= before[1]
            self.seen[url] = (received, refunded)
        project = self.client.get(self.summaries[0]).json()
        assert project["income"]["refunded_fen"] == self.refunded_by_us

    @invariant()
    def every_page_shows_no_failing_check(self) -> None:
        for url in self.pages:
            response = self.client.get(url)
            assert response.status_code == 200
            assert "✗" not in response.content.decode()

    @invariant()
    def one_current_version_per_series_and_every_version_logged_as_shown(self) -> None:
        current = list(disclosures_public(project=self.world.project))
        assert len({d.series for d in current}) == len(current)
        published = Disclosure.objects.filter(status=DisclosureStatus.PUBLISHED)
        leaves = {leaf["index"]: leaf for leaf in disclosure_leaves()}
        assert len(leaves) == published.count()
        for d in published:
            assert d.version == 1 or d.correction_note
            leaf = leaves[d.ledger_index]
            assert leaf["content_sha256"] == content_hash(title=d.title, body=d.body, figures=d.figures)
        for d in current:
            history = self.client.get(
                reverse("disclosure:open_disclosure_history", kwargs={"series": d.series})
            )
            assert history.status_code == 200
            assert d.title in history.content.decode()
            newest = published.filter(series=d.series).order_by("-version").first()
            assert newest is not None
            assert newest.pk == d.pk


def test_every_public_page_and_endpoint_proves_its_numbers_through_random_histories(
    personas: Personas,
) -> None:
    Publishing.world = money.world(personas, amount_fen=1_000_000)
    # A citizen's script reads many summaries in a row; the per-IP limit is not under test.
    with override_settings(API_ANON_RATE=""):
        run_state_machine_as_test(
            Publishing,
            settings=settings(
                max_examples=5,
                stateful_step_count=8,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
