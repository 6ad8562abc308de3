"""Assistants API objects (v1 and v2) as the back-end-neutral records of `base`."""

from __future__ import annotations

import json
from typing import Any

from .base import AssistantRecord, MessageRecord, RunRecord, StepRecord, ThreadRecord, ToolCall, reason

__all__ = ["assistant_record", "thread_record", "message_record", "run_record", "step_record", "content_text"]


def assistant_record(raw: dict) -> AssistantRecord:
    return AssistantRecord(id=raw["id"], object="assistant", name=raw.get("name"), model=raw.get("model", ""),
                           instructions=raw.get("instructions"), tools=list(raw.get("tools") or []),
                           metadata=dict(raw.get("metadata") or {}), created_at=raw.get("created_at") or 0, raw=raw)


def thread_record(raw: dict) -> ThreadRecord:
    metadata = dict(raw.get("metadata") or {})
    return ThreadRecord(id=raw["id"], object="thread", title=metadata.get("title"), metadata=metadata,
                        created_at=raw.get("created_at") or 0, raw=raw)


def content_text(content: Any) -> tuple[str, list[dict]]:
    """Message content blocks flattened to text (images named), and their annotations."""
    if isinstance(content, str):
        return content, []
    texts, annotations = [], []
    for block in content or []:
        kind = block.get("type")
        if kind == "text":
            texts.append(block["text"].get("value", ""))
            annotations.extend(block["text"].get("annotations") or [])
        elif kind in ("image_file", "image_url"):
            ref = block.get(kind) or {}
            texts.append(f"[image {ref.get('file_id') or ref.get('url', '')}]")
        else:
            texts.append(f"[{kind}]")
    return "\n".join(texts), annotations


def message_record(raw: dict) -> MessageRecord:
    text, annotations = content_text(raw.get("content"))
    return MessageRecord(id=raw["id"], object="thread.message", thread_id=raw.get("thread_id", ""),
                         role=raw.get("role", ""), text=text, annotations=annotations, run_id=raw.get("run_id"),
                         created_at=raw.get("created_at"), raw=raw)


def _calls(raw: dict) -> list[ToolCall]:
    action = raw.get("required_action") or {}
    calls = (action.get("submit_tool_outputs") or {}).get("tool_calls") or []
    return [ToolCall(id=c["id"], name=c["function"]["name"], arguments=c["function"].get("arguments") or "{}")
            for c in calls if c.get("type", "function") == "function"]


def run_record(raw: dict) -> RunRecord:
    return RunRecord(id=raw["id"], object="thread.run", thread_id=raw.get("thread_id", ""),
                     assistant_id=raw.get("assistant_id"), status=raw.get("status", "queued"), model=raw.get("model"),
                     created_at=raw.get("created_at"), completed_at=raw.get("completed_at"),
                     error=reason(raw.get("status", ""), raw.get("last_error"), raw.get("incomplete_details")),
                     required_calls=_calls(raw), usage=raw.get("usage"), raw=raw)


def _step_summary(details: dict) -> str:
    if details.get("type") == "message_creation":
        return f"message {(details.get('message_creation') or {}).get('message_id', '')}"
    parts = []
    for call in details.get("tool_calls") or []:
        if call.get("type") == "function":
            function = call.get("function") or {}
            output = function.get("output")
            arrow = f" -> {str(output)[:80]}" if output is not None else ""
            parts.append(f"{function.get('name')}({_compact(function.get('arguments'))}){arrow}")
        else:
            parts.append(str(call.get("type")))
    return "; ".join(parts)


def _compact(arguments: Any) -> str:
    try:
        return json.dumps(json.loads(arguments or "{}"), separators=(",", ":"))
    except (TypeError, ValueError):
        return str(arguments)


def step_record(raw: dict) -> StepRecord:
    details = raw.get("step_details") or {}
    return StepRecord(id=raw["id"], object="thread.run.step", run_id=raw.get("run_id", ""),
                      type=raw.get("type") or details.get("type", ""), status=raw.get("status", ""),
                      summary=_step_summary(details), created_at=raw.get("created_at"),
                      completed_at=raw.get("completed_at"), raw=raw)
