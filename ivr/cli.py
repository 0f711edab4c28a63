"""The ``ivr`` command: a thin layer over the package's functions.

``main(argv)`` returns the exit status, so tests call it as a user types it.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import logging
import sys
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from redis.exceptions import RedisError

from ivr import app
from ivr.agi.simulator import CallResult, FakeAsterisk, SimulatedCall, Step
from ivr.config import ConfigError, Settings, load_settings, parse_aware_time
from ivr.domain.holidays import holidays_between
from ivr.domain.imports import ImportRejected
from ivr.domain.oncall import Role, override_from_dict, rotation_from_dict
from ivr.domain.records import PIN_RE, Ticket, Tier
from ivr.domain.routing import route_call
from ivr.imports_service import import_resellers, import_systems
from ivr.logs import configure_logging
from ivr.prompt_audio import prompt_words
from ivr.redis_server import RedisUnavailable
from ivr.variables import Var

log = logging.getLogger("ivr.cli")


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
    from ivr.web import commands  # noqa: PLC0415

    commands.add_parser(sub)

    imp = sub.add_parser("import", help="import resellers or systems from CSV")
    imp.add_argument("kind", choices=["resellers", "systems"])
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

    route = sub.add_parser("route", help="where a call would go at a given time")
    route.add_argument("--tier", required=True, choices=[t.value for t in Tier])
    route.add_argument("--at", default=None, help="ISO time with offset (default: now)")
    route.add_argument("--emergency", action="store_true")
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
    override_add.add_argument("--role", choices=[r.value for r in Role], default="primary")
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
    try:
        return asyncio.run(_dispatch(args, settings, stdin or sys.stdin))
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


async def _dispatch(args: argparse.Namespace, settings: Settings, stdin: TextIO) -> int:
    match args.command:
        case "serve":
            changes: dict[str, object] = {}
            if args.agi_host:
                changes["agi_host"] = args.agi_host
            if args.agi_port is not None:
                changes["agi_port"] = args.agi_port
            changes |= _web_overrides(args)
            settings = settings.with_overrides(**changes)
            settings.check()
            await app.serve(settings, demo=args.demo)
            return 0
        case "web":
            settings = settings.with_overrides(**_web_overrides(args))
            await app.serve_web(settings)
            return 0
        case "users":
            from ivr.web import commands  # noqa: PLC0415

            return await commands.run(settings, args, stdin)
        case "import":
            return await _import(settings, args.kind, args.file)
        case "pin":
            return await _pin_set(settings, args.account, stdin)
        case "call":
            return await _call(settings, args)
        case "tickets":
            return await _tickets(settings, args)
        case "prompts":
            from ivr.prompt_audio import main_build  # noqa: PLC0415

            return await asyncio.to_thread(main_build, args.out, args.prune)
        case "route":
            return await _route(settings, args)
        case "oncall":
            return await _oncall(settings, args)
        case "calendar":
            return await _calendar(settings, args)
        case "check":
            from ivr.check import check_deployment, print_findings  # noqa: PLC0415
            from ivr.prompt_audio import default_out_dir  # noqa: PLC0415

            findings = await check_deployment(
                settings,
                dialplan_dir=args.dialplan_dir or Path(__file__).parents[1] / "dialplan",
                sounds_dir=args.sounds_dir or default_out_dir(),
            )
            return print_findings(findings, sys.stdout)
        case "report":
            return await _report(settings, args)
        case "demo":
            from ivr.demo import load_demo  # noqa: PLC0415

            async with app.open_redis(settings) as redis:
                await load_demo(app.build_services(redis, settings))
            print("demo data loaded")
            return 0
    return 2  # pragma: no cover - argparse rejects unknown commands


def _web_overrides(args: argparse.Namespace) -> dict[str, object]:
    changes: dict[str, object] = {}
    if args.web_host:
        changes["web_host"] = args.web_host
    if args.web_port is not None:
        changes["web_port"] = args.web_port
    return changes


async def _import(settings: Settings, kind: str, path: Path) -> int:
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"ivr: cannot read {path}: {exc}", file=sys.stderr)
        return 1
    async with app.open_redis(settings) as redis:
        services = app.build_services(redis, settings)
        try:
            if kind == "resellers":
                count = await import_resellers(services, text)
            else:
                count = await import_systems(services, text)
        except ImportRejected as exc:
            print(f"ivr: {path} rejected, nothing imported:\n{exc}", file=sys.stderr)
            return 1
    print(f"imported {count} {kind} from {path}")
    return 0


async def _pin_set(settings: Settings, account: str, stdin: TextIO) -> int:
    if stdin.isatty():
        import getpass  # noqa: PLC0415

        pin = getpass.getpass("New PIN: ").strip()
    else:
        pin = stdin.readline().strip()
    if not PIN_RE.match(pin):
        print("ivr: a PIN is 4 to 12 digits (read from stdin)", file=sys.stderr)
        return 1
    async with app.open_redis(settings) as redis:
        services = app.build_services(redis, settings)
        pin_hash = await services.pins.hash(pin)
        if not await services.directory.set_pin_hash(account, pin_hash):
            print(f"ivr: no reseller with account {account}", file=sys.stderr)
            return 1
    print(f"PIN set for account {account}")
    return 0


async def _call(settings: Settings, args: argparse.Namespace) -> int:
    from ivr.prompts import sound_exists  # noqa: PLC0415

    host = args.agi_host or ("127.0.0.1" if settings.agi_host == "0.0.0.0" else settings.agi_host)  # noqa: S104
    port = args.agi_port if args.agi_port is not None else settings.agi_port
    script = args.route
    if args.at:
        try:
            parse_aware_time(args.at)
        except ValueError as exc:
            print(f"ivr: --at: {exc}", file=sys.stderr)
            return 2
        script += ("&" if "?" in script else "?") + urllib.parse.urlencode({"at": args.at})
    call = SimulatedCall(
        caller_id=args.caller,
        dialed=args.to,
        script=script,
        answers=SimulatedCall.parse_dtmf(args.dtmf),
        hangup_at=args.hangup_at,
        sound_exists=sound_exists(settings.sounds_prefix),
        strict=False,
    )
    try:
        result = await FakeAsterisk(host, port).place(call)
    except OSError as exc:
        print(f"ivr: cannot reach the FastAGI server at {host}:{port}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(call_json(result, prompt_words()), indent=2))
    else:
        _print_call(result)
    return 0


def call_json(result: CallResult, words: Mapping[str, str] | None = None) -> dict[str, object]:
    """The ``ivr call --json`` object."""
    variables = {k: v for k, v in result.variables.items() if k.startswith("IVR_")}
    return {
        "route": variables.get(Var.ROUTE.value, ""),
        "fastagi_route": result.route,
        "variables": variables,
        "ticket": variables.get(Var.TICKET.value) or None,
        "hung_up_by": result.hung_up_by or None,
        "transcript": [_line(step, words or {}) for step in result.steps],
        "problems": result.violations,
    }


def _line(step: Step, words: Mapping[str, str]) -> str:
    """One transcript line, with the prompt's words when the catalogue has them."""
    said = words.get(step.text.rsplit("/", 1)[-1]) if step.kind == "play" else None
    return f'{step}  "{said}"' if said else str(step).rstrip()


