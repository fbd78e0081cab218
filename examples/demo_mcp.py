"""A tiny MCP server that ships with orch, so the example configuration shows MCP tools offline.

    python -m examples.demo_mcp          # speaks MCP over stdio

Registered in examples/config.yaml as the `text` server (`command: python`, which runs the
worker's own interpreter): its tools become `text__word_count` and `text__slugify`.
"""

from __future__ import annotations

import re
import unicodedata

from mcp.server.mcpserver import MCPServer


def build_server() -> MCPServer:
    server = MCPServer("orch-demo-text")

    @server.tool(description="Count the words, lines and characters of a text.")
    def word_count(text: str) -> str:
        return f"{len(text.split())} words, {len(text.splitlines())} lines, {len(text)} characters"

    @server.tool(description="Turn a title into a lower-case, dash-separated slug for a URL.")
    def slugify(title: str) -> str:
        ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")

    return server


def main() -> None:
    build_server().run("stdio")


if __name__ == "__main__":
    main()
