"""A Python `mcp` SDK client for `runway mcp` (crates/runway/tests/mcp_clients.rs).

    python mcp_client.py NAME stdio COMMAND [ARGS...]
    python mcp_client.py NAME http URL          (bearer token from RUNWAY_MCP_CLIENT_TOKEN)

Connects as client NAME, lists the tools, calls `incident_list`, reads
`runway://config`, and when the writing tools are listed opens an incident in
two steps (`incident_open_plan`, then `incident_open` with its plan id, then
the same plan id again). Prints one JSON object with what it saw.

With RUNWAY_MCP_CLIENT_CALLS='[["tool", {args}], ...]' it only makes those
calls and prints {"calls": [{"is_error": ..., "structured": ..., "text": ...,
"progress": [messages]}]} (an argument "$plan" is the latest plan id returned);
with RUNWAY_MCP_CLIENT_SWEEP=1 it then reads every resource and gets every
prompt too, under "resources" and "prompts" (errors as their text).
"""

import asyncio
import json
import os
import sys

from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp_types import Implementation


def text_of(result):
    return "\n".join(getattr(c, "text", "") for c in result.content)


async def main() -> None:
    name, transport, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    if transport == "stdio":
        env = {k: v for k, v in os.environ.items() if k.startswith(("RUNWAY_", "PATH", "HOME"))}
        server = StdioServerParameters(command=rest[0], args=rest[1:], env=env)
    elif transport == "http":
        token = os.environ["RUNWAY_MCP_CLIENT_TOKEN"]
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        server = streamable_http_client(rest[0], http_client=http)
    else:
        raise SystemExit(f"unknown transport {transport!r}: use stdio or http")

    out = {}
    calls = json.loads(os.environ.get("RUNWAY_MCP_CLIENT_CALLS", "null"))
    async with Client(server, client_info=Implementation(name=name, version="1.0.0")) as c:
        if calls is not None:
            out["calls"] = []
            last_plan = None
            for tool, args in calls:
                # "$plan" stands for the plan id the latest call returned.
                args = {k: (last_plan if v == "$plan" else v) for k, v in args.items()}
                progress = []

                async def on_progress(done, total, message, progress=progress):
                    progress.append(message)

                try:
                    r = await c.call_tool(tool, args, progress_callback=on_progress)
                    structured = r.structured_content
                    if isinstance(structured, dict) and structured.get("plan_id"):
                        last_plan = structured["plan_id"]
                    out["calls"].append(
                        {"is_error": r.is_error, "structured": structured, "text": text_of(r), "progress": progress}
                    )
                except Exception as e:  # a protocol error: keep its text
                    out["calls"].append({"is_error": True, "structured": None, "text": repr(e), "progress": progress})
            if os.environ.get("RUNWAY_MCP_CLIENT_SWEEP") == "1":
                out["resources"] = {}
                for res in (await c.list_resources()).resources:
                    try:
                        read = await c.read_resource(str(res.uri))
                        out["resources"][str(res.uri)] = [getattr(x, "text", "") for x in read.contents]
                    except Exception as e:
                        out["resources"][str(res.uri)] = repr(e)
                out["prompts"] = {}
                for prompt in (await c.list_prompts()).prompts:
                    try:
                        got = await c.get_prompt(prompt.name, {"incident": "inc-none"})
                        out["prompts"][prompt.name] = [m.model_dump(mode="json") for m in got.messages]
                    except Exception as e:
                        out["prompts"][prompt.name] = repr(e)
            print(json.dumps(out))
            return
        tools = await c.list_tools()
        out["tools"] = [t.name for t in tools.tools]
        out["output_schemas"] = [t.name for t in tools.tools if t.output_schema]
        listed = await c.call_tool("incident_list", {"all": True})
        out["incident_list"] = {"is_error": listed.is_error, "structured": listed.structured_content}
        config = await c.read_resource("runway://config")
        out["config"] = "".join(getattr(x, "text", "") for x in config.contents)
        if "incident_open" in out["tools"]:
            args = {"severity": "P2", "title": f"opened by {name}"}
            plan = await c.call_tool("incident_open_plan", args)
            out["plan"] = plan.structured_content
            write_args = dict(args, plan_id=plan.structured_content["plan_id"])
            opened = await c.call_tool("incident_open", write_args)
            out["opened"] = {"is_error": opened.is_error, "structured": opened.structured_content}
            again = await c.call_tool("incident_open", write_args)
            out["reused"] = {"is_error": again.is_error, "text": text_of(again)}
    print(json.dumps(out))


asyncio.run(main())
