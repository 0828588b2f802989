//! A reference MCP server with switches that inject each fault Runway's checks must catch.
