from __future__ import annotations

import pytest
from django.core.management.base import CommandError
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from rendao.core import scope
from rendao.core.demo import accounts
from rendao.core.demo.loader import load_demo
from rendao.core.demo.xiamen import XIAMEN, walk
from rendao.core.models import AuditEvent, Branch, Membership, User
from rendao.core.permissions import BUSINESS_PERMS, Perm
from rendao.core.services.branches import branch_create, division_prefix

pytestmark = pytest.mark.django_db

Kind = Branch.Kind

DISTRICTS = {
    "思明区红十字会": ("350203000000", 10),
    "湖里区红十字会": ("350206000000", 5),
    "集美区红十字会": ("350211000000", 6),
    "海沧区红十字会": ("350205000000", 4),
    "同安区红十字会": ("350212000000", 8),
    "翔安区红十字会": ("350213000000", 9),
}


@pytest.fixture
def demo(db: None) -> None:
    load_demo()


def test_the_loaded_tree_is_the_data_parent_by_parent_in_a_fixed_order(demo: None) -> None:
    rows = list(Branch.objects.order_by("path"))
    pairs = walk()
    assert [b.name for b in rows] == [node.name for _, node in pairs]
    by_name = {b.name: b for b in rows}
    for parent, node in pairs:
        branch = by_name[node.name]
        assert (branch.kind, branch.division_code, branch.population) == (
            node.kind,
            node.code,
            node.population,
        )
        got_parent = Branch.objects.get_parent(branch)
        assert (got_parent.name if got_parent else None) == (parent.name if parent else None)
    assert by_name[XIAMEN.name].path == "0001"


def test_the_city_society_has_its_six_districts_with_all_their_streets_and_towns() -> None:
    districts = {n.name: n for n in XIAMEN.children if n.kind == Kind.DISTRICT}
    assert XIAMEN.code == "350200000000"
    assert {name: n.code for name, n in districts.items()} == {
        name: code for name, (code, _) in DISTRICTS.items()
    }
    for name, (_, streets) in DISTRICTS.items():
        assert len([c for c in districts[name].children if c.kind == Kind.STREET]) == streets, name


def test_every_code_has_its_level_and_sits_under_its_parent() -> None:
    levels: dict[str, int] = {Kind.CITY: 4, Kind.DISTRICT: 6, Kind.STREET: 9, Kind.COMMUNITY: 12}
    for parent, node in walk():
        if node.kind != Kind.INSTITUTION:
            assert len(node.code) == 12, node.name
            assert node.code.isdigit(), node.name
            assert len(division_prefix(node.code)) == levels[node.kind], node.name
        if parent is not None and parent.code and node.code:
            assert node.code.startswith(division_prefix(parent.code)), node.name


def test_the_real_streets_and_towns_are_there() -> None:
    names = {node.name for _, node in walk()}
    for place in (
        "中华街道", "厦港街道", "鹭江街道", "开元街道", "梧村街道",
        "筼筜街道", "莲前街道", "嘉莲街道", "滨海街道", "鼓浪屿街道",
        "湖里街道", "殿前街道", "禾山街道", "江头街道", "金山街道",
        "集美街道", "侨英街道", "杏林街道", "杏滨街道", "灌口镇", "后溪镇",
        "海沧街道", "新阳街道", "嵩屿街道", "东孚街道",
        "大同街道", "祥平街道", "西柯镇", "新民镇", "五显镇", "莲花镇", "汀溪镇", "洪塘镇",
        "新店街道", "大嶝街道", "香山街道", "金海街道", "凤翔街道", "新圩镇", "马巷镇", "内厝镇",
    ):  # fmt: skip
        assert f"{place}红十字会" in names, place
    assert len([n for _, n in walk() if n.kind == Kind.COMMUNITY]) >= 20


def test_the_institutional_branches_hang_where_the_seed_puts_them() -> None:
    parent_of = {node.name: parent for parent, node in walk()}
    kinds = {node.name: node.institution_type for _, node in walk()}
    assert parent_of["市直机关红十字会"] is XIAMEN
    assert kinds["市直机关红十字会"] == Branch.InstitutionType.GOVERNMENT
    assert parent_of["厦门医学院红十字会"] is XIAMEN
    assert kinds["厦门医学院红十字会"] == Branch.InstitutionType.SCHOOL
    assert parent_of["厦门第一中学红十字会"].name == "思明区红十字会"  # type: ignore[union-attr]
    assert kinds["厦门大学附属中山医院红十字会"] == Branch.InstitutionType.HOSPITAL


