"""The `rendao` command: demo, serve, worker, totp, and Django's commands via `manage`."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rendao.settings")
    import django

    django.setup()


def _manage(args: Sequence[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rendao.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["rendao manage", *args])


def _gunicorn_argv(bind: str, workers: int) -> list[str]:
    # Sync workers: measured the best tail latency for Django on these machines;
    # ASGI servers were 5–7× slower here, so rendao stays on WSGI.
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "rendao.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--access-logfile",
        "-",
        "--timeout",
        "30",
        "--graceful-timeout",
        "10",
    ]


def _worker_argv() -> list[str]:
    return [sys.executable, "-m", "rendao.cli", "worker"]


def cmd_serve(ns: argparse.Namespace) -> int:
    _manage(["check", "--fail-level", "ERROR"])
    os.execv(sys.executable, _gunicorn_argv(ns.bind, ns.workers))  # noqa: S606
    return 0  # pragma: no cover - execv does not return


def cmd_worker(ns: argparse.Namespace) -> int:
    _manage(["run_huey"])
    return 0


def cmd_totp(ns: argparse.Namespace) -> int:
    _django_setup()
    from rendao.core.totp import current_demo_code

    print(current_demo_code(ns.username))
    return 0


def cmd_demo(ns: argparse.Namespace) -> int:
    started = time.monotonic()
    _manage(["migrate", "--no-input", "-v", "0"])
    _manage(["collectstatic", "--no-input", "-v", "0"])
    _manage(["load_demo"])
    url = f"http://127.0.0.1:{ns.port}/"
    _manage(["demo_accounts", "--url", url])
    if ns.no_serve:
        return 0
    env = dict(os.environ)
    procs = [
        subprocess.Popen(_gunicorn_argv(f"127.0.0.1:{ns.port}", 2), env=env),
        subprocess.Popen(_worker_argv(), env=env),
    ]
    print(
        f"rendao demo is starting on {url} (ready in {time.monotonic() - started:.1f} s"
        " after set-up); press Ctrl+C to stop.",
        flush=True,
    )

    def stop(signum: int, frame: object) -> None:
        for p in procs:
            if p.poll() is None:
                p.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    finally:
        stop(0, None)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
    return 0


def cmd_check(ns: argparse.Namespace) -> int:
    """Lint, types, migrations, API schema drift and (unless --no-tests) the tests."""
    py = sys.executable
    steps: list[tuple[str, list[str]]] = [
        ("ruff", [py, "-m", "ruff", "check", "."]),
        ("ruff format", [py, "-m", "ruff", "format", "--check", "."]),
        ("mypy", [py, "-m", "mypy", "rendao", "bench"]),
        ("migrations", [py, "-m", "rendao.cli", "manage", "makemigrations", "--check", "--dry-run"]),
        ("openapi drift", [py, "-m", "rendao.cli", "manage", "export_openapi", "--check"]),
    ]
    if not ns.no_tests:
        steps.append(("tests", [py, "-m", "pytest"]))
    failed = []
    for name, argv in steps:
        print(f"--- {name}", flush=True)
        if subprocess.run(argv, check=False).returncode != 0:
            failed.append(name)
    if failed:
        print("FAILED: " + ", ".join(failed))
        return 1
    print("all checks passed")
    return 0


def cmd_verify(ns: argparse.Namespace) -> int:
    # No Django here: the verifier must run anywhere, against any rendao site.
    from rendao.ledger.verify import main_with

    return main_with(ns, print)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rendao", description="人道 rendao — Red Cross platform")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="set up demo data and run the web server and worker")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--no-serve", action="store_true", help="set up and print accounts, then exit")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="run the production web server (gunicorn)")
    serve.add_argument("--bind", default=os.environ.get("RENDAO_BIND", "127.0.0.1:8000"))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("RENDAO_WORKERS", "4")))
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run the task-queue worker with its periodic jobs")
    worker.set_defaults(func=cmd_worker)

    totp = sub.add_parser("totp", help="print the current TOTP code of a demo staff account")
    totp.add_argument("username")
    totp.set_defaults(func=cmd_totp)

    check = sub.add_parser("check", help="run lint, types, migration and schema checks, and tests")
    check.add_argument("--no-tests", action="store_true")
    check.set_defaults(func=cmd_check)

    verify = sub.add_parser("verify", help="verify a rendao transparency log against a key you trust")
    from rendao.ledger.verify import add_arguments

    add_arguments(verify)
    verify.set_defaults(func=cmd_verify)

    manage = sub.add_parser("manage", help="run a Django management command", add_help=False)
    manage.set_defaults(func=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["manage"]:
        _manage(args[1:])
        return 0
    ns = build_parser().parse_args(args)
    result: int = ns.func(ns)
    return result


if __name__ == "__main__":
    sys.exit(main())
