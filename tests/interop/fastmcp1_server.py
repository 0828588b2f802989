"""A test MCP server on FastMCP from the `mcp` 1.x Python SDK (session era only).

Used by crates/runway-verify/tests/interop.rs. Usage:
    python fastmcp1_server.py --port N
    python fastmcp1_server.py --stdio
"""

import argparse
import sys

from pydantic import BaseModel

from mcp.server.fastmcp import FastMCP


class Sum(BaseModel):
    sum: float


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--stdio", action="store_true")
    a = p.parse_args()
    mcp = FastMCP(name="interop-fastmcp1", host="127.0.0.1", port=a.port)

    @mcp.tool()
    def echo(message: str) -> str:
        """Echo the message back."""
        return message

    @mcp.tool()
    def add(a: float, b: float) -> Sum:
        """Add two numbers."""
        return Sum(sum=a + b)

    @mcp.tool()
    def fail() -> str:
        """Always fails."""
        raise ValueError("this tool always fails")

    @mcp.resource("interop://readme")
    def readme() -> str:
        """A static resource."""
        return "interop server"

    @mcp.prompt()
    def greet(name: str) -> str:
        """A prompt."""
        return f"Say hello to {name}"

    if a.stdio:
        mcp.run("stdio")
        return
    print(f"listening on http://127.0.0.1:{a.port}/mcp", file=sys.stderr, flush=True)
    mcp.run("streamable-http")


if __name__ == "__main__":
    main()