def test_names_are_unique_so_accounts_can_refer_to_them() -> None:
    names = [node.name for _, node in walk()]
    assert len(names) == len(set(names))
    assert {spec.branch for spec in accounts.STAFF} <= set(names)


def test_populations_and_coordinates_are_plausible() -> None:
    districts = [n for n in XIAMEN.children if n.kind == Kind.DISTRICT]
    assert XIAMEN.population is not None
    assert sum(d.population or 0 for d in districts) == pytest.approx(XIAMEN.population, rel=0.01)
    for _, node in walk():
        assert (node.lat is None) == (node.lon is None), node.name
        if node.lat is not None and node.lon is not None:
            assert 24.3 < float(node.lat) < 24.95, node.name
            assert 117.85 < float(node.lon) < 118.45, node.name


def test_loading_twice_changes_nothing(demo: None) -> None:
    snapshot = list(Branch.objects.order_by("path").values())
    audit_rows = AuditEvent.objects.count()
    users = list(User.objects.order_by("pk").values())
    devices = list(TOTPDevice.objects.order_by("pk").values("user_id", "key", "confirmed"))
    result = load_demo()
    assert not result.changed
    assert list(Branch.objects.order_by("path").values()) == snapshot
    assert AuditEvent.objects.count() == audit_rows
    assert list(User.objects.order_by("pk").values()) == users
    assert list(TOTPDevice.objects.order_by("pk").values("user_id", "key", "confirmed")) == devices


def test_a_partly_deleted_demo_is_completed(demo: None) -> None:
    Membership.objects.filter(user__username="reviewer").delete()
    TOTPDevice.objects.filter(user__username="reviewer").update(key="00" * 20)
    result = load_demo()
    assert result.memberships_granted == 1
    assert result.devices_written == 1
    assert result.branches_created == 0


def test_the_demo_staff_hold_their_roles_with_totp_devices(demo: None) -> None:
    for spec in accounts.STAFF:
        user = User.objects.get(username=spec.username)
        assert user.is_demo
        assert user.check_password(accounts.DEMO_PASSWORD)
        assert user.is_staff == (spec.username == "sysadmin")
        (m,) = user.memberships.select_related("role", "branch")
        assert (m.role.code, m.branch.name) == (spec.role, spec.branch)
        device = TOTPDevice.objects.get(user=user)
        assert device.confirmed
        assert device.key == accounts.demo_totp_key(spec.username)


def test_the_demo_staff_reach_what_their_branch_reaches(demo: None) -> None:
    siming = Branch.objects.get(name="思明区红十字会")
    siming_admin = User.objects.get(username="siming_admin")
    assert set(scope.branches_for(siming_admin, Perm.BRANCH_MANAGE)) == set(Branch.objects.get_tree(siming))
    sysadmin = User.objects.get(username="sysadmin")
    for perm in BUSINESS_PERMS:
        assert not scope.has_perm_anywhere(sysadmin, perm)


def test_totp_keys_are_derived_from_the_username_only() -> None:
    assert accounts.demo_totp_key("sysadmin") == accounts.demo_totp_key("sysadmin")
    assert accounts.demo_totp_key("sysadmin") != accounts.demo_totp_key("finance")
    assert len(accounts.demo_totp_key("finance")) == 40
    int(accounts.demo_totp_key("finance"), 16)


def test_the_public_demo_users_have_test_range_numbers(demo: None) -> None:
    mobiles = set(User.objects.filter(is_demo=True, mobile__isnull=False).values_list("mobile", flat=True))
    assert mobiles == {p.mobile for p in accounts.PUBLIC if p.mobile}
    assert all((m or "").startswith("+86138001380") for m in mobiles)


@override_settings(RENDAO_ENV="production")
def test_demo_data_is_refused_in_production(db: None) -> None:
    with pytest.raises(CommandError):
        load_demo()
    assert not Branch.objects.exists()
    assert not User.objects.exists()


def test_demo_data_is_not_loaded_over_another_societys_tree(db: None) -> None:
    branch_create(
        actor=None, parent=None, kind=Kind.CITY, name="泉州市红十字会", division_code="350500000000"
    )
    with pytest.raises(CommandError):
        load_demo()
    assert Branch.objects.count() == 1


def test_a_real_account_with_a_demo_username_is_left_alone(db: None) -> None:
    User.objects.create_user("finance", password="a real password!")
    with pytest.raises(CommandError):
        load_demo()
    assert not Branch.objects.exists()
    assert User.objects.get(username="finance").check_password("a real password!")
