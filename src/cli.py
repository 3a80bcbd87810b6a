"""The `portal` command: serve, migrate, worker, create-staff, load-demo."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import io
import os
import re
import signal
import sys

from src.settings import SettingsError, load_settings


async def migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from src import db

    # Piccolo prints a table of counts that reads wrongly on a new database ("4 already complete,
    # 4 not yet run"); its output is kept for a failure and summed up in one line otherwise.
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        result = await run_forwards(app_name="all")
    if not result.success:
        print(output.getvalue(), file=sys.stderr)
        raise SystemExit(f"Migrations failed: {result.message}")
    applied = len(re.findall(r"\[forwards\]\.\.\. ok", output.getvalue()))
    print(f"Database: {applied} migrations applied." if applied else "Database: up to date.", flush=True)
    await db.open_pool()  # SQLite: switches the file to WAL once
    await db.close_pool()


async def run_worker() -> None:
    from src import db
    from src.app import create_app, db_timeouts, reminder_job
    from src.mail import MailWorker

    settings = load_settings()
    app = create_app(settings)
    await db.open_pool(limits=db_timeouts(settings))
    assert app.template_engine is not None  # create_app always configures Jinja
    worker = MailWorker(app.template_engine, settings, poll=settings.mail_poll_seconds)
    worker.start()
    reminders = reminder_job(settings)
    reminders.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"Mail worker running ({settings.mail_delivery} delivery). Ctrl+C stops it.", flush=True)
    await stop.wait()
    await reminders.stop()
    await worker.stop(settings.shutdown_grace_seconds)
    await db.close_pool()


async def create_staff(username: str, email: str, first: str, last: str) -> None:
    from src import accounts
    from src.passwords import password_problem
    from src.tables.accounts import Role

    if await accounts.username_taken(username) or await accounts.email_taken(email):
        raise SystemExit("That user name or email address is already in use.")
    password = os.environ.get("PORTAL_STAFF_PASSWORD") or getpass.getpass("Password (15+ characters): ")
    problem = password_problem(password, username=username, email=email)
    if problem:
        raise SystemExit(problem + ".")
    await accounts.create_account(
        accounts.NewAccount(
            role=Role.staff,
            username=username,
            email=email,
            first_name=first,
            last_name=last,
            password=password,
            verified=True,
        )
    )
    print(f"Staff account {username} created.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="portal", description="The Achievement Portal.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the web app (HOST, PORT from the environment)")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    sub.add_parser("migrate", help="apply the database migrations")
    sub.add_parser("worker", help="send queued email (run one or more beside the web processes)")
    staff = sub.add_parser(
        "create-staff", help="create a staff account (password asked, or PORTAL_STAFF_PASSWORD)"
    )
    staff.add_argument("username")
    staff.add_argument("email")
    staff.add_argument("--first-name", default="Staff")
    staff.add_argument("--last-name", default="Member")
    demo = sub.add_parser("load-demo", help="load demo accounts and print their log-ins")
    demo.add_argument("--if-empty", action="store_true", help="only when the database has no accounts yet")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from exc

    if args.command == "serve":
        from src.server.process import serve as serve_app

        print(
            f"Serving {settings.org_name} on http://{args.host}:{args.port} ({settings.mode} mode)",
            flush=True,
        )
        if settings.development:
            print(f"Development mailbox: http://{args.host}:{args.port}/dev/mailbox", flush=True)
        serve_app(settings, args.host, args.port, args.workers)
    elif args.command == "migrate":
        asyncio.run(migrate())
    elif args.command == "worker":
        asyncio.run(run_worker())
    elif args.command == "create-staff":
        asyncio.run(create_staff(args.username, args.email.lower(), args.first_name, args.last_name))
    elif args.command == "load-demo":
        from src.demo import load_demo

        asyncio.run(load_demo(settings, only_if_empty=args.if_empty))


if __name__ == "__main__":
    main()
