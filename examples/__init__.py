"""Examples that ship with orch: the example configuration and the tiny MCP server it uses."""