def _print_call(result: CallResult) -> None:
    words = prompt_words()
    for step in result.steps:
        print(_line(step, words))
    route = result.variables.get(Var.ROUTE.value, "(none: the dialplan falls back to the queue)")
    print(f"-> route: {route}")
    for problem in result.violations:
        print(f"!! {problem}")


async def _tickets(settings: Settings, args: argparse.Namespace) -> int:
    if args.tickets_command in {"ack", "resolve", "redeliver", "dead"}:
        return await _ticket_change(settings, args)
    async with app.open_redis(settings) as redis:
        services = app.build_services(redis, settings)
        if args.tickets_command == "show":
            ticket = await services.tickets.get(args.number)
            if ticket is None:
                print(f"ivr: no ticket {args.number}", file=sys.stderr)
                return 1
            pages = await services.tickets.pages(ticket.number)
            audit = await services.tickets.audit(ticket.number)
            data = ticket_json(ticket) | {"pages": pages, "audit": audit}
            if args.show_json or args.json:
                print(json.dumps(data, indent=2))
            else:
                for key, value in data.items():
                    if key not in {"pages", "audit"}:
                        print(f"{key:>18}: {value}")
                for entry in audit:
                    print(
                        f"{'change':>18}: {entry['at']} {entry['event']} "
                        f"{entry['by']} {entry['note']}"
                    )
                for page in pages:
                    print(
                        f"{'page':>18}: {page.get('at')} round {page.get('round', '-')} "
                        f"step {page.get('step')} {page.get('engineer')}: {page.get('outcome')}"
                    )
            return 0
        tickets = await services.tickets.recent(args.limit)
    if args.json:
        print(json.dumps([ticket_json(t) for t in tickets], indent=2))
        return 0
    if not tickets:
        print("no tickets")
    for t in tickets:
        flag = "EMERGENCY" if t.emergency else "normal"
        print(
            f"{t.number}  {t.created.astimezone(settings.timezone):%Y-%m-%d %H:%M}  "
            f"{t.status.value:<12} {t.tier.value:<12} {flag:<9} {t.host_id}  {t.end_customer}"
        )
    return 0


