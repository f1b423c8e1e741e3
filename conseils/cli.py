"""The `conseils` command: serve, migrate, demo, worker, facilitator, privacy.

A composition root, like `conseils.app`: it may import every app."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import io
import json
import os
import secrets
import signal
import sys

import uvicorn
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration

from accounts import links, management
from accounts.services import create_facilitator, set_password
from conseils import db, personal_data
from conseils.app import install_features
from conseils.errors import DomainError, InvalidInput
from conseils.settings import ConfigurationError, development_mode, get_settings
from conseils.validation import normalise_email
from conseils.web.access_log import uvicorn_log_config
from meetings.demo import load_demo
from minutes.demo import load_demo_documents
from notifications.relay import Relay

# Piccolo finds the engine through this module (read when the database is first used).
os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")


_verbose = False  # `conseils -v …`: Piccolo's own account of every migration


async def _applied() -> set[tuple[str, str]]:
    if not await Migration.table_exists():
        return set()
    return {(row["app_name"], row["name"]) for row in await Migration.select()}


async def _migrate() -> None:
    """Apply pending migrations; one line for each one applied, nothing when none is."""
    before = await _applied()
    banners = io.StringIO()
    with contextlib.nullcontext() if _verbose else contextlib.redirect_stdout(banners):
        result = await run_forwards(app_name="all")
    if not result.success:
        raise SystemExit(f"migrations failed: {result.message}\n{banners.getvalue()}")
    for app_name, name in sorted(await _applied() - before, key=lambda pair: pair[1]):
        print(f"migration applied: {app_name} {name}")


def cmd_migrate(_: argparse.Namespace) -> int:
    asyncio.run(_migrate())
    return 0


def cmd_demo(_: argparse.Namespace) -> int:
    async def run() -> bool:
        await _migrate()
        loaded = await load_demo()
        if loaded:
            await load_demo_documents()
        return loaded

    loaded = asyncio.run(run())
    print("demo data loaded" if loaded else "database not empty: demo data left out")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    # In development, links in pages, feeds and emails point at this server unless BASE_URL
    # says otherwise (set before the settings are read; workers inherit the environment).
    # Production names its https address, or the settings refuse to start.
    if development_mode():
        os.environ.setdefault("BASE_URL", f"http://{args.host}:{args.port}")
    settings = get_settings()  # fail now, before forking workers, on a bad configuration
    asyncio.run(_migrate())
    uvicorn.run(
        "conseils.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        # The client's address and scheme come from X-Forwarded-* of our proxies only: the
        # same list as the rate limits' (uvicorn would otherwise trust 127.0.0.1 alone).
        forwarded_allow_ips=[str(network) for network in settings.limits.trusted_proxies],
        access_log=settings.log_level == "DEBUG",
        log_config=uvicorn_log_config(),  # capability tokens never reach the access log
    )
    return 0


def read_password() -> str | None:
    """The new password: typed twice at a prompt, or the first line of standard input when
    it is not a terminal (a script: `printf '%s\n' "$PASSWORD" | conseils facilitator ...`).
    Never an argument: the command line of a process is visible to every user (`ps`)."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Mot de passe : ")
    if getpass.getpass("Le même, encore une fois : ") != first:
        return None
    return first


