"""Connecting from settings: local dev server, TLS, mTLS, Temporal Cloud API key."""

from __future__ import annotations

from pathlib import Path

from temporalio.service import TLSConfig

from core.settings import Settings
from temporal.client import tls_config, workflow_ui_url


def test_plain_by_default_and_tls_when_asked() -> None:
    assert tls_config(Settings()) is None  # the SDK then uses TLS exactly when an API key is set
    assert tls_config(Settings(temporal_tls=True)) is True


def test_mtls_reads_the_certificate_files(tmp_path: Path) -> None:
    for name in ("ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_bytes(f"-- {name} --".encode())
    config = tls_config(
        Settings(
            temporal_tls_ca=tmp_path / "ca.pem",
            temporal_tls_cert=tmp_path / "client.pem",
            temporal_tls_key=tmp_path / "client.key",
        )
    )
    assert isinstance(config, TLSConfig)
    assert config.server_root_ca_cert == b"-- ca.pem --"
    assert config.client_cert == b"-- client.pem --"
    assert config.client_private_key == b"-- client.key --"


def test_settings_come_from_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEMPORAL_ADDRESS", "ns.acct.tmprl.cloud:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "ns.acct")
    monkeypatch.setenv("TEMPORAL_API_KEY", "secret-key")
    monkeypatch.setenv("TEMPORAL_UI_URL", "https://cloud.temporal.io/")
    settings = Settings()
    assert settings.temporal_address == "ns.acct.tmprl.cloud:7233"
    assert "secret-key" not in repr(settings)
    assert workflow_ui_url(settings, "run-1") == (
        "https://cloud.temporal.io/namespaces/ns.acct/workflows/run-1"
    )
