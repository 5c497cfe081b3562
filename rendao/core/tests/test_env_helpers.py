"""The typed environment helpers parse what operators write and reject the rest
with a message naming the variable."""

from __future__ import annotations

import pytest

from rendao.env import EnvError, env_bool, env_int, env_list, env_str

NAME = "RENDAO_TEST_VARIABLE"


@pytest.fixture(autouse=True)
def unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NAME, raising=False)


def test_str_returns_the_value_or_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert env_str(NAME, "fallback") == "fallback"
    monkeypatch.setenv(NAME, "https://rendao.example.org")
    assert env_str(NAME, "fallback") == "https://rendao.example.org"


def test_str_keeps_an_empty_value(monkeypatch: pytest.MonkeyPatch) -> None:
    # An explicitly empty secret must stay empty so that the start-up check
    # reports it, rather than silently taking a default.
    monkeypatch.setenv(NAME, "")
    assert env_str(NAME, "fallback") == ""


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "on", " True "])
def test_bool_accepts_true_spellings(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(NAME, raw)
    assert env_bool(NAME, False) is True


@pytest.mark.parametrize("raw", ["0", "false", "False", "no", "off", ""])
def test_bool_accepts_false_spellings(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(NAME, raw)
    assert env_bool(NAME, True) is False


def test_bool_defaults_when_unset() -> None:
    assert env_bool(NAME, False) is False
    assert env_bool(NAME, True) is True


@pytest.mark.parametrize("raw", ["maybe", "2", "enabled", "tru"])
def test_bool_rejects_anything_else_naming_the_variable(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(EnvError, match=f"^{NAME} must be true or false"):
        env_bool(NAME, False)


@pytest.mark.parametrize(("raw", "expected"), [("600", 600), ("0", 0), ("-1", -1), (" 42 ", 42)])
def test_int_parses_integers(monkeypatch: pytest.MonkeyPatch, raw: str, expected: int) -> None:
    monkeypatch.setenv(NAME, raw)
    assert env_int(NAME, 7) == expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_int_defaults_when_unset_or_blank(monkeypatch: pytest.MonkeyPatch, raw: str | None) -> None:
    if raw is not None:
        monkeypatch.setenv(NAME, raw)
    assert env_int(NAME, 7) == 7


@pytest.mark.parametrize("raw", ["ten", "1.5", "30m", "1e3", "0x10"])
def test_int_rejects_non_integers_naming_the_variable(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(EnvError, match=f"^{NAME} must be an integer"):
        env_int(NAME, 7)


def test_env_error_is_a_value_error() -> None:
    # Callers that already catch ValueError for bad configuration keep working.
    assert issubclass(EnvError, ValueError)


def test_list_splits_on_commas_and_drops_blanks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NAME, " rendao.example.org, ,www.rendao.example.org ,")
    assert env_list(NAME) == ["rendao.example.org", "www.rendao.example.org"]


def test_list_defaults_when_unset_and_copies_the_default() -> None:
    default = ["127.0.0.1"]
    value = env_list(NAME, default)
    assert value == ["127.0.0.1"]
    value.append("changed")
    assert default == ["127.0.0.1"]
    assert env_list(NAME) == []


def test_list_set_to_empty_means_none(monkeypatch: pytest.MonkeyPatch) -> None:
    # Setting the variable to nothing is how an operator turns a list off
    # (e.g. no outbox channels), so it must not fall back to the default.
    monkeypatch.setenv(NAME, "")
    assert env_list(NAME, ["console"]) == []