def cmd_facilitator_create(args: argparse.Namespace) -> int:
    password = read_password()
    if password is None:
        print("error: password: les deux saisies diffèrent", file=sys.stderr)
        return 2

    async def run() -> None:
        await _migrate()
        await create_facilitator(
            email=args.email,
            name=args.name,
            password=password,
            admin=args.admin,
            council_slugs=args.council or [],
        )

    try:
        asyncio.run(run())
    except InvalidInput as exc:
        for field, reason in exc.errors.items():
            print(f"error: {field}: {reason}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    print(f"facilitator {args.email} created")
    return 0


def cmd_facilitator_list(_: argparse.Namespace) -> int:
    """Every account, one a line, tab-separated (no password hash, no token)."""

    async def run() -> tuple[list[management.Account], dict[int, str]]:
        with contextlib.redirect_stdout(sys.stderr):  # standard output is the list's
            await _migrate()
        councils = {c.id: c.slug for c in await management.councils()}
        return await management.accounts(), councils

    accounts, councils = asyncio.run(run())
    print("email\tnom\tadmin\tétat\tconseils\tdernière connexion")
    for account in accounts:
        state = "désactivé" if not account.active else "invité" if account.pending else "actif"
        last = (
            account.last_signed_in_at.isoformat(timespec="seconds")
            if account.last_signed_in_at
            else "-"
        )
        print(
            "\t".join(
                [
                    account.email,
                    account.display_name,
                    "oui" if account.is_admin else "non",
                    state,
                    ",".join(councils.get(i, str(i)) for i in account.council_ids) or "-",
                    last,
                ]
            )
        )
    return 0


def cmd_facilitator_deactivate(args: argparse.Namespace) -> int:
    """Deactivate an account at once: sessions, API tokens and password links die."""
    email = _address(args.email)
    if email is None:
        return 2

    async def run() -> None:
        await _migrate()
        account = await management.account_by_email(email)
        await management.deactivate(management.COMMAND_LINE, account.id)

    try:
        asyncio.run(run())
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    print(f"facilitator {email} deactivated")
    return 0


def cmd_facilitator_send_reset(args: argparse.Namespace) -> int:
    """Queue a password-reset email to an active account: the link goes to the account's
    address only, never to this terminal."""
    email = _address(args.email)
    if email is None:
        return 2
    install_features()  # the notifications app turns the link into an email

    async def run() -> bool:
        await _migrate()
        return await links.send_reset(email)

    if not asyncio.run(run()):
        print(f"error: no active facilitator with the address {email}", file=sys.stderr)
        return 2
    print(f"password reset link queued for {email} (sent by email only)")
    return 0


DEMO_FACILITATOR = "animation@demo.local"


def cmd_facilitator_demo(_: argparse.Namespace) -> int:
    """A sign-in for trying the demo locally: an admin with a password generated now and
    printed once (asked again, it gets a new one). Refused outside development."""
    if not get_settings().development:
        print(
            "error: DEVELOPMENT: the demo account exists only with DEVELOPMENT=1", file=sys.stderr
        )
        return 2
    password = secrets.token_urlsafe(12)

    async def run() -> None:
        await _migrate()
        if not await set_password(DEMO_FACILITATOR, password):
            await create_facilitator(
                email=DEMO_FACILITATOR,
                name="Animation (démo)",
                password=password,
                admin=True,
                council_slugs=[],
            )

    asyncio.run(run())
    print(f"demo facilitator: {DEMO_FACILITATOR}")
    print(f"password (shown once): {password}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run the outbox relay on its own (for deployments that set OUTBOX_IN_PROCESS=0)."""
    get_settings()  # refuse a bad configuration before anything starts
    install_features()

    async def run() -> None:
        await _migrate()
        await db.open_pool(min_size=1, max_size=4)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await Relay().run(stop, poll_seconds=args.poll)
        finally:
            await db.close_pool()

    asyncio.run(run())
    return 0


def _address(value: str) -> str | None:
    try:
        return normalise_email(value)
    except InvalidInput as exc:
        for field, reason in exc.errors.items():
            print(f"error: {field}: {reason}", file=sys.stderr)
        return None


def cmd_privacy_export(args: argparse.Namespace) -> int:
    """Everything held about an address, as JSON on standard output (a resident's request
    that reached an admin by post or by phone)."""
    email = _address(args.email)
    if email is None:
        return 2
    install_features()

    async def run() -> dict:
        with contextlib.redirect_stdout(sys.stderr):  # standard output is the JSON's
            await _migrate()
        return await personal_data.export(email)

    held = asyncio.run(run())
    json.dump({"email": email, **held}, sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 0


def cmd_privacy_erase(args: argparse.Namespace) -> int:
    """Erase everything held about an address, in one transaction, after asking (unless
    `--yes`); prints how many records each app erased."""
    email = _address(args.email)
    if email is None:
        return 2
    if not args.yes:
        print(f"Effacer toutes les données de {email} ? C'est définitif. [o/N] ", end="")
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() not in ("o", "oui", "y", "yes"):
            print("rien n'a été effacé")
            return 1
    install_features()

    async def run() -> dict[str, int]:
        with contextlib.redirect_stdout(sys.stderr):
            await _migrate()
        async with db.write_transaction():
            return await personal_data.erase(email)

    erased = asyncio.run(run())
    print(json.dumps({"email": email, "erased": erased}, ensure_ascii=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conseils", description=__doc__)
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="tell every migration step in detail"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="apply migrations, then serve HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    commands.add_parser("demo", help="load the Alès demo data into an empty database").set_defaults(
        func=cmd_demo
    )

    worker = commands.add_parser("worker", help="send queued email (the outbox relay)")
    worker.add_argument("--poll", type=float, default=1.0, help="seconds between queue checks")
    worker.set_defaults(func=cmd_worker)

    facilitator = commands.add_parser("facilitator", help="manage facilitators")
    facilitator_commands = facilitator.add_subparsers(dest="action", required=True)
    create = facilitator_commands.add_parser(
        "create",
        help="create a facilitator; the password is asked for (or read from standard input)",
    )
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--admin", action="store_true")
    create.add_argument(
        "--council", action="append", metavar="SLUG", help="a council they run (repeat for several)"
    )
    create.set_defaults(func=cmd_facilitator_create)
    facilitator_commands.add_parser(
        "demo", help="(DEVELOPMENT=1 only) an admin sign-in for the local demo, new password"
    ).set_defaults(func=cmd_facilitator_demo)
    facilitator_commands.add_parser(
        "list", help="every account: email, name, admin, state, councils, last sign-in"
    ).set_defaults(func=cmd_facilitator_list)
    deactivate = facilitator_commands.add_parser(
        "deactivate", help="deactivate an account: its sessions and API tokens die at once"
    )
    deactivate.add_argument("email")
    deactivate.set_defaults(func=cmd_facilitator_deactivate)
    send_reset = facilitator_commands.add_parser(
        "send-reset",
        help="email a password-reset link (valid one hour) to the account's address",
    )
    send_reset.add_argument("email")
    send_reset.set_defaults(func=cmd_facilitator_send_reset)

    privacy = commands.add_parser("privacy", help="a resident's data: export or erase it")
    privacy_commands = privacy.add_subparsers(dest="action", required=True)
    export = privacy_commands.add_parser(
        "export", help="everything held about an address, as JSON on standard output"
    )
    export.add_argument("--email", required=True)
    export.set_defaults(func=cmd_privacy_export)
    erase = privacy_commands.add_parser(
        "erase", help="erase everything held about an address (asks first, unless --yes)"
    )
    erase.add_argument("--email", required=True)
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase.set_defaults(func=cmd_privacy_erase)
    return parser


def main(argv: list[str] | None = None) -> int:
    global _verbose
    args = build_parser().parse_args(argv)
    _verbose = args.verbose
    try:
        return args.func(args)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
