"""The ``ivr`` command: a thin parser over the command bodies in ``ivr.commands``.

``main(argv)`` returns the exit status, so tests call it as a user types it.

A command line should start at shell speed, so this module imports only the
standard library at its top. The parser lists every command but builds the
options of the chosen one alone, importing what that needs; ``ivr --help``
therefore loads nothing of the application, and only the chosen command's
module is imported to run it (never the web app, AMI or FastAGI for a quick one).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

# Each command: its one-line help, the module holding its body
# (``run(args, settings, stdin) -> exit status``), and what adds its options.
Options = Callable[[argparse.ArgumentParser], None]


def _date_arg(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _tier_arg(text: str) -> str:
    from ivr.domain.records import parse_tier  # noqa: PLC0415

    try:
        return parse_tier(text).value
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _global_options(parser: argparse.ArgumentParser, *, default: object) -> None:
    """Options every command takes, before or after the command's name."""
    parser.add_argument(
        "--data-dir", type=Path, default=default, help="where the managed Redis keeps its data"
    )


def _serve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agi-host", help="listen address (default 127.0.0.1)")
    parser.add_argument("--agi-port", type=int, help="FastAGI port (default 4573)")
    parser.add_argument("--demo", action="store_true", help="load the demo resellers and systems")
    _web(parser)


def _web(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--web-host", help="dashboard address (default 127.0.0.1)")
    parser.add_argument("--web-port", type=int, help="dashboard port (default 8080)")


def _users(parser: argparse.ArgumentParser) -> None:
    from ivr.store.accounts import UserRole  # noqa: PLC0415

    users_sub = parser.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="create or replace an account (password from stdin)")
    add.add_argument("name")
    add.add_argument("--role", choices=[r.value for r in UserRole], required=True)
    token = users_sub.add_parser("token", help="print a new API token for an account")
    token.add_argument("name")
    users_sub.add_parser("list", help="every account and its role")
    remove = users_sub.add_parser("remove", help="delete an account, its sessions and tokens")
    remove.add_argument("name")


def _import(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=["resellers", "systems", "telephones"])
    parser.add_argument("file", type=Path)


def _pin(parser: argparse.ArgumentParser) -> None:
    pin_sub = parser.add_subparsers(dest="pin_command", required=True)
    pin_set = pin_sub.add_parser("set", help="set a reseller's PIN, read from stdin")
    pin_set.add_argument("account")


def _call(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="caller", required=True, help="caller-ID number")
    parser.add_argument("--to", default="2145565917", help="dialled number")
    parser.add_argument(
        "--dtmf",
        default="",
        help='keys per prompt, space-separated (digits, * and #); "" (two spaces) = silence',
    )
    parser.add_argument("--route", default="support-line", help="FastAGI script (route?query)")
    parser.add_argument("--agi-host", default=None)
    parser.add_argument("--agi-port", type=int, default=None)
    parser.add_argument("--hangup-at", type=int, default=None, help="hang up at command N")
    parser.add_argument(
        "--at",
        default=None,
        help="run the call at this ISO time (the server needs IVR_ALLOW_CALL_TIME)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object")


