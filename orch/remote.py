"""The commands that are API clients: `run`, `runs`, `cancel`, `approve`, `answer` and the config
commands (orch/config_cli.py). They go through the SDK (orch/client/) to ORCH_URL with
ORCH_TOKEN (default: what `orch up` wrote in .orch/), so they work the same against the local
stack and a deployment, and need no database and no Temporal address.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from core.errors import OrchError
from orch.config_cli import KINDS, config_command

COMMANDS = frozenset({"run", "runs", "cancel", "approve", "answer", *KINDS})


def connection_options() -> argparse.ArgumentParser:
    """`--url` and `--token`, taken before the command or after it."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--url",
        default=argparse.SUPPRESS,
        help="the API (default: ORCH_URL, else the URL `orch up` wrote in .orch/api-url, "
        "else http://localhost:8000)",
    )
    options.add_argument(
        "--token",
        default=argparse.SUPPRESS,
        help="a bearer token (default: ORCH_TOKEN, else the admin token in .orch/admin-token)",
    )
    return options


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    options = [connection_options()]
    run = sub.add_parser("run", parents=options, help="start a run of an agent and follow it")
    run.add_argument("agent")
    run.add_argument("input")
    run.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a variable for the agent's prompt template (repeatable)",
    )
    run.add_argument(
        "--interactive",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="ask approvals and questions at the prompt; Ctrl-C offers to cancel "
        "(default: when stdin is a terminal; else they are printed with the command that "
        "answers them)",
    )
    runs = sub.add_parser("runs", parents=options, help="list runs, newest first")
    runs.add_argument("--agent", help="only this agent's runs")
    runs.add_argument(
        "--status", help="running, completed, failed, cancelled, terminated or timed_out"
    )
    runs.add_argument("--limit", type=int, default=20, help="runs per page (1-200)")
    runs.add_argument("--page-token", help="the token printed after the previous page")
    cancel = sub.add_parser("cancel", parents=options, help="cancel a run")
    cancel.add_argument("run_id")
    approve = sub.add_parser(
        "approve", parents=options, help="approve (or --reject) a tool call waiting for approval"
    )
    approve.add_argument("run_id")
    approve.add_argument("call_id")
    approve.add_argument("--reject", action="store_true", help="reject the call instead")
    approve.add_argument("--reason", default="", help="why, told to the model (with --reject)")
    answer = sub.add_parser("answer", parents=options, help="answer a run's ask_user question")
    answer.add_argument("run_id")
    answer.add_argument("call_id")
    answer.add_argument("text")
    for word in KINDS:
        config = sub.add_parser(word, help=f"{word}: list, show, apply -f FILE, delete")
        actions = config.add_subparsers(dest="config_command", required=True)
        actions.add_parser("list", parents=options, help=f"every one of the {word}")
        show = actions.add_parser("show", parents=options, help="one, as JSON")
        show.add_argument("name")
        apply = actions.add_parser(
            "apply",
            parents=options,
            help="create or replace the ones FILE describes (YAML or JSON, one or a list)",
        )
        apply.add_argument("-f", "--file", type=Path, required=True)
        delete = actions.add_parser("delete", parents=options, help="delete one")
        delete.add_argument("name")


def describe(err: OrchError) -> str:
    """The one line `orch: ...` says for `err`: an API error as `STATUS CODE (FIELD): MESSAGE`
    (the field once, though the API's message may start with it too)."""
    from orch.client import OrchApiError

    if not isinstance(err, OrchApiError):
        return str(err)
    message = err.message
    if err.field and message.startswith(f"{err.field}: "):
        message = message[len(err.field) + 2 :]
    where = f" ({err.field})" if err.field else ""
    return f"{err.status} {err.code}{where}: {message}"


def _variable(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise OrchError(f"--var takes NAME=VALUE, not {text!r}", code="bad_argument")
    return name, value


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def run_command(args: argparse.Namespace) -> int:
    """Run an API client command; an OrchError (the SDK's included) is the caller's to print."""
    from orch.client import Orch

    url: str | None = getattr(args, "url", None)
    token: str | None = getattr(args, "token", None)
    command = args.command
    if command in ("run", "runs"):
        return asyncio.run(_async_command(args, url, token))
    with Orch(url, token) as orch:
        if command == "cancel":
            cancelled = orch.cancel(args.run_id)
            _say(f"run {cancelled.run_id}: {cancelled.status}")
        elif command == "approve":
            if args.reject:
                outcome = orch.reject(args.run_id, args.call_id, args.reason, by="orch approve")
            else:
                outcome = orch.approve(args.run_id, args.call_id, by="orch approve")
            _say(f"run {args.run_id}: {outcome.tool} call {outcome.call_id} {outcome.decision}")
        elif command == "answer":
            answered = orch.answer(args.run_id, args.text, call_id=args.call_id)
            _say(f"run {args.run_id}: answered {answered.question!r}")
        else:
            return config_command(orch, command, args)
    return 0


async def _async_command(args: argparse.Namespace, url: str | None, token: str | None) -> int:
    from orch.client import AsyncOrch
    from orch.follow import run_and_follow
    from orch.terminal import check_status, print_runs

    if args.command == "runs":
        check_status(args.status)  # before asking anyone
    else:
        variables = dict(_variable(text) for text in args.var)
    async with AsyncOrch(url, token) as orch:
        if args.command == "runs":
            return await print_runs(
                orch,
                agent=args.agent,
                status=args.status,
                limit=args.limit,
                page_token=args.page_token,
            )
        interactive = sys.stdin.isatty() if args.interactive is None else args.interactive
        return await run_and_follow(
            orch, args.agent, args.input, variables, interactive=interactive
        )
