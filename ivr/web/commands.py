"""``ivr users``: dashboard accounts and API tokens from the command line."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from ivr import app
from ivr.config import Settings
from ivr.web.accounts import Accounts, Role, check_name, check_password


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``users`` sub-commands."""
    users = sub.add_parser("users", help="dashboard accounts and API tokens")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="create or replace an account (password from stdin)")
    add.add_argument("name")
    add.add_argument("--role", choices=[r.value for r in Role], required=True)
    token = users_sub.add_parser("token", help="print a new API token for an account")
    token.add_argument("name")
    users_sub.add_parser("list", help="every account and its role")
    remove = users_sub.add_parser("remove", help="delete an account, its sessions and tokens")
    remove.add_argument("name")


def _read_password(stdin: TextIO) -> str:
    if stdin.isatty():
        import getpass  # noqa: PLC0415

        return getpass.getpass("Password: ")
    return stdin.readline().rstrip("\r\n")


async def run(settings: Settings, args: argparse.Namespace, stdin: TextIO) -> int:
    """Run one ``ivr users`` command."""
    async with app.open_redis(settings) as redis:
        accounts = Accounts(redis)
        match args.users_command:
            case "add":
                try:
                    name = check_name(args.name)
                    password = check_password(_read_password(stdin))
                except ValueError as exc:
                    print(f"ivr: {exc}", file=sys.stderr)
                    return 1
                await accounts.add(name, Role(args.role), password, app.now_utc())
                print(f"account {name} saved ({args.role})")
            case "token":
                try:
                    print(await accounts.new_token(args.name))
                except ValueError as exc:
                    print(f"ivr: {exc}", file=sys.stderr)
                    return 1
            case "list":
                for account in await accounts.list():
                    print(f"{account.name}\t{account.role.value}")
            case "remove":
                if not await accounts.remove(args.name):
                    print(f"ivr: no account {args.name}", file=sys.stderr)
                    return 1
                print(f"account {args.name} removed")
    return 0
