"""A small MCP server for tests, written with the `mcp` SDK (MCPServer, formerly FastMCP).

    python -m tests.fakes.mcp_server stdio
    python -m tests.fakes.mcp_server http --port 8123     # streamable HTTP at /mcp

Its tools let a test prove what it needs to:
- `add(a, b)` and `echo(text)`: plain results;
- `fail(reason)`: a tool error (`isError`), which the model should see;
- `pid()`: the server's process id, so two calls answered by one process show a reused session;
- `env_token()`: whether `FAKE_MCP_TOKEN` reached the server, masked (its length and last 2
  characters), so a `${VAR}` in the server's `env` can be checked without echoing a secret;
- `auth_header()`: the same masked proof for the `Authorization` header of an HTTP request;
- `structured()`: a result with structured content only alongside a short text;
- `slow(seconds)`: sleeps, for timeouts.
With `--extra-tool`, it also offers `extra()`: a test restarts it without the flag to play a
server whose tool went away.

`stdio_settings()` gives the settings of an MCP server registration that runs it, and
`HttpMcpProcess` runs it over streamable HTTP as a subprocess on a free port.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

TOKEN_VAR = "FAKE_MCP_TOKEN"
ROOT = Path(__file__).resolve().parents[2]  # so that `-m tests.fakes.mcp_server` imports


def stdio_settings(*, extra_tool: bool = False) -> dict[str, Any]:
    """The settings of a stdio MCP server registration (`McpServerIn`) that runs this one."""
    args = ["-m", "tests.fakes.mcp_server", "stdio"] + (["--extra-tool"] if extra_tool else [])
    return {
        "transport": "stdio",
        "command": sys.executable,
        "args": args,
        "env": {"PYTHONPATH": str(ROOT)},
        "timeout_s": 20.0,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class HttpMcpProcess:
    """This server over streamable HTTP, in a subprocess: `start()`, `stop()`, `start()` again
    on the same port to play a server that restarted."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        command = [sys.executable, "-m", "tests.fakes.mcp_server", "http", "--port", str(self.port)]
        self._process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the MCP test server exited with {self._process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the MCP test server did not listen on {self.port}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None


def _mask(value: str | None) -> str:
    if not value:
        return "missing"
    return f"len={len(value)} tail={value[-2:]}"


def build_server(*, extra_tool: bool = False) -> MCPServer:
    server = MCPServer("fake-mcp")

    @server.tool(description="Add two integers.")
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool(description="Return the text as it is.")
    def echo(text: str) -> str:
        return text

    @server.tool(description="Always fails, with the reason given.")
    def fail(reason: str = "it broke") -> str:
        raise ToolError(f"failed on purpose: {reason}")

    @server.tool(description="The server's process id.")
    def pid() -> int:
        return os.getpid()

    @server.tool(description="Masked proof that FAKE_MCP_TOKEN reached the server.")
    def env_token() -> str:
        return _mask(os.environ.get(TOKEN_VAR))

    @server.tool(description="Masked proof of the Authorization header of this request.")
    def auth_header(ctx: Context) -> str:
        headers = ctx.headers
        return _mask(headers.get("authorization") if headers is not None else None)

    @server.tool(description="A structured result.")
    def structured() -> dict[str, Any]:
        return {"city": "Paris", "temperature_c": 21}

    @server.tool(description="Sleep, then answer.")
    async def slow(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "done"

    if extra_tool:

        @server.tool(name="extra", description="Only offered with --extra-tool.")
        def extra() -> str:
            return "extra"

    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.mcp_server")
    parser.add_argument("transport", choices=("stdio", "http"))
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--extra-tool", action="store_true")
    args = parser.parse_args(argv)
    server = build_server(extra_tool=args.extra_tool)
    if args.transport == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
