"""`orch`: the command line. API clients (run, runs, cancel, approve, answer, agents, tools,
providers, routes: orch/remote.py) and the commands that run or change the stack itself (up,
worker, api, db, prune, seed, token, replay, openapi). docs/cli.md has them all."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from pydantic import ValidationError

from core.errors import OrchError
from core.logs import configure_logging
from core.settings import Settings, get_settings
from orch import remote
from workflows.kinds import TOKEN_SCOPES

DEFAULT_SEED = Path("examples/config.yaml")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orch", description=__doc__, parents=[remote.connection_options()]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="dev server + migrations + example config + worker + API")
    up.add_argument(
        "--seed", type=Path, default=DEFAULT_SEED, help="config loaded into an empty DB"
    )
    sub.add_parser("worker", help="run a worker against TEMPORAL_ADDRESS")
    sub.add_parser("api", help="serve the HTTP API on API_HOST:API_PORT")
    db = sub.add_parser("db", help="database migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate to the newest schema")
    down = db_sub.add_parser("downgrade", help="migrate back to a revision")
    down.add_argument("revision")
    db_sub.add_parser("check", help="fail when the models and the migrations disagree")
    sub.add_parser("prune", help="delete effect records older than EFFECTS_RETENTION_DAYS (once)")
    seed = sub.add_parser("seed", help="load providers, tools, agents and routes from YAML")
    seed.add_argument("file", type=Path)
    seed.add_argument(
        "--if-empty",
        action="store_true",
        help="load it only into a database with no provider, tool, agent or route yet "
        "(what a deployment's migrate step runs: edits made since are kept)",
    )
    token = sub.add_parser("token", help="API tokens, in the database of DATABASE_URL")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="make a token; prints it, this once")
    create.add_argument("name", help="what it is for, e.g. ci")
    create.add_argument("--scope", choices=TOKEN_SCOPES, required=True)
    token_sub.add_parser("list", help="every token (never their secrets)")
    revoke = token_sub.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("id")
    token_sub.add_parser("local", help="print the local admin token `orch up` made")
    remote.add_commands(sub)
    openapi = sub.add_parser(
        "openapi", help="write the API's OpenAPI document (no database or Temporal needed)"
    )
    openapi.add_argument(
        "--out", type=Path, help="the file to write, e.g. web/openapi.json (default: stdout)"
    )
    replay = sub.add_parser("replay", help="replay an exported history against this code")
    replay.add_argument("file", type=Path, help="from `temporal workflow show --output json`")
    return parser


# Commands that use the config store as it is (`up` migrates it itself; `db` changes it).
_NEEDS_CURRENT_SCHEMA = ("worker", "api", "seed", "token", "prune")


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from orch import serve

    command = args.command
    if command == "token" and args.token_command == "local":
        return _local_token(settings)
    if command in _NEEDS_CURRENT_SCHEMA:
        from config_store.migrate import require_current

        require_current(settings.database_url)
    if command == "up":
        seed = args.seed if args.seed.exists() else None
        if seed is None:
            _print(f"no {args.seed} here: starting without example configuration")
        asyncio.run(serve.run_up(settings, seed))
    elif command == "worker":
        asyncio.run(serve.run_worker(settings))
    elif command == "api":
        asyncio.run(serve.run_api(settings))
    elif command == "db":
        from config_store import migrate

        if args.db_command == "upgrade":
            migrate.upgrade(settings.database_url)
        elif args.db_command == "downgrade":
            try:
                migrate.downgrade(settings.database_url, args.revision)
            except RuntimeError as err:  # a migration that refuses to go back, and says why
                raise OrchError(str(err), code="downgrade_refused") from None
        else:
            migrate.check(settings.database_url)
        _print(f"db {args.db_command}: ok")
    elif command == "seed":
        return _seed(args.file, settings, if_empty=args.if_empty)
    elif command == "token":
        from orch.tokens import token_command

        return token_command(args, settings)
    elif command == "replay":
        return _replay(args.file)
    elif command == "openapi":
        return _openapi(args.out, settings)
    elif command == "prune":
        return _prune(settings)
    return 0


def _seed(path: Path, settings: Settings, *, if_empty: bool = False) -> int:
    from config_store.db import make_engine, make_session_factory
    from services.seed import is_empty, load_config_file, read_config_file

    engine = make_engine(settings.database_url)
    try:
        factory = make_session_factory(engine)
        if if_empty and not is_empty(factory):
            read_config_file(path)  # a wrong path or a broken file still fails the step
            _print(f"not seeded {path}: the database already has configuration (--if-empty)")
            return 0
        report = load_config_file(factory, path)
    finally:
        engine.dispose()
    _print(f"seeded {path}: {json.dumps(asdict(report))}")
    return 0


def _local_token(settings: Settings) -> int:
    from services.local_token import read_local_token

    token = read_local_token(settings.local_token_file)
    if token is None:
        sys.stderr.write(
            f"orch: no local admin token in {settings.local_token_file}: `orch up` makes one "
            "on its first start (when ORCH_ADMIN_TOKEN is not set)\n"
        )
        return 1
    _print(token)
    return 0


def _prune(settings: Settings) -> int:
    from config_store.db import make_engine, make_session_factory
    from services.prune import prune_effects, retention

    keep = retention(settings)
    if keep is None:
        _print("prune: EFFECTS_RETENTION_DAYS is 0, nothing is pruned")
        return 0
    engine = make_engine(settings.database_url)
    try:
        pruned = prune_effects(make_session_factory(engine), settings.workspace_dir.resolve(), keep)
    finally:
        engine.dispose()
    _print(
        f"prune: {pruned.calls} call ledger rows and {pruned.writes} write_file records "
        f"older than {settings.effects_retention_days} days deleted"
    )
    return 0


def _openapi(out: Path | None, settings: Settings) -> int:
    """The document the web app's typed client is generated from (web/, `npm run gen:api`).
    Building the app opens nothing: the database and Temporal are only reached in its lifespan,
    which this never enters."""
    from api.app import create_app

    text = json.dumps(create_app(settings).openapi(), indent=2, sort_keys=True) + "\n"
    if out is None:
        sys.stdout.write(text)
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(out)  # whole or not at all: make compares its time with the API's sources
    return 0


def _replay(path: Path) -> int:
    from temporal.replay import replay_file

    report = asyncio.run(replay_file(path))
    if report.ok:
        _print(f"replay ok: {path} ({report.events} events) matches the current workflow code")
        return 0
    _print(f"replay FAILED: {path} does not match the current workflow code: {report.error}")
    return 1


def _print(line: str) -> None:
    sys.stdout.write(line + "\n")


# The long-running processes: they also log to LOG_FILE. The other commands log to the
# console only (no file made for a one-off command).
_LOGS_TO_FILE = frozenset({"up", "worker", "api"})


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']).upper()}: {e['msg']}" for e in err.errors()
        )
        raise OrchError(f"invalid settings: {problems}", code="invalid_settings") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = _settings()
        configure_logging(settings, to_file=args.command in _LOGS_TO_FILE)
        if args.command in remote.COMMANDS:  # an API client: no database, no Temporal
            if settings.log_level != "DEBUG":
                logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
            return remote.run_command(args)
        return _run(args, settings)
    except OrchError as err:
        sys.stderr.write(f"orch: {remote.describe(err)}\n")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
