"""MCP servers as tools: the approval rule every MCP call goes through (`approval`), the hub that
runs local servers on one background thread (`hub`), and the bridge that offers their tools to a
model as function tools (`bridge`).

Importing this package is cheap: the `mcp` SDK is imported only when a server is first started.
"""

from __future__ import annotations

from .approval import APPROVE_CHOICES, Approve, ask, verdict

__all__ = ["APPROVE_CHOICES", "Approve", "ask", "verdict"]
