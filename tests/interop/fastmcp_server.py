"""A test MCP server on fastmcp 4.x (dual era: 2026-07-28 and the session era).

Used by crates/runway-verify/tests/interop_fastmcp.rs. Usage:
    python fastmcp_server.py --port N
    python fastmcp_server.py --stdio
"""

import argparse

from fastmcp import FastMCP

mcp = FastMCP("interop-fastmcp")


@mcp.tool
def echo(message: str) -> str:
    """Echo a message back."""
    return message


@mcp.tool
def add(a: float, b: float) -> dict:
    """Add two numbers."""
    return {"sum": a + b}


@mcp.resource("data://greeting")
def greeting() -> str:
    """A greeting."""
    return "hello"


@mcp.prompt
def hello() -> str:
    """Ask for a greeting (no arguments)."""
    return "Say hello."


@mcp.prompt
def summarize(text: str) -> str:
    """Summarize a text (a required argument Runway does not invent)."""
    return f"Summarize: {text}"


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int)
    p.add_argument("--stdio", action="store_true")
    a = p.parse_args()
    if a.stdio:
        mcp.run(show_banner=False)
    else:
        mcp.run(transport="http", host="127.0.0.1", port=a.port, show_banner=False)
