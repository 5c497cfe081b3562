"""The approvals inbox for a reviewer with 10,000 pending items across the city.

    .venv/bin/python bench/mechanisms_inbox.py [--requests 200] [--items 1000,10000]

In a child process (so that it runs from any caller, e.g. bench/mechanisms.py,
whatever that process has already set up): a fresh SQLite database in a temporary
RENDAO_DATA_DIR, migrated, with the demo tree (`load_demo`); then pending matters
spread over every branch of the city, each at step 2 of the default flow (a
reviewer of its district) after its branch administrator approved step 1 — rows
written in bulk as the services would write them, since the read side is what is
measured. For each size the demo reviewer (思明 district) opens the inbox
(`/staff/approvals/`) signed in with the second factor, through Django's full
middleware stack in-process: one warm-up, then `--requests` timed GETs (p50/p99)
and the SQL query count of one request. The count must be the same for every size.

The last line is `inbox_p99_ms=… inbox_queries=… items=…` followed by the figures
of the smaller sizes; `run()` returns them as a dict.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def run(*, requests: int = 200, sizes: tuple[int, ...] = (1_000, 10_000)) -> dict[str, float]:
    """Measure in a child process; returns the figures of the largest size plus `…_<n>` for each size."""
    with tempfile.TemporaryDirectory(prefix="rendao-bench-inbox-") as tmp:
        env = {
            **os.environ,
            "RENDAO_DATA_DIR": tmp,
            "DJANGO_SETTINGS_MODULE": "rendao.settings",
            "RENDAO_ENV": "development",
            "RENDAO_LOG_LEVEL": "WARNING",
            "RENDAO_HUEY_IMMEDIATE": "false",
        }
        env.pop("DATABASE_URL", None)
        args = [sys.executable, __file__, "--child", "--requests", str(requests)]
        args += ["--items", ",".join(str(s) for s in sizes)]
        result = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"inbox bench failed:\n{result.stdout}\n{result.stderr}")
        figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
        return figures


def _child(requests: int, sizes: list[int]) -> dict[str, float]:
    import time

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings
    from django.utils import timezone

    from bench._load import percentile
    from rendao.approvals.models import ApprovalRequest, Decision, Matter, RequestStatus, RequestStep
    from rendao.approvals.services import level_path
    from rendao.conftest import signed_in_client
    from rendao.core.models import Branch, Role, User

    # Plain static storage: the manifest one needs collectstatic, which is not
    # what is measured here (URLs of the same files either way).
    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0)
    reviewer = User.objects.get(username="reviewer")
    requester = User.objects.get(username="volunteers")
    head = User.objects.get(username="city_admin")
    branch_admin = Role.objects.get(code=Role.BRANCH_ADMIN)
    review = Role.objects.get(code=Role.REVIEWER)
    branches = list(Branch.objects.order_by("path"))
    by_path = {b.path: b for b in branches}
    client = signed_in_client(reviewer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    client.defaults["HTTP_HOST"] = "127.0.0.1"  # an allowed host of the real settings
    url = "/staff/approvals/"

    def add(count: int, start: int) -> None:
        now = timezone.now()
        matters = Matter.objects.bulk_create(
            Matter(
                title=f"事项 {start + i}",
                description="bench",
                amount_fen=(start + i) % 900_000,
                branch=branches[(start + i) % len(branches)],
                requested_by=requester,
            )
            for i in range(count)
        )
        items = ApprovalRequest.objects.bulk_create(
            ApprovalRequest(
                process_type="matter",
                object_id=m.pk,
                title=m.title,
                branch=m.branch,
                amount_fen=m.amount_fen,
                requester=requester,
                status=RequestStatus.RETURNED,
            )
            for m in matters
        )
        steps: list[RequestStep] = []
        for item in items:
            for position, role, level in ((1, branch_admin, "same"), (2, review, "district")):
                path = level_path(level, item.branch)
                step = RequestStep(
                    request=item,
                    round=1,
                    position=position,
                    role=role,
                    level=level,
                    branch=by_path[path],
                    hours=48,
                )
                step.start(now)
                step.decided_at = now if position == 1 else None
                steps.append(step)
        RequestStep.objects.bulk_create(steps, batch_size=2000)
        decisions = []
        for item, first, second in zip(items, steps[0::2], steps[1::2], strict=True):
            decisions.append(
                Decision(
                    request=item, step=first, round=1, outcome="approve", decided_by=head, requester=requester
                )
            )
            item.status = RequestStatus.PENDING
            item.current_step = second
            item.current_role = review
            item.current_path = second.branch.path
            item.current_due_at = second.due_at
        Decision.objects.bulk_create(decisions, batch_size=2000)
        ApprovalRequest.objects.bulk_update(
            items,
            ["status", "current_step", "current_role", "current_path", "current_due_at"],
            batch_size=1000,
        )

    figures: dict[str, float] = {}
    total = 0
    for size in sorted(sizes):
        add(size - total, total)
        total = size
        assert client.get(url).status_code == 200
        # Counted by an execute wrapper: Django empties connection.queries at
        # the start of every request, so CaptureQueriesContext would see none.
        executed: list[str] = []

        def count(execute, sql, params, many, context, executed=executed):  # type: ignore[no-untyped-def]
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = client.get(url)
        assert response.status_code == 200
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
        samples.sort()
        visible = ApprovalRequest.objects.filter(
            status=RequestStatus.PENDING, current_path__startswith=reviewer.memberships.get().branch.path
        ).count()
        figures[f"inbox_p50_ms_{size}"] = round(percentile(samples, 0.50), 2)
        figures[f"inbox_p99_ms_{size}"] = round(percentile(samples, 0.99), 2)
        figures[f"inbox_queries_{size}"] = float(len(executed))
        figures[f"reviewer_pending_{size}"] = float(visible)
    largest = max(sizes)
    figures = {
        "inbox_p99_ms": figures[f"inbox_p99_ms_{largest}"],
        "inbox_queries": figures[f"inbox_queries_{largest}"],
        "items": float(largest),
        "inbox_p50_ms": figures[f"inbox_p50_ms_{largest}"],
        **figures,
    }
    return figures


def _line(figures: dict[str, float]) -> str:
    return " ".join(f"{k}={int(v) if float(v).is_integer() else v}" for k, v in figures.items())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--items", default="1000,10000", help="Sizes to measure, comma separated.")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    sizes = [int(s) for s in ns.items.split(",") if s.strip()]
    if ns.child:
        print(json.dumps(_child(ns.requests, sizes)))
        return 0
    figures = run(requests=ns.requests, sizes=tuple(sizes))
    print(_line(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