async def _route(settings: Settings, args: argparse.Namespace) -> int:
    try:
        at = parse_aware_time(args.at) if args.at else app.now_utc()
    except ValueError as exc:
        print(f"ivr: --at: {exc}", file=sys.stderr)
        return 2
    tier = Tier(args.tier)
    async with app.open_redis(settings) as redis:
        calendar = await app.build_services(redis, settings).calendars.calendar(at)
    decision = route_call(tier, args.emergency, at, calendar, settings.queues)
    local = at.astimezone(calendar.tz)
    data = {
        "at": local.isoformat(),
        "tier": tier.value,
        "emergency": args.emergency,
        "route": decision.route.value,
        "queue": decision.queue or None,
        "priority": decision.priority if decision.queue else None,
        "open": calendar.is_open(tier, at),
        "next_open": calendar.next_opening(tier, at).isoformat(),
        "sla_due": calendar.sla_due(tier, at).isoformat(),
    }
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        for key, value in data.items():
            print(f"{key:>10}: {value}")
    return 0


async def _calendar(settings: Settings, args: argparse.Namespace) -> int:
    async with app.open_redis(settings) as redis:
        store = app.build_services(redis, settings).calendars
        if args.calendar_command in {"close", "open"}:
            kind = "closed" if args.calendar_command == "close" else "open"
            await store.set_day(args.date, kind, args.reason)
            print(f"{args.date.isoformat()} marked {kind}")
            return 0
        if args.calendar_command == "clear":
            if not await store.clear_day(args.date):
                print(f"ivr: no entry for {args.date.isoformat()}", file=sys.stderr)
                return 1
            print(f"{args.date.isoformat()} cleared")
            return 0
        entries = await store.entries()
    first = args.first or app.now_utc().astimezone(settings.timezone).date()
    last = first + dt.timedelta(days=args.days)
    rows = [(d, "holiday", name) for d, name in holidays_between(
        settings.holiday_country, settings.holiday_subdiv, first, last
    ).items()]  # fmt: skip
    rows += [(e.day, e.kind, e.reason) for e in entries if first <= e.day <= last]
    for day, kind, text in sorted(rows):
        print(f"{day.isoformat()}  {day:%a}  {kind:<8} {text}")
    if not rows:
        print(f"no holidays or entries from {first.isoformat()} to {last.isoformat()}")
    return 0


async def _oncall(settings: Settings, args: argparse.Namespace) -> int:
    try:
        if args.oncall_command == "set":
            text = await asyncio.to_thread(args.file.read_text, encoding="utf-8")
            rotation = rotation_from_dict(json.loads(text), default_tz=settings.timezone)
        elif args.oncall_command == "override" and args.override_command == "add":
            new_override = override_from_dict(
                {"start": args.start, "end": args.end, "name": args.name,
                 "dial": args.dial, "role": args.role}
            )  # fmt: skip
        at = parse_aware_time(args.at) if getattr(args, "at", None) else app.now_utc()
    except (OSError, ValueError, KeyError) as exc:
        print(f"ivr: {exc}", file=sys.stderr)
        return 1
    async with app.open_redis(settings) as redis:
        store = app.build_services(redis, settings).oncall
        if args.oncall_command == "set":
            await store.set_rotation(rotation)
            print(f"rotation set: {len(rotation.engineers)} engineers")
            return 0
        if args.oncall_command == "override":
            if args.override_command == "add":
                print(f"override {await store.add_override(new_override)} added")
                return 0
            if args.override_command == "remove":
                if not await store.remove_override(args.id):
                    print(f"ivr: no override {args.id}", file=sys.stderr)
                    return 1
                print(f"override {args.id} removed")
                return 0
            _, overrides = await store.state()
            for key, o in sorted(overrides.items(), key=lambda item: item[1].start):
                print(f"{key}  {o.start.isoformat()} .. {o.end.isoformat()}  {o.role.value:<9} "
                      f"{o.engineer.name} ({o.engineer.dial})")  # fmt: skip
            return 0
        chain = await store.chain(at)
    steps = [
        {"role": s.role.value, "name": s.engineer.name, "dial": s.engineer.dial,
         "timeout": s.timeout_seconds}
        for s in chain
    ]  # fmt: skip
    if args.json:
        print(json.dumps({"at": at.isoformat(), "chain": steps}, indent=2))
    elif not steps:
        print("nobody is on call: no rotation configured (after-hours calls go to the queue)")
    for step in [] if args.json else steps:
        print(f"{step['role']:<9} {step['name']} ({step['dial']}, {step['timeout']} s)")
    return 0