def _tickets(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--limit", type=int, default=50)
    tickets_sub = parser.add_subparsers(dest="tickets_command")
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


def _helpdesk(parser: argparse.ArgumentParser) -> None:
    helpdesk_sub = parser.add_subparsers(dest="helpdesk_command", required=True)
    sync = helpdesk_sub.add_parser(
        "sync",
        help="load the helpdesk's tickets from a JSON Lines export (safe to run twice)",
        description="Each line: one event as POST /api/helpdesk/events takes it, or a ticket "
        "object alone. Good lines are applied, bad ones listed with their line number and "
        "reason; a ticket's updated_at decides, so a second run changes nothing. Exit status "
        "1 when any line was rejected.",
    )
    sync.add_argument("file", type=Path, help="the export (- for standard input)")


def _route(parser: argparse.ArgumentParser) -> None:
    from ivr.domain.records import TicketKind, Tier  # noqa: PLC0415

    parser.add_argument(
        "--kind",
        choices=[k.value for k in TicketKind],
        default=TicketKind.SUPPORT.value,
        help="support (options 1 and 2, needs --tier) or warranty (option 4)",
    )
    parser.add_argument(
        "--tier",
        type=_tier_arg,
        help=f"the support tier: {', '.join(t.value for t in Tier)} (any case; - or space for _)",
    )
    parser.add_argument(
        "--at",
        default=None,
        help="ISO time (default: now); without an offset it is the centre's local time",
    )
    parser.add_argument("--emergency", action="store_true", help="option 1 (support only)")
    parser.add_argument("--json", action="store_true")


def _calendar(parser: argparse.ArgumentParser) -> None:
    cal_sub = parser.add_subparsers(dest="calendar_command", required=True)
    cal_show = cal_sub.add_parser("show", help="holidays and entries in a date range")
    cal_show.add_argument("--from", dest="first", type=_date_arg, default=None)
    cal_show.add_argument("--days", type=int, default=60)
    for verb, text in (("close", "close the centre on a date"), ("open", "open on a date")):
        cmd = cal_sub.add_parser(verb, help=text)
        cmd.add_argument("date", type=_date_arg)
        cmd.add_argument("--reason", default="")
    cal_clear = cal_sub.add_parser("clear", help="remove an entry for a date")
    cal_clear.add_argument("date", type=_date_arg)


def _oncall(parser: argparse.ArgumentParser) -> None:
    from ivr.domain.oncall import ChainRole  # noqa: PLC0415

    oncall_sub = parser.add_subparsers(dest="oncall_command", required=True)
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


def _check(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dialplan-dir", type=Path, default=None, help="default: dialplan/")
    parser.add_argument(
        "--sounds-dir", type=Path, default=None, help="default: prompts/build/en/ivr"
    )
    parser.add_argument(
        "--agi-host", default=None, help="where the FastAGI service listens (default IVR_AGI_HOST)"
    )
    parser.add_argument(
        "--agi-port", type=int, default=None, help="its port (default IVR_AGI_PORT)"
    )


def _report(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="first", type=_date_arg, default=None, help="default: this week's Monday"
    )
    parser.add_argument("--to", dest="last", type=_date_arg, default=None, help="default: today")
    parser.add_argument(
        "--day",
        type=_date_arg,
        default=None,
        help="the day of the hourly series (default: --to, or today when that is earlier)",
    )
    parser.add_argument("--csv", type=Path, default=None, help="also write every table here")


def _nothing(_parser: argparse.ArgumentParser) -> None:
    pass


def _prompts(parser: argparse.ArgumentParser) -> None:
    prompts_sub = parser.add_subparsers(dest="prompts_command", required=True)
    build = prompts_sub.add_parser("build", help="build the catalogue into Asterisk sound files")
    build.add_argument("--out", type=Path, default=None, help="default prompts/build/en/ivr")
    build.add_argument("--prune", action="store_true", help="remove prompts no longer listed")


COMMANDS: dict[str, tuple[str, str, Options]] = {
    "serve": ("run the FastAGI service, AMI consumer and dashboard", "ivr.commands.serve", _serve),
    "web": ("run only the supervisors' dashboard", "ivr.commands.serve", _web),
    "users": ("dashboard accounts and API tokens", "ivr.commands.users", _users),
    "import": (
        "import resellers, systems or telephone sets from CSV",
        "ivr.commands.data",
        _import,
    ),
    "pin": ("reseller PINs", "ivr.commands.data", _pin),
    "call": ("place a simulated call against a FastAGI server", "ivr.commands.call", _call),
    "tickets": ("list tickets, or show one", "ivr.commands.tickets", _tickets),
    "helpdesk": ("the helpdesk's own tickets", "ivr.commands.helpdesk", _helpdesk),
    "route": ("where a call would go at a given time", "ivr.commands.route", _route),
    "calendar": ("holidays, closures and extra openings", "ivr.commands.calendar", _calendar),
    "oncall": ("on-call rotation and overrides", "ivr.commands.oncall", _oncall),
    "check": (
        "is this deployment ready? (Redis, data, prompts, ...)",
        "ivr.commands.check",
        _check,
    ),
    "report": ("supervisor report for a date range (local dates)", "ivr.commands.report", _report),
    "demo": ("load the demo data into Redis", "ivr.commands.data", _nothing),
    "prompts": ("prompt audio", "ivr.commands.prompts", _prompts),
}


def _chosen(argv: Sequence[str]) -> str | None:
    """The command's name in ``argv``: its first word that is not a global option."""
    words = iter(argv)
    for word in words:
        if word == "--data-dir":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def _parser(chosen: str | None) -> argparse.ArgumentParser:
    """Every command by name; the options of ``chosen`` alone."""
    parser = argparse.ArgumentParser(prog="ivr", description="Partner support line IVR.")
    _global_options(parser, default=None)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (text, _module, options) in COMMANDS.items():
        command = sub.add_parser(name, help=text)
        # After the command too; SUPPRESS keeps a value given before it.
        _global_options(command, default=argparse.SUPPRESS)
        if name == chosen:
            options(command)
    return parser


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None) -> int:
    """Run one ``ivr`` command; return its exit status."""
    words = sys.argv[1:] if argv is None else list(argv)
    return _run(parse(words), stdin or sys.stdin)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The command line's words as options (argparse exits on a bad one)."""
    return _parser(_chosen(argv)).parse_args(argv)


def _run(args: argparse.Namespace, stdin: TextIO) -> int:
    # Imported here, not at the top: ``ivr --help`` needs none of it.
    import asyncio  # noqa: PLC0415

    from redis.exceptions import RedisError  # noqa: PLC0415

    from ivr.config import ConfigError, load_settings  # noqa: PLC0415
    from ivr.runtime.logs import configure_logging  # noqa: PLC0415
    from ivr.runtime.redis_server import RedisUnavailable  # noqa: PLC0415

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"ivr: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.data_dir is not None:
        settings = settings.with_overrides(data_dir=args.data_dir)
    default_format = "json" if args.command == "serve" else "text"
    configure_logging(settings.log_level, settings.log_format or default_format)
    command = importlib.import_module(COMMANDS[args.command][1])
    try:
        status: int = asyncio.run(command.run(args, settings, stdin))
    except ConfigError as exc:
        print(f"ivr: configuration error: {exc}", file=sys.stderr)
        return 2
    except RedisUnavailable as exc:
        print(f"ivr: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return _reader_left()
    except (RedisError, OSError) as exc:
        print(f"ivr: cannot reach Redis or the service: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return _reader_left()
    return status


def _reader_left() -> int:
    """The reader of our output went away (``ivr call | head``): stop quietly, as
    Unix tools do, with the status a SIGPIPE would give."""
    import os  # noqa: PLC0415

    # Python would complain again when it flushes stdout at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
