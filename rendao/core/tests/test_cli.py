"""The `rendao` command: its subcommands are listed, Django's commands run through
`manage`, and a mistyped subcommand fails with a message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rendao.cli import main

REPO = Path(__file__).resolve().parents[3]


def rendao(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    # A development configuration in a throwaway data directory, whatever the
    # test run itself was started with.
    env.update(
        DJANGO_SETTINGS_MODULE="rendao.settings", RENDAO_ENV="development", RENDAO_DATA_DIR=str(tmp_path)
    )
    env.pop("DATABASE_URL", None)
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "rendao.cli", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "serve", "worker", "totp", "check", "manage"):
        assert command in out


def test_demo_help_documents_port_and_no_serve(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    out = capsys.readouterr().out
    assert "--port" in out
    assert "--no-serve" in out


def test_manage_check_exits_zero(tmp_path: Path) -> None:
    result = rendao("manage", "check", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_an_unknown_subcommand_fails_with_a_message(tmp_path: Path) -> None:
    result = rendao("bogus", tmp_path=tmp_path)
    assert result.returncode != 0
    assert "invalid choice: 'bogus'" in result.stderr


def test_no_subcommand_fails_with_a_message(tmp_path: Path) -> None:
    result = rendao(tmp_path=tmp_path)
    assert result.returncode != 0
    assert "required" in result.stderr


def test_an_unknown_management_command_fails_with_a_message(tmp_path: Path) -> None:
    result = rendao("manage", "no_such_command", tmp_path=tmp_path)
    assert result.returncode != 0
    assert "Unknown command: 'no_such_command'" in result.stderr