async def _report(settings: Settings, args: argparse.Namespace) -> int:
    from ivr.report_csv import tables_csv  # noqa: PLC0415
    from ivr.reports import series_tables  # noqa: PLC0415
    from ivr.store.report_data import report_series, support_report  # noqa: PLC0415

    if args.last < args.first:
        print("ivr: --to is before --from", file=sys.stderr)
        return 2
    now = app.now_utc()
    tz = settings.timezone
    async with app.open_redis(settings) as redis:
        report = await support_report(redis, tz, args.first, args.last, now)
        series = await report_series(redis, tz, args.first, args.last, args.day or args.last, now)
    tables = report.tables() + series_tables(series.hours, series.days)
    print(f"Report {args.first.isoformat()} to {args.last.isoformat()} ({tz.key})")
    for table in tables:
        title = table.title
        if table.name == "calls_per_hour":
            title += f" on {series.day.isoformat()}"
        print(f"\n{title}")
        widths = [len(c) for c in table.columns]
        for row in table.rows:
            widths = [max(w, len(str(cell))) for w, cell in zip(widths, row, strict=True)]
        for row in (table.columns, *table.rows):
            print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))
        if not table.rows:
            print("(none)")
    if args.csv is not None:
        text = tables_csv(tables)
        try:
            await asyncio.to_thread(args.csv.write_text, text, encoding="utf-8", newline="")
        except OSError as exc:
            print(f"ivr: cannot write {args.csv}: {exc}", file=sys.stderr)
            return 1
        print(f"\nCSV written to {args.csv}")
    return 0


async def _ticket_change(settings: Settings, args: argparse.Namespace) -> int:
    """``ivr tickets ack|resolve|redeliver|dead``."""
    from ivr.domain.ticket_events import Verdict  # noqa: PLC0415
    from ivr.store.outbox import dead_letters, redeliver  # noqa: PLC0415

    command = args.tickets_command
    if command in {"ack", "resolve"} and not args.by.strip():
        print("ivr: --by names who does it", file=sys.stderr)
        return 2
    async with app.open_redis(settings) as redis:
        store = app.build_services(redis, settings).tickets
        if command == "redeliver":
            print(f"{await redeliver(redis, args.ticket)} events back on the helpdesk outbox")
            return 0
        if command == "dead":
            for letter in await dead_letters(redis):
                print(f"{letter['ticket']}  {letter['kind']:<18} {letter['key']}  "
                      f"{letter['attempts']} attempts: {letter['error']}")  # fmt: skip
            return 0
        now = app.now_utc()
        if command == "ack":
            result = await store.acknowledge(args.number, args.by.strip(), now)
        else:
            result = await store.resolve(args.number, args.by.strip(), now, args.note)
    if result.verdict is Verdict.NOT_FOUND:
        print(f"ivr: no ticket {args.number}", file=sys.stderr)
        return 1
    status = result.ticket.status.value if result.ticket else ""
    if result.verdict is Verdict.REFUSED:
        verb = "acknowledged" if command == "ack" else "resolved"
        print(f"ivr: ticket {args.number} is {status}: it cannot be {verb}", file=sys.stderr)
        return 1
    done = "now" if result.verdict is Verdict.CHANGED else "already"
    print(f"ticket {args.number} {done} {status}")
    return 0


def ticket_json(ticket: Ticket) -> dict[str, object]:
    """A ticket as JSON-ready data (dates in ISO 8601)."""
    out: dict[str, object] = {}
    for key, value in dataclasses.asdict(ticket).items():
        out[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
