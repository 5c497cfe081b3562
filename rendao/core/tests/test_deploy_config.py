"""The production configuration in .env.example passes Django's deploy checks, and
a broken configuration stops start-up with the check that names the problem.

Each case runs `rendao manage check` in a fresh interpreter, because settings are
read from the environment once, at import.
"""

from __future__ import annotations

import ast
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from rendao.ledger.keys import write_new_key
from rendao.privacy.keyring import new_key

REPO = Path(__file__).resolve().parents[3]
ENV_EXAMPLE = REPO / ".env.example"
_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")
_READERS = {"env_str", "env_bool", "env_int", "env_list"}


def read_env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        assert match, f".env.example has a line that is not KEY=value: {line!r}"
        assert match[1] not in values, f"{match[1]} is listed twice in .env.example"
        values[match[1]] = match[2]
    return values


def variables_read_by_the_code() -> set[str]:
    """Names passed to the env helpers, or to os.environ.get, in the package."""
    names: set[str] = set()
    package = REPO / "rendao"
    for path in package.rglob("*.py"):
        relative = path.relative_to(package)
        # The test settings only set defaults for variables settings.py reads.
        if "tests" in relative.parts or path.name in {"test_settings.py", "conftest.py"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first = node.args[0]
            if not isinstance(first, ast.Constant) or not isinstance(first.value, str):
                continue
            func = node.func
            helper = isinstance(func, ast.Name) and func.id in _READERS
            environ_get = (
                isinstance(func, ast.Attribute)
                and func.attr == "get"
                and isinstance(func.value, ast.Attribute)
                and func.value.attr == "environ"
            )
            if helper or environ_get:
                names.add(first.value)
    return names


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment of .env.example with its secrets filled in.

    Nothing is inherited from the test run (which sets development defaults),
    apart from what the interpreter needs to start.
    """
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SYSTEMROOT") if key in os.environ}
    env.update(read_env_example())
    env.update(
        DJANGO_SETTINGS_MODULE="rendao.settings",
        RENDAO_SECRET_KEY=secrets.token_urlsafe(64),
        RENDAO_EMAIL_PASSWORD=secrets.token_urlsafe(16),
        RENDAO_VAULT_KEYS=f"k1:{new_key()}",
        RENDAO_VAULT_INDEX_KEY=new_key(),
        RENDAO_ALIYUN_SMS_ACCESS_KEY_SECRET=secrets.token_urlsafe(24),
        # /var/lib/rendao does not exist on a test machine.
        RENDAO_DATA_DIR=str(tmp_path),
        **_payment_secrets(tmp_path),
    )
    env.update(overrides)
    # The checkpoint signing key, made once by `ledger_keygen` under the log's origin.
    key_file = tmp_path / "ledger_key"
    if not key_file.exists():
        write_new_key(key_file, urlsplit(env["RENDAO_SITE_URL"]).netloc + "/ledger")
    return env


def _payment_secrets(tmp_path: Path) -> dict[str, str]:
    """What an operator fills in for WeChat Pay and Alipay (the check reads ids and
    that the key files exist; their contents are tested with the channels)."""
    files = {}
    for name in ("wechatpay_mch.pem", "wechatpay_platform.pem", "alipay_app.pem", "alipay_public.pem"):
        path = tmp_path / name
        path.write_text("-----BEGIN PLACEHOLDER-----\n")
        files[name] = str(path)
    return {
        "RENDAO_WECHATPAY_MCH_ID": "1900000001",
        "RENDAO_WECHATPAY_APP_ID": "wx0000000000000001",
        "RENDAO_WECHATPAY_MCH_SERIAL_NO": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
        "RENDAO_WECHATPAY_MCH_PRIVATE_KEY_FILE": files["wechatpay_mch.pem"],
        "RENDAO_WECHATPAY_API_V3_KEY": secrets.token_hex(16),
        "RENDAO_WECHATPAY_PLATFORM_KEYS": f"PUB_KEY_ID_0001={files['wechatpay_platform.pem']}",
        "RENDAO_ALIPAY_APP_ID": "2021000000000001",
        "RENDAO_ALIPAY_SELLER_ID": "2088000000000001",
        "RENDAO_ALIPAY_APP_PRIVATE_KEY_FILE": files["alipay_app.pem"],
        "RENDAO_ALIPAY_PUBLIC_KEY_FILE": files["alipay_public.pem"],
    }


def run_check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "rendao.cli", "manage", "check", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_it_lists_every_variable_the_code_reads() -> None:
    listed = set(read_env_example())
    read = variables_read_by_the_code()
    assert read - listed == set(), "read by rendao but missing from .env.example"
    assert listed - read == set(), "listed in .env.example but read nowhere"


def test_it_describes_production_on_postgresql_and_redis() -> None:
    values = read_env_example()
    assert values["RENDAO_ENV"] == "production"
    assert values["RENDAO_DEBUG"] == "false"
    assert values["RENDAO_HTTPS"] == "true"
    assert values["DATABASE_URL"].startswith("postgres://")
    assert values["REDIS_URL"].startswith("redis://")
    assert values["RENDAO_SITE_URL"].startswith("https://")


def test_it_leaves_secrets_for_the_operator_to_fill_in() -> None:
    values = read_env_example()
    # An empty key stops start-up (rendao.E001), so the example cannot be
    # deployed by mistake with a key published in the repository.
    assert values["RENDAO_SECRET_KEY"] == ""
    assert values["RENDAO_EMAIL_PASSWORD"] == ""
    assert values["RENDAO_VAULT_KEYS"] == ""
    assert values["RENDAO_VAULT_INDEX_KEY"] == ""
    assert values["RENDAO_ALIYUN_SMS_ACCESS_KEY_SECRET"] == ""


def test_the_production_example_passes_check_deploy(tmp_path: Path) -> None:
    # The database is not connected to by `check` (no --database), so the
    # PostgreSQL URL of the example is used as it is and no server is needed.
    result = run_check(production_env(tmp_path), "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "check_id"),
    [
        pytest.param({"RENDAO_SECRET_KEY": ""}, "rendao.E001", id="missing secret key"),
        pytest.param({"RENDAO_VAULT_KEYS": ""}, "rendao.E201", id="missing vault keys"),
        pytest.param({"RENDAO_VAULT_KEYS": "k1:tooshort"}, "rendao.E201", id="malformed vault key"),
        pytest.param({"RENDAO_VAULT_INDEX_KEY": ""}, "rendao.E201", id="missing index key"),
        pytest.param({"RENDAO_ALIYUN_SMS_ACCESS_KEY_SECRET": ""}, "rendao.E122", id="missing sms secret"),
        pytest.param({"RENDAO_ENV": "bogus"}, "rendao.E002", id="unknown environment"),
        pytest.param({"RENDAO_DEBUG": "true"}, "rendao.E003", id="debug in production"),
        pytest.param({"RENDAO_LEDGER_KEY_FILE": "/nonexistent/key"}, "rendao.E301", id="missing ledger key"),
        pytest.param({"RENDAO_SITE_URL": "rendao.example.org"}, "rendao.E004", id="site url without scheme"),
    ],
)
def test_a_broken_config_fails_start_up(tmp_path: Path, overrides: dict[str, str], check_id: str) -> None:
    result = run_check(production_env(tmp_path, **overrides))
    assert result.returncode != 0
    assert check_id in result.stderr


@pytest.mark.parametrize(
    ("overrides", "check_id"),
    [
        pytest.param({"DATABASE_URL": "sqlite:///{tmp}/db.sqlite3"}, "rendao.W001", id="sqlite"),
        pytest.param({"RENDAO_ALLOWED_HOSTS": "other.example.org"}, "rendao.W002", id="site host refused"),
        pytest.param({"RENDAO_SITE_URL": "http://rendao.example.org"}, "rendao.W003", id="http site url"),
    ],
)
def test_a_doubtful_production_config_fails_check_deploy(
    tmp_path: Path, overrides: dict[str, str], check_id: str
) -> None:
    filled = {key: value.format(tmp=tmp_path) for key, value in overrides.items()}
    result = run_check(production_env(tmp_path, **filled), "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert check_id in result.stderr


def test_a_malformed_value_names_the_variable(tmp_path: Path) -> None:
    result = run_check(production_env(tmp_path, RENDAO_HTTPS="sometimes"))
    assert result.returncode != 0
    assert "RENDAO_HTTPS must be true or false" in result.stderr
