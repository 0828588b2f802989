"""A test MCP server on the `mcp` 2.x Python SDK (dual era: 2026-07-28 and the session era).

Used by crates/runway-verify/tests/interop.rs. Usage:
    python mcp2_server.py --port N [--token-env VAR] [--stateless-http]
    python mcp2_server.py --stdio
"""

import argparse
import os
import sys

from pydantic import BaseModel

from mcp.server.mcpserver import MCPServer


class Sum(BaseModel):
    sum: float


def build(token: str | None, port: int) -> MCPServer:
    kwargs = {}
    if token:
        from mcp.server.auth.provider import AccessToken
        from mcp.server.auth.settings import AuthSettings

        class StaticVerifier:
            async def verify_token(self, presented: str) -> AccessToken | None:
                if presented == token:
                    return AccessToken(token=presented, client_id="interop", scopes=[])
                return None

        kwargs["token_verifier"] = StaticVerifier()
        kwargs["auth"] = AuthSettings(
            issuer_url="https://auth.example.test",
            resource_server_url=f"http://127.0.0.1:{port}/mcp",
            validate_token_resource=False,
        )
    mcp = MCPServer(name="interop-mcp2", version="2.0.0-interop", **kwargs)

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

    return mcp


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--token-env")
    p.add_argument("--stdio", action="store_true")
    p.add_argument("--stateless-http", action="store_true")
    a = p.parse_args()
    token = os.environ.get(a.token_env) if a.token_env else None
    server = build(token, a.port)
    if a.stdio:
        server.run("stdio")
        return
    print(f"listening on http://127.0.0.1:{a.port}/mcp", file=sys.stderr, flush=True)
    server.run("streamable-http", host="127.0.0.1", port=a.port, stateless_http=a.stateless_http)


if __name__ == "__main__":
    main()
