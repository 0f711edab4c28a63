"""The ``ivr`` command: a thin parser over the command bodies in ``ivr.commands``.

``main(argv)`` returns the exit status, so tests call it as a user types it.
Only the chosen command's module is imported, so ``ivr --help`` and quick
commands start without loading the web app, AMI or the FastAGI server.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from redis.exceptions import RedisError

from ivr.config import ConfigError, load_settings
from ivr.domain.oncall import ChainRole
from ivr.domain.records import TicketKind, Tier
from ivr.runtime.logs import configure_logging
from ivr.runtime.redis_server import RedisUnavailable
from ivr.store.accounts import UserRole

# Each command's body: ``run(args, settings, stdin) -> exit status``.
COMMANDS = {
    "serve": "ivr.commands.serve",
    "web": "ivr.commands.serve",
    "users": "ivr.commands.users",
    "import": "ivr.commands.data",
    "pin": "ivr.commands.data",
    "demo": "ivr.commands.data",
    "call": "ivr.commands.call",
    "tickets": "ivr.commands.tickets",
    "helpdesk": "ivr.commands.helpdesk",
    "route": "ivr.commands.route",
    "calendar": "ivr.commands.calendar",
    "oncall": "ivr.commands.oncall",
    "check": "ivr.commands.check",
    "report": "ivr.commands.report",
    "prompts": "ivr.commands.prompts",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ivr", description="Partner support line IVR.")
    parser.add_argument("--data-dir", type=Path, help="where the managed Redis keeps its data")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the FastAGI service, AMI consumer and dashboard")
    serve.add_argument("--agi-host", help="listen address (default 127.0.0.1)")
    serve.add_argument("--agi-port", type=int, help="FastAGI port (default 4573)")
    serve.add_argument("--demo", action="store_true", help="load the demo resellers and systems")
    web = sub.add_parser("web", help="run only the supervisors' dashboard")
    for command in (serve, web):
        command.add_argument("--web-host", help="dashboard address (default 127.0.0.1)")
        command.add_argument("--web-port", type=int, help="dashboard port (default 8080)")
    users = sub.add_parser("users", help="dashboard accounts and API tokens")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="create or replace an account (password from stdin)")
    add.add_argument("name")
    add.add_argument("--role", choices=[r.value for r in UserRole], required=True)
    token = users_sub.add_parser("token", help="print a new API token for an account")
    token.add_argument("name")
    users_sub.add_parser("list", help="every account and its role")
    remove = users_sub.add_parser("remove", help="delete an account, its sessions and tokens")
    remove.add_argument("name")

    imp = sub.add_parser("import", help="import resellers, systems or telephone sets from CSV")
    imp.add_argument("kind", choices=["resellers", "systems", "telephones"])
    imp.add_argument("file", type=Path)

    pin = sub.add_parser("pin", help="reseller PINs")
    pin_sub = pin.add_subparsers(dest="pin_command", required=True)
    pin_set = pin_sub.add_parser("set", help="set a reseller's PIN, read from stdin")
    pin_set.add_argument("account")

    call = sub.add_parser("call", help="place a simulated call against a FastAGI server")
    call.add_argument("--from", dest="caller", required=True, help="caller-ID number")
    call.add_argument("--to", default="2145565917", help="dialled number")
    call.add_argument(
        "--dtmf", default="", help='keys per prompt, space-separated; "" (two spaces) = silence'
    )
    call.add_argument("--route", default="support-line", help="FastAGI script (route?query)")
    call.add_argument("--agi-host", default=None)
    call.add_argument("--agi-port", type=int, default=None)
    call.add_argument("--hangup-at", type=int, default=None, help="hang up at command N")
    call.add_argument(
        "--at",
        default=None,
        help="run the call at this ISO time (server needs IVR_ALLOW_CALL_TIME)",
    )
    call.add_argument("--json", action="store_true", help="one JSON object")

    tickets = sub.add_parser("tickets", help="list tickets, or show one")
    tickets.add_argument("--json", action="store_true")
    tickets.add_argument("--limit", type=int, default=50)
    tickets_sub = tickets.add_subparsers(dest="tickets_command")
    show = tickets_sub.add_parser("show", help="one ticket")
    show.add_argument("number")
    show.add_argument("--json", action="store_true", dest="show_json")
    for verb, text in (("ack", "acknowledge a ticket"), ("resolve", "resolve a ticket")):
        change = tickets_sub.add_parser(verb, help=text)
        change.add_argument("number")
        change.add_argument("--by", required=True, help="who (recorded in the audit trail)")
        change.add_argument("--note", default="", help="a note for the audit trail")
    redeliver = tickets_sub.add_parser(
        "redeliver", help="send dead-lettered helpdesk events again (all, or one ticket's)"
    )
    redeliver.add_argument("--ticket", default=None)
    tickets_sub.add_parser("dead", help="helpdesk events that were never delivered")

    helpdesk = sub.add_parser("helpdesk", help="the helpdesk's own tickets")
    helpdesk_sub = helpdesk.add_subparsers(dest="helpdesk_command", required=True)
    sync = helpdesk_sub.add_parser(
        "sync",
        help="load the helpdesk's tickets from a JSON Lines export (safe to run twice)",
        description="Each line: one event as POST /api/helpdesk/events takes it, or a ticket "
        "object alone. Good lines are applied, bad ones listed with their line number and "
        "reason; a ticket's updated_at decides, so a second run changes nothing. Exit status "
        "1 when any line was rejected.",
    )
    sync.add_argument("file", type=Path, help="the export (- for standard input)")

    route = sub.add_parser("route", help="where a call would go at a given time")
    route.add_argument(
        "--kind",
        choices=[k.value for k in TicketKind],
        default=TicketKind.SUPPORT.value,
        help="support (options 1 and 2, needs --tier) or warranty (option 4)",
    )
    route.add_argument("--tier", choices=[t.value for t in Tier], help="the support tier")
    route.add_argument("--at", default=None, help="ISO time with offset (default: now)")
    route.add_argument("--emergency", action="store_true", help="option 1 (support only)")
    route.add_argument("--json", action="store_true")

    cal = sub.add_parser("calendar", help="holidays, closures and extra openings")
    cal_sub = cal.add_subparsers(dest="calendar_command", required=True)
    cal_show = cal_sub.add_parser("show", help="holidays and entries in a date range")
    cal_show.add_argument("--from", dest="first", type=_date_arg, default=None)
    cal_show.add_argument("--days", type=int, default=60)
    for verb, text in (("close", "close the centre on a date"), ("open", "open on a date")):
        cmd = cal_sub.add_parser(verb, help=text)
        cmd.add_argument("date", type=_date_arg)
        cmd.add_argument("--reason", default="")
    cal_clear = cal_sub.add_parser("clear", help="remove an entry for a date")
    cal_clear.add_argument("date", type=_date_arg)

    oncall = sub.add_parser("oncall", help="on-call rotation and overrides")
    oncall_sub = oncall.add_subparsers(dest="oncall_command", required=True)
    oncall_show = oncall_sub.add_parser("show", help="who is on call (now or --at)")
    oncall_show.add_argument("--at", default=None, help="ISO time with offset")
    oncall_show.add_argument("--json", action="store_true")
    oncall_set = oncall_sub.add_parser("set", help="replace the rotation from a JSON file")
    oncall_set.add_argument("file", type=Path)
    override = oncall_sub.add_parser("override", help="add, list or remove dated overrides")
    override_sub = override.add_subparsers(dest="override_command", required=True)
    override_add = override_sub.add_parser("add", help="someone else takes a role for a span")
    override_add.add_argument("start", help="ISO time with offset")
    override_add.add_argument("end", help="ISO time with offset")
    override_add.add_argument("name")
    override_add.add_argument("dial", help="Dial() target, e.g. PJSIP/2145550111@trunk")
    override_add.add_argument("--role", choices=[r.value for r in ChainRole], default="primary")
    override_sub.add_parser("list", help="every override")
    override_rm = override_sub.add_parser("remove", help="remove an override by id")
    override_rm.add_argument("id")

    check = sub.add_parser("check", help="is this deployment ready? (Redis, data, prompts, ...)")
    check.add_argument("--dialplan-dir", type=Path, default=None, help="default: dialplan/")
    check.add_argument(
        "--sounds-dir", type=Path, default=None, help="default: prompts/build/en/ivr"
    )

    report = sub.add_parser("report", help="supervisor report for a date range (local dates)")
    report.add_argument("--from", dest="first", type=_date_arg, required=True)
    report.add_argument("--to", dest="last", type=_date_arg, required=True)
    report.add_argument("--day", type=_date_arg, default=None, help="hourly series (default --to)")
    report.add_argument("--csv", type=Path, default=None, help="also write every table here")

    sub.add_parser("demo", help="load the demo data into Redis")

    prompts = sub.add_parser("prompts", help="prompt audio")
    prompts_sub = prompts.add_subparsers(dest="prompts_command", required=True)
    build = prompts_sub.add_parser("build", help="build the catalogue into Asterisk sound files")
    build.add_argument("--out", type=Path, default=None, help="default prompts/build/en/ivr")
    build.add_argument("--prune", action="store_true", help="remove prompts no longer listed")
    return parser


def _date_arg(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None) -> int:
    """Run one ``ivr`` command; return its exit status."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"ivr: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.data_dir is not None:
        settings = settings.with_overrides(data_dir=args.data_dir)
    default_format = "json" if args.command == "serve" else "text"
    configure_logging(settings.log_level, settings.log_format or default_format)
    command = importlib.import_module(COMMANDS[args.command])
    try:
        status: int = asyncio.run(command.run(args, settings, stdin or sys.stdin))
    except ConfigError as exc:
        print(f"ivr: configuration error: {exc}", file=sys.stderr)
        return 2
    except RedisUnavailable as exc:
        print(f"ivr: {exc}", file=sys.stderr)
        return 1
    except (RedisError, OSError) as exc:
        print(f"ivr: cannot reach Redis or the service: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
