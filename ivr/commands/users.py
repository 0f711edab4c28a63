"""``ivr users``: dashboard accounts and API tokens from the command line."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TextIO

from ivr.commands.common import open_services
from ivr.config import Settings
from ivr.runtime.clock import now_utc
from ivr.store.accounts import Accounts, UserRole, check_name, check_password


def _read_password(stdin: TextIO) -> str:
    if stdin.isatty():
        return getpass.getpass("Password: ")
    return stdin.readline().rstrip("\r\n")


async def run(args: argparse.Namespace, settings: Settings, stdin: TextIO) -> int:
    """Run one ``ivr users`` command."""
    async with open_services(settings) as stores:
        accounts = Accounts(stores.redis)
        match args.users_command:
            case "add":
                try:
                    name = check_name(args.name)
                    password = check_password(_read_password(stdin))
                except ValueError as exc:
                    print(f"ivr: {exc}", file=sys.stderr)
                    return 1
                await accounts.add(name, UserRole(args.role), password, now_utc())
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
