"""`orch token create|list|revoke`: API tokens, straight in the database of DATABASE_URL.

Whoever can reach the database is already an administrator, so these need no token: they are
how the first token of a deployment is made when ORCH_ADMIN_TOKEN is not used.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from config_store.db import make_engine, make_session_factory
from config_store.tokens import create_token, list_tokens, revoke_token
from core.settings import Settings


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def token_command(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            if args.token_command == "create":
                made = create_token(session, args.name, args.scope)
                session.commit()
                sys.stderr.write(
                    f"made token {made.row.id} ({made.row.name}, scope {made.row.scope}); "
                    "it is shown this once:\n"
                )
                sys.stdout.write(made.token + "\n")
            elif args.token_command == "list":
                rows = list_tokens(session)
                sys.stdout.write(
                    f"{'ID':<12} {'NAME':<20} {'SCOPE':<6} {'CREATED':<17} "
                    f"{'LAST USED':<17} REVOKED\n"
                )
                for row in rows:
                    sys.stdout.write(
                        f"{row.id:<12} {row.name:<20} {row.scope:<6} {_when(row.created_at):<17} "
                        f"{_when(row.last_used_at):<17} {_when(row.revoked_at)}\n"
                    )
            else:
                row = revoke_token(session, args.id)
                session.commit()
                sys.stdout.write(f"revoked token {row.id} ({row.name})\n")
    finally:
        engine.dispose()
    return 0
