"""The public giving pages: list, project page, poster, donate form, partner pages, my donations."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, RequestFactory, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rendao.conftest import Personas, signed_in_client
from rendao.core.models import User
from rendao.funds import views_public
from rendao.funds.donations import ANONYMOUS_NAME
from rendao.funds.models import CoInitiator, Donation, FundraisingProject, ProjectStatus
from rendao.funds.payments import Checkout, CheckoutKind, TransientChannelError
from rendao.funds.payments.sandbox.adapter import SandboxChannel
from rendao.funds.poster import poster_qr, poster_target_url, qr_path
from rendao.funds.selectors import progress_percent
from rendao.funds.tests.factories import donate, open_project, pay

pytestmark = pytest.mark.django_db
S = ProjectStatus


def english(user: User | None = None) -> Client:
    client = signed_in_client(user) if user is not None else Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def project(personas: Personas) -> FundraisingProject:
    return open_project(personas.tree.siming, personas.finance)


def partner_of(
    project: FundraisingProject, code: str = "partnerAAA111", name: str = "厦门某公益协会"
) -> CoInitiator:
    return CoInitiator.objects.create(
        project=project,
        organisation_name=name,
        assessment_note="评估合格（内部意见）",
        role="联合发起",
        attribution_code=code,
    )


def page_url(project: FundraisingProject) -> str:
    return reverse("funds:give_project", kwargs={"pk": project.pk})


def donate_url(project: FundraisingProject) -> str:
    return reverse("funds:give_donate", kwargs={"pk": project.pk})


def form_token(client: Client, project: FundraisingProject, query: str = "") -> str:
    html = client.get(donate_url(project) + query).content.decode()
    found = re.search(r'name="token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def form_data(token: str, /, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "preset": "5000",
        "custom": "",
        "donor_name": "李四光",
        "mobile": "",
        "receipt": "wanted",
        "channel": "sandbox",
        "c": "",
        "token": token,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def paid_donation(project: FundraisingProject, **fields: Any) -> Donation:
    donation = donate(project, **fields)
    pay(donation)
    donation.refresh_from_db()
    return donation


# --- the list --------------------------------------------------------------------------


def test_the_list_shows_open_and_recently_closed_projects_with_integer_progress(
    personas: Personas,
) -> None:
    today = timezone.localdate()
    open_one = open_project(personas.tree.siming, personas.finance, title="开放项目", target_fen=30_000)
    FundraisingProject.objects.filter(pk=open_one.pk).update(raised_fen=10_000, donation_count=3)
    open_project(
        personas.tree.huli,
        personas.finance,
        title="刚结束项目",
        status=S.CLOSED,
        closed_on=today - timedelta(days=5),
    )
    open_project(
        personas.tree.siming,
        personas.finance,
        title="很久以前结束",
        status=S.CLOSED,
        closed_on=today - timedelta(days=400),
    )
    open_project(personas.tree.siming, personas.finance, title="尚在备案", status=S.FILED)
    html = english().get(reverse("funds:give_list")).content.decode()
    assert "开放项目" in html
    assert "思明区红十字会" in html
    # 10,000 of 30,000 fen is 33 % (integer division, not 33.33).
    assert 'value="33"' in html
    assert "33%" in html
    assert "¥100.00" in html
    assert "3 donations" in html
    assert "刚结束项目" in html
    assert "Closed" in html
    assert "很久以前结束" not in html
    assert "尚在备案" not in html


def test_the_progress_percentage_is_whole_and_capped() -> None:
    assert progress_percent(1, 3) == 33
    assert progress_percent(2, 3) == 66
    assert progress_percent(0, 100) == 0
    assert progress_percent(500, 100) == 100
    assert progress_percent(99_999_999_999, 100_000_000_000) == 99


def test_the_home_tile_links_to_the_giving_list() -> None:
    html = english().get(reverse("core:home")).content.decode()
    assert f'href="{reverse("funds:give_list")}"' in html


# --- the project page --------------------------------------------------------------------


def test_the_project_page_shows_the_story_plan_filing_and_co_initiators(
    project: FundraisingProject,
) -> None:
    partner = partner_of(project)
    response = english().get(page_url(project))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "红十字爱心小书包",
        "为困难家庭学生送书包",  # purpose
        "采购书包与文具",  # intended use
        "困难家庭学生",  # beneficiaries
        "厦门市",  # area
        "项目负责人",
        "厦门市思明区红十字会办公室",
        "厦门市红十字会 基本户 0000",
        "转入同类助学项目",
        "Sandbox (demo payments)",
        "350200-2026-001",
        f"Filed with the civil affairs department on {project.filed_on:%Y-%m-%d}",
        partner.organisation_name,
        "联合发起",
        reverse("funds:give_partner", kwargs={"code": partner.attribution_code}),
        donate_url(project),
        reverse("funds:give_poster", kwargs={"pk": project.pk}),
        "Long-press the poster",
    ):
        assert text in html, text
    # The internal assessment of the partner is not public.
    assert "评估合格" not in html


def test_an_emergency_project_not_yet_filed_says_it_is_to_be_filed_by_its_deadline(
    personas: Personas,
) -> None:
    deadline = timezone.localdate() + timedelta(days=7)
    project = open_project(
        personas.tree.siming,
        personas.finance,
        emergency=True,
        filing_number="",
        filed_on=None,
        filing_deadline=deadline,
    )
    html = english().get(page_url(project)).content.decode()
    assert "Emergency appeal" in html
    assert f"to be filed with the civil affairs department by {deadline:%Y-%m-%d}" in html


@pytest.mark.parametrize("status", [S.DRAFT, S.IN_APPROVAL, S.APPROVED, S.FILED])
@pytest.mark.parametrize("name", ["give_project", "give_poster", "give_donate"])
def test_a_project_that_has_not_opened_is_404_everywhere(
    personas: Personas, status: ProjectStatus, name: str
) -> None:
    project = open_project(personas.tree.siming, personas.finance, status=status)
    assert english().get(reverse(f"funds:{name}", kwargs={"pk": project.pk})).status_code == 404


def test_a_closed_project_is_public_but_offers_no_donate_button(personas: Personas) -> None:
    project = open_project(
        personas.tree.siming, personas.finance, status=S.CLOSED, closed_on=timezone.localdate()
    )
    response = english().get(page_url(project))
    assert response.status_code == 200
    html = response.content.decode()
    assert "no longer accepts donations" in html
    assert donate_url(project) not in html


def test_recent_donations_show_public_names_and_never_the_donor_name(project: FundraisingProject) -> None:
    paid_donation(project, donor_name="张三明", amount_fen=12_345)
    paid_donation(project, anonymous=True, donor_name="", amount_fen=500)
    donate(project, donor_name="王未付")  # ordered, never paid
    late = donate(project, donor_name="赵迟到")
    Donation.objects.filter(pk=late.pk).update(status="expired")
    pay(late)  # paid after expiry: held for refund, not a gift to the project
    assert Donation.objects.get(pk=late.pk).refund_flagged
    html = english().get(page_url(project)).content.decode()
    assert "张*明" in html
    assert "¥123.45" in html
    assert ANONYMOUS_NAME in html
    for private in ("张三明", "王未付", "王*付", "赵迟到", "赵*到"):
        assert private not in html, private


def test_recent_donations_list_the_last_twenty_newest_first(project: FundraisingProject) -> None:
    for i in range(22):
        paid_donation(project, amount_fen=10_000 + i, receipt_wanted=False)
    base = timezone.now()
    for i, donation in enumerate(Donation.objects.order_by("amount_fen")):
        Donation.objects.filter(pk=donation.pk).update(paid_at=base - timedelta(minutes=100 - i))
    html = english().get(page_url(project)).content.decode()
    assert html.count('class="weui-cell__ft">¥') == 20
    assert "¥100.21" in html  # the newest
    assert html.index("¥100.21") < html.index("¥100.02")
    assert "¥100.01" not in html  # the two oldest fall off
    assert "¥100.00" not in html


def _page_queries(project: FundraisingProject) -> int:
    client = english()
    cache.clear()  # measure the rendering, not the anonymous page cache
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(page_url(project)).status_code == 200
    return len(ctx.captured_queries)


def test_the_project_page_costs_the_same_queries_at_1_and_30_donations(
    project: FundraisingProject, django_assert_num_queries: Any
) -> None:
    partner_of(project)
    paid_donation(project, receipt_wanted=False)
    one = _page_queries(project)
    for i in range(29):
        paid_donation(project, amount_fen=1_000 + i, receipt_wanted=False)
    project.refresh_from_db()
    assert project.donation_count == 30
    cache.clear()
    with django_assert_num_queries(one):
        html = english().get(page_url(project)).content.decode()
    assert "30 donations" in html


def test_an_anonymous_visitor_gets_the_project_page_from_the_cache_for_a_few_seconds(
    project: FundraisingProject, django_assert_num_queries: Any
) -> None:
    first = english().get(page_url(project)).content
    paid_donation(project, receipt_wanted=False)
    with django_assert_num_queries(0):
        again = english().get(page_url(project)).content
    assert again == first
    cache.clear()
    assert english().get(page_url(project)).content != first


# --- the poster --------------------------------------------------------------------------


def _qr_in(svg: str) -> str:
    found = re.search(r'<path d="(M[^"]+)" fill="#000"/></svg>', svg)
    assert found is not None
    return found.group(1)


def test_the_poster_is_an_svg_with_title_progress_and_a_qr_code_of_the_page(
    project: FundraisingProject,
) -> None:
    FundraisingProject.objects.filter(pk=project.pk).update(raised_fen=2_500_000, donation_count=7)
    response = english().get(reverse("funds:give_poster", kwargs={"pk": project.pk}))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert "public" in response["Cache-Control"]
    assert "max-age=300" in response["Cache-Control"]
    svg = response.content.decode()
    ElementTree.fromstring(svg.encode())  # noqa: S314 - our own output: well-formed XML
    assert "红十字爱心小书包" in svg
    assert "思明区红十字会" in svg
    assert "Raised ¥25,000.00 of ¥100,000.00 (25%)" in svg
    assert "7 donations" in svg
    assert "350200-2026-001" in svg
    url = poster_target_url(project)
    assert url == f"http://testserver{page_url(project)}" or url.endswith(page_url(project))
    assert _qr_in(svg) == qr_path(poster_qr(url))


def test_a_poster_with_a_partner_code_carries_the_attribution_in_its_qr_code(
    project: FundraisingProject,
) -> None:
    partner = partner_of(project)
    poster = reverse("funds:give_poster", kwargs={"pk": project.pk})
    plain = english().get(poster).content.decode()
    shared = english().get(f"{poster}?c={partner.attribution_code}").content.decode()
    target = poster_target_url(project, partner)
    assert target.endswith(f"{page_url(project)}?c={partner.attribution_code}")
    assert _qr_in(shared) == qr_path(poster_qr(target))
    assert _qr_in(shared) != _qr_in(plain)
    assert "Shared by 厦门某公益协会" in shared
    # A code of no partner of this project changes nothing.
    other = english().get(f"{poster}?c=nosuchcode").content.decode()
    assert _qr_in(other) == _qr_in(plain)


def test_the_poster_and_the_page_escape_every_text(personas: Personas) -> None:
    project = open_project(personas.tree.siming, personas.finance, title='A&B <script>"x"</script>')
    partner_of(project, name="<b>&Co</b>")
    svg = english().get(reverse("funds:give_poster", kwargs={"pk": project.pk})).content.decode()
    ElementTree.fromstring(svg.encode())  # noqa: S314 - our own output
    assert "<script>" not in svg
    assert "A&amp;B &lt;script&gt;" in svg
    shared = (
        english()
        .get(reverse("funds:give_poster", kwargs={"pk": project.pk}) + "?c=partnerAAA111")
        .content.decode()
    )
    ElementTree.fromstring(shared.encode())  # noqa: S314 - our own output
    assert "&lt;b&gt;&amp;Co&lt;/b&gt;" in shared
    html = english().get(page_url(project)).content.decode()
    assert "<script>" not in html.split("</title>", 1)[1].split("<footer")[0]


# --- the donation form -----------------------------------------------------------------


def test_the_form_offers_the_presets_and_only_channels_both_the_project_and_the_site_accept(
    personas: Personas,
) -> None:
    project = open_project(personas.tree.siming, personas.finance, channels=("wechatpay", "sandbox"))
    html = english().get(donate_url(project)).content.decode()
    for label in ("¥10.00", "¥50.00", "¥100.00", "¥500.00"):
        assert label in html
    assert 'name="channel" value="sandbox"' in html
    # WeChat Pay is in the plan but not enabled on this site (RENDAO_PAYMENT_CHANNELS).
    assert 'name="channel" value="wechatpay"' not in html
    assert 'name="token"' in html
    assert "csrfmiddlewaretoken" in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"preset": "", "custom": "0"}, "more than zero"),
        ({"preset": "", "custom": "-5"}, "greater than or equal to 0"),
        ({"preset": "", "custom": "1.234"}, "no more than 2 decimal places"),
        ({"preset": "", "custom": "abc"}, "Enter a number"),
        ({"preset": "", "custom": "50000.01"}, "limited to 50,000 yuan"),
        ({"preset": "", "custom": "0.99"}, "smallest online donation is 1 yuan"),
        ({"preset": "", "custom": ""}, "Choose an amount"),
        ({"preset": "777"}, "Select a valid choice"),
        ({"channel": "paypal"}, "Select a valid choice"),
        ({"channel": "wechatpay"}, "Select a valid choice"),
        ({"channel": None}, "This field is required"),
        ({"donor_name": ""}, "give anonymously"),
        ({"donor_name": "名" * 51}, "at most 50"),
        ({"mobile": "12345"}, "mainland China mobile"),
        ({"receipt": "maybe"}, "Select a valid choice"),
        ({"c": "nosuchpartner"}, "does not belong"),
        ({"token": ""}, "form has expired"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_created(
    project: FundraisingProject, overrides: dict[str, Any], message: str
) -> None:
    client = english()
    token = form_token(client, project)
    response = client.post(donate_url(project), form_data(token, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Donation.objects.exists()


def test_a_closed_project_refuses_the_form_and_creates_nothing(personas: Personas) -> None:
    project = open_project(
        personas.tree.siming, personas.finance, status=S.CLOSED, closed_on=timezone.localdate()
    )
    client = english()
    page = client.get(donate_url(project))
    assert page.status_code == 200
    assert "not open for donations" in page.content.decode()
    response = client.post(donate_url(project), form_data("web-abcdefghijklmnopqrstuvwxyz"))
    assert response.status_code == 409
    assert not Donation.objects.exists()


def test_a_project_past_its_end_date_refuses_donations(personas: Personas) -> None:
    today = timezone.localdate()
    project = open_project(
        personas.tree.siming,
        personas.finance,
        start_date=today - timedelta(days=30),
        end_date=today - timedelta(days=1),
    )
    response = english().post(donate_url(project), form_data("web-abcdefghijklmnopqrstuvwxyz"))
    assert response.status_code == 409
    assert not Donation.objects.exists()


def test_the_form_is_csrf_protected(project: FundraisingProject) -> None:
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(donate_url(project), form_data("web-abcdefghijklmnopqrstuvwxyz"))
    assert response.status_code == 403
    assert not Donation.objects.exists()


def test_a_double_submitted_form_makes_one_order(project: FundraisingProject) -> None:
    client = english()
    token = form_token(client, project)
    first = client.post(donate_url(project), form_data(token))
    second = client.post(donate_url(project), form_data(token))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Donation.objects.count() == 1
    donation = Donation.objects.get()
    assert first["Location"] == f"/pay/sandbox/{donation.out_trade_no}/"
    assert donation.amount_fen == 5_000
    assert donation.status == "paying"


def test_the_same_form_sent_again_with_other_answers_asks_to_check_and_send_again(
    project: FundraisingProject,
) -> None:
    client = english()
    token = form_token(client, project)
    client.post(donate_url(project), form_data(token))
    again = client.post(donate_url(project), form_data(token, preset="10000"))
    assert again.status_code == 400
    html = again.content.decode()
    assert "already sent for another donation" in html
    assert f'value="{token}"' not in html  # a fresh token for the corrected form
    assert Donation.objects.count() == 1
    fresh = re.search(r'name="token" value="([^"]+)"', html)
    assert fresh is not None
    assert client.post(donate_url(project), form_data(fresh.group(1), preset="10000")).status_code == 302
    assert sorted(Donation.objects.values_list("amount_fen", flat=True)) == [5_000, 10_000]


def test_a_paid_order_submitted_again_goes_to_its_follow_page(project: FundraisingProject) -> None:
    client = english()
    token = form_token(client, project)
    client.post(donate_url(project), form_data(token))
    donation = Donation.objects.get()
    pay(donation)
    again = client.post(donate_url(project), form_data(token))
    assert again.status_code == 302
    assert again["Location"] == reverse("funds:donation_follow", kwargs={"token": donation.follow_token})
    assert Donation.objects.count() == 1


def test_the_happy_path_through_the_sandbox_cashier_ends_with_thanks_and_a_receipt(
    project: FundraisingProject,
) -> None:
    client = english()
    token = form_token(client, project)
    response = client.post(
        donate_url(project), form_data(token, preset="", custom="88.80", mobile="13800138000")
    )
    assert response.status_code == 302
    cashier = response["Location"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        paid = client.post(cashier, {"action": "pay"})
    assert paid.status_code == 302
    follow = client.get(paid["Location"])
    html = follow.content.decode()
    donation = Donation.objects.get()
    assert donation.amount_fen == 8_880
    assert donation.status == "paid"
    assert donation.receipt_wanted
    assert donation.donor_mobile == "+8613800138000"
    assert "Thank you" in html
    assert donation.receipt.number in html
    assert page_url(project) in html  # back to the project
    project.refresh_from_db()
    assert (project.raised_fen, project.donation_count) == (8_880, 1)
    assert "李*光" in english().get(page_url(project)).content.decode()


def test_an_anonymous_donor_who_waives_the_receipt_is_recorded_so(project: FundraisingProject) -> None:
    client = english()
    token = form_token(client, project)
    response = client.post(
        donate_url(project), form_data(token, donor_name="", anonymous="on", receipt="waived")
    )
    assert response.status_code == 302
    donation = Donation.objects.get()
    assert donation.anonymous
    assert donation.public_name == ANONYMOUS_NAME
    assert donation.donor_name == ""
    assert not donation.receipt_wanted


def test_a_signed_in_donor_gets_an_empty_name_field_and_the_order_is_theirs(
    project: FundraisingProject, personas: Personas
) -> None:
    User.objects.filter(pk=personas.public.pk).update(display_name="公众用户")
    client = english(personas.public)
    html = client.get(donate_url(project)).content.decode()
    assert "公众用户" not in html.split("<form", 1)[1]
    assert "13800138000" not in html
    token = form_token(client, project)
    assert client.post(donate_url(project), form_data(token)).status_code == 302
    assert Donation.objects.get().user == personas.public


def test_a_channel_that_refuses_the_order_shows_the_error_on_the_form(
    project: FundraisingProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    def busy(*args: Any, **kwargs: Any) -> Checkout:
        raise TransientChannelError("sandbox: busy")

    monkeypatch.setattr(SandboxChannel, "create_order", busy)
    client = english()
    token = form_token(client, project)
    response = client.post(donate_url(project), form_data(token))
    assert response.status_code == 400
    assert "not answering right now" in response.content.decode()
    # Nothing was written; the same form sent again makes the one order.
    assert Donation.objects.count() == 0
    monkeypatch.undo()
    assert client.post(donate_url(project), form_data(token)).status_code == 302
    assert Donation.objects.count() == 1


def test_a_qr_checkout_shows_the_code_and_a_link_to_the_follow_page(
    project: FundraisingProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        SandboxChannel,
        "create_order",
        lambda *a, **k: Checkout(kind=CheckoutKind.QR, url="weixin://wxpay/bizpayurl?pr=abc123"),
    )
    client = english()
    response = client.post(donate_url(project), form_data(form_token(client, project)))
    assert response.status_code == 200
    html = response.content.decode()
    donation = Donation.objects.get()
    assert 'src="data:image/svg+xml' in html
    assert reverse("funds:donation_follow", kwargs={"token": donation.follow_token}) in html
    assert response["Cache-Control"] == "private, no-store"


def test_a_jsapi_checkout_hands_its_parameters_to_the_static_script(
    project: FundraisingProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = {"appId": "wx123", "timeStamp": "1700000000", "package": "prepay_id=wx<&>", "paySign": "sig"}
    monkeypatch.setattr(
        SandboxChannel, "create_order", lambda *a, **k: Checkout(kind=CheckoutKind.JSAPI, params=params)
    )
    client = english()
    response = client.post(donate_url(project), form_data(form_token(client, project)))
    assert response.status_code == 200
    html = response.content.decode()
    found = re.search(r'data-pay-params="([^"]+)"', html)
    assert found is not None
    import html as html_lib

    assert json.loads(html_lib.unescape(found.group(1))) == params
    assert "/static/rendao/giving-pay.js" in html
    assert "<script>" not in html  # no inline script (CSP)
    donation = Donation.objects.get()
    assert f'data-follow-url="/give/d/{donation.follow_token}/"' in html


@pytest.mark.parametrize(
    ("agent", "signed_in_openid", "scene"),
    [
        ("Mozilla/5.0 (iPhone) MicroMessenger/8.0", "o-openid", "jsapi"),
        ("Mozilla/5.0 (iPhone) MicroMessenger/8.0", "", "native"),
        ("Mozilla/5.0 (iPhone) Mobile Safari", "", "h5"),
        ("Mozilla/5.0 (Windows NT 10.0)", "", "native"),
    ],
)
def test_wechat_pay_is_asked_for_the_scene_that_fits_the_browser(
    personas: Personas, agent: str, signed_in_openid: str, scene: str
) -> None:
    from rendao.core.models import MessagePreference

    if signed_in_openid:
        MessagePreference.objects.create(user=personas.public, wechat_openid=signed_in_openid)
    request = RequestFactory().post("/", HTTP_USER_AGENT=agent, REMOTE_ADDR="10.0.0.1")
    request.user = personas.public
    client = views_public._client(request, "wechatpay")
    assert client.scene == scene
    assert client.openid == signed_in_openid
    assert client.ip == "10.0.0.1"
    assert views_public._client(request, "alipay").scene == ""


# --- co-initiators ---------------------------------------------------------------------------


def test_the_partner_page_shows_the_partner_project_and_what_was_given_through_it(
    project: FundraisingProject,
) -> None:
    partner = partner_of(project)
    paid_donation(project, attribution=partner.attribution_code, amount_fen=10_000)
    paid_donation(project, attribution=partner.attribution_code, amount_fen=2_550)
    donate(project, attribution=partner.attribution_code, amount_fen=99_900)  # unpaid
    paid_donation(project, amount_fen=70_000)  # not through the partner
    response = english().get(reverse("funds:give_partner", kwargs={"code": partner.attribution_code}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "厦门某公益协会" in html
    assert "联合发起" in html
    assert "红十字爱心小书包" in html
    assert "¥125.50" in html
    assert "2 donations" in html
    assert f"{donate_url(project)}?c={partner.attribution_code}" in html
    assert "评估合格" not in html


def test_a_partner_page_of_an_unknown_code_or_an_unopened_project_is_404(personas: Personas) -> None:
    filed = open_project(personas.tree.siming, personas.finance, status=S.FILED)
    partner_of(filed, code="filedcode")
    assert english().get(reverse("funds:give_partner", kwargs={"code": "nosuch"})).status_code == 404
    assert english().get(reverse("funds:give_partner", kwargs={"code": "filedcode"})).status_code == 404


def test_a_donation_through_the_partner_link_is_attributed_to_the_partner(
    project: FundraisingProject,
) -> None:
    partner = partner_of(project)
    client = english()
    query = f"?c={partner.attribution_code}"
    html = client.get(page_url(project) + query).content.decode()
    assert f"{donate_url(project)}{query}" in html
    form = client.get(donate_url(project) + query).content.decode()
    assert f'name="c" value="{partner.attribution_code}"' in form
    token = form_token(client, project, query)
    response = client.post(donate_url(project), form_data(token, c=partner.attribution_code))
    assert response.status_code == 302
    donation = Donation.objects.get()
    assert donation.co_initiator == partner
    pay(donation)
    follow = client.get(reverse("funds:donation_follow", kwargs={"token": donation.follow_token}))
    assert "厦门某公益协会" in follow.content.decode()


def test_a_partner_code_of_another_project_is_refused(
    project: FundraisingProject, personas: Personas
) -> None:
    other = open_project(personas.tree.huli, personas.finance, title="别的项目")
    partner_of(other, code="othercode")
    client = english()
    response = client.post(donate_url(project), form_data(form_token(client, project), c="othercode"))
    assert response.status_code == 400
    assert "does not belong" in response.content.decode()
    assert not Donation.objects.exists()


# --- my donations ------------------------------------------------------------------------------


def test_my_donations_lists_the_signed_in_users_gifts_and_those_made_with_their_number(
    project: FundraisingProject, personas: Personas
) -> None:
    client = english(personas.public)
    assert reverse("funds:give_mine") in client.get(reverse("core:my")).content.decode()
    token = form_token(client, project)
    client.post(donate_url(project), form_data(token, preset="1000"))
    mine_signed_in = Donation.objects.get()
    # Given earlier without an account, with the number the user signs in with.
    by_number = paid_donation(project, amount_fen=2_300, mobile="13800138000")
    paid_donation(project, amount_fen=4_400, mobile="13900139000")  # someone else's
    html = client.get(reverse("funds:give_mine")).content.decode()
    assert reverse("funds:donation_follow", kwargs={"token": mine_signed_in.follow_token}) in html
    assert reverse("funds:donation_follow", kwargs={"token": by_number.follow_token}) in html
    assert "¥10.00" in html
    assert "¥23.00" in html
    assert "¥44.00" not in html
    assert "Awaiting payment" in html
    assert "Paid" in html


def test_my_donations_needs_a_sign_in() -> None:
    response = english().get(reverse("funds:give_mine"))
    assert response.status_code == 302
    assert "next=" in response["Location"]


# --- language -------------------------------------------------------------------------------


def test_every_public_giving_page_renders_in_the_default_chinese_without_inline_code(
    project: FundraisingProject, personas: Personas
) -> None:
    partner = partner_of(project)
    paid_donation(project)
    client = signed_in_client(personas.public)
    urls = [
        reverse("funds:give_list"),
        page_url(project),
        donate_url(project),
        reverse("funds:give_poster", kwargs={"pk": project.pk}),
        reverse("funds:give_partner", kwargs={"code": partner.attribution_code}),
        reverse("funds:give_mine"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        if url.endswith(".svg"):
            continue
        html = response.content.decode()
        assert '<html lang="zh-hans">' in html, url
        # The CSP allows neither inline script nor inline style.
        assert "<script>" not in html, url
        assert " style=" not in html, url
        assert "/static/rendao/giving.css" in html, url
