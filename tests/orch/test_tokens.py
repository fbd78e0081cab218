"""`orch token` and the local admin token of `orch up`, on a migrated database."""

from __future__ import annotations

import os
from pathlib import Path

from config_store.db import make_engine, make_session_factory
from config_store.tokens import find_active, revoke_token, token_id
from core.settings import Settings
from services.local_token import ensure_local_admin
from tests.support.cli import orch


def cli_env(sqlite_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ORCH_ADMIN_TOKEN"}
    return {
        **env,
        "DATABASE_URL": sqlite_url,
        "LOCAL_TOKEN_FILE": str(tmp_path / "local" / "admin-token"),
    }


def test_create_list_revoke(sqlite_url: str, tmp_path: Path) -> None:
    env = cli_env(sqlite_url, tmp_path)
    made = orch(env, "token", "create", "ci", "--scope", "run")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    public = token_id(token)
    assert public is not None and f"made token {public} (ci, scope run)" in made.stderr

    listed = orch(env, "token", "list")
    assert listed.returncode == 0 and public in listed.stdout and " run " in listed.stdout
    assert token not in listed.stdout

    revoked = orch(env, "token", "revoke", public)
    assert revoked.returncode == 0 and f"revoked token {public}" in revoked.stdout
    engine = make_engine(sqlite_url)
    try:
        with make_session_factory(engine)() as session:
            assert find_active(session, token) is None
    finally:
        engine.dispose()

    missing = orch(env, "token", "revoke", "0000000000")
    assert missing.returncode == 2 and "no token '0000000000'" in missing.stderr
    bad = orch(env, "token", "create", "ci", "--scope", "root")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_token_local_prints_the_file_or_says_there_is_none(sqlite_url: str, tmp_path: Path) -> None:
    env = cli_env(sqlite_url, tmp_path)
    none = orch(env, "token", "local")
    assert none.returncode == 1 and "no local admin token" in none.stderr
    engine = make_engine(sqlite_url)
    try:
        token, made = ensure_local_admin(
            make_session_factory(engine), Path(env["LOCAL_TOKEN_FILE"])
        )
    finally:
        engine.dispose()
    assert made
    shown = orch(env, "token", "local")
    assert (shown.returncode, shown.stdout.strip()) == (0, token)


def test_the_local_admin_token_is_kept_private_reused_and_remade(
    sqlite_url: str, tmp_path: Path
) -> None:
    path = Settings(local_token_file=tmp_path / "o" / "admin-token").local_token_file
    engine = make_engine(sqlite_url)
    factory = make_session_factory(engine)
    try:
        first, made = ensure_local_admin(factory, path)
        assert made and path.read_text().strip() == first
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.parent.stat().st_mode & 0o777 == 0o700
        with factory() as session:
            row = find_active(session, first)
            assert row is not None and (row.name, row.scope) == ("local-admin", "admin")

        path.chmod(0o644)
        again, made = ensure_local_admin(factory, path)
        assert (again, made) == (first, False)
        assert path.stat().st_mode & 0o777 == 0o600

        with factory() as session:  # revoked (or a fresh database): a new one replaces it
            public = token_id(first)
            assert public is not None
            revoke_token(session, public)
            session.commit()
        third, made = ensure_local_admin(factory, path)
        assert made and third != first and path.read_text().strip() == third
        assert list(path.parent.iterdir()) == [path]  # no partial file left behind
    finally:
        engine.dispose()
