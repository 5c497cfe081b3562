"""The task queue: SQLite storage by default, Redis when REDIS_URL is set, and
periodic jobs registered in rendao/periodic.py alone."""

from __future__ import annotations

import datetime as dt
import runpy
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.contrib.djhuey import HUEY
from huey.utils import load_class

import rendao
from rendao import settings as settings_module

REDIS_URL = "redis://127.0.0.1:6379/0"
PACKAGE = Path(rendao.__file__).parent


def _settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    """The HUEY setting that settings.py computes under the given environment."""
    for name in ("REDIS_URL", "RENDAO_HUEY_IMMEDIATE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    namespace = runpy.run_path(settings_module.__file__)
    huey: dict[str, Any] = namespace["HUEY"]
    return huey


def _build(config: dict[str, Any], name: str) -> Huey:
    """Construct the queue from the setting the way huey's Django integration does."""
    options = dict(config)
    options.pop("consumer")
    options["name"] = name
    huey_class = load_class(options.pop("huey_class"))
    huey: Huey = huey_class(**options)
    return huey


def _round_trip(huey: Huey) -> None:
    @huey.task()  # type: ignore[untyped-decorator]
    def add(a: int, b: int) -> int:
        return a + b

    result = add(2, 3)
    task = huey.dequeue()
    assert task is not None
    huey.execute(task)
    assert result.get() == 5


def test_without_redis_the_queue_is_a_sqlite_file_in_the_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = _settings_with(monkeypatch, RENDAO_DATA_DIR=str(tmp_path))
    assert config["huey_class"] == "huey.SqliteHuey"
    assert config["filename"] == str(tmp_path / "tasks.sqlite3")
    assert config["immediate"] is False
    assert config["consumer"]["periodic"] is True


def test_the_sqlite_queue_round_trips_a_task(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = _settings_with(monkeypatch, RENDAO_DATA_DIR=str(tmp_path))
    huey = _build(config, "rendao-test-outbox")
    assert isinstance(huey, SqliteHuey)
    _round_trip(huey)


@pytest.fixture
def redis_huey(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Huey]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(
            f"Redis is not reachable at {REDIS_URL} ({type(exc).__name__}); the Redis queue is untested"
        )
    config = _settings_with(monkeypatch, RENDAO_DATA_DIR=str(tmp_path), REDIS_URL=REDIS_URL)
    assert config["huey_class"] == "huey.RedisHuey"
    assert config["url"] == REDIS_URL
    # A queue name of its own, so a running worker or a parallel test run is not disturbed.
    huey = _build(config, f"rendao-test-outbox-{uuid.uuid4().hex[:8]}")
    yield huey
    huey.storage.flush_all()


def test_with_redis_url_the_queue_is_redis_and_round_trips_a_task(redis_huey: Huey) -> None:
    assert isinstance(redis_huey, RedisHuey)
    _round_trip(redis_huey)
    assert redis_huey.pending_count() == 0


def test_the_test_suite_runs_tasks_inline() -> None:
    assert HUEY.immediate


def test_the_outbox_sweep_runs_every_minute() -> None:
    periodic = {task.name: task for task in HUEY._registry.periodic_tasks}
    sweep = periodic["outbox_sweep_every_minute"]
    # Huey asks each periodic task once a minute whether it is due.
    minutes = [dt.datetime(2025, 1, 1, 3, m) for m in range(60)]  # noqa: DTZ001 - huey passes naive UTC
    assert all(sweep.validate_datetime(t) for t in minutes)


def test_periodic_jobs_are_registered_only_in_rendao_periodic() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.name != "periodic.py"
        and "tests" not in path.parts
        and "periodic_task(" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_every_periodic_job_comes_from_rendao_periodic() -> None:
    modules = {type(task).__module__ for task in HUEY._registry.periodic_tasks}
    assert modules == {"rendao.periodic"}
