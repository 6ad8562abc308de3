"""What a sandbox response says: its output items, status and usage, decided from the request.

The same deterministic rules as the sandbox's chat: after `function_call_output` items the reply
reports what the tools returned; with function tools (and a `tool_choice` that allows them) the
reply is one function call whose arguments are built from the tool's JSON schema; `text.format`
`json_object` / `json_schema` gives JSON; otherwise a short text about the prompt.
`max_output_tokens` cuts the text and makes the response `incomplete`. What `mcp` tools did (listed,
called, asked to approve) is decided before, in `response_mcp`, and comes first in the output.

Request checks that belong to these rules (tools, tool_choice, text.format) live here too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import textgen
from .errors import ApiError, invalid
from .items import function_call, message, output_text_part, text_of
from .mcp_items import check_mcp_tool, echo
from .response_mcp import McpStep
from .response_parts import seen_parts
from .structured import check_strict, schema_reply

__all__ = ["Outcome", "check_tools", "check_tool_choice", "check_text", "generate"]

# Every tool type of the spec's `Tool` that is not a plain function: the sandbox cannot run them.
BUILT_IN_TOOLS = ("file_search", "computer", "computer_use_preview", "web_search", "web_search_preview",
                  "web_search_2025_08_26", "web_search_preview_2025_03_11", "code_interpreter",
                  "image_generation", "local_shell", "shell", "custom", "namespace", "tool_search", "apply_patch",
                  "programmatic_tool_calling")
TOOL_CHOICE_OPTIONS = ("none", "auto", "required")


@dataclass
class Outcome:
    output: list[dict]
    status: str  # completed or incomplete
    incomplete_details: dict | None
    usage: dict


def check_tools(tools: Any) -> list[dict]:
    """Function and `mcp` tools, echoed as the API echoes them (`strict` defaults to true); other
    built-ins refused."""
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise invalid("Invalid type for 'tools': expected an array.", param="tools")
    checked = []
    for index, tool in enumerate(tools):
        kind = tool.get("type") if isinstance(tool, dict) else None
        param = f"tools[{index}]"
        if kind == "mcp":
            assert isinstance(tool, dict)
            checked.append(echo(tool, check_mcp_tool(tool, param)))
            continue
        if kind in BUILT_IN_TOOLS:
            raise ApiError(400, f"The oai_magics sandbox cannot run the built-in tool '{kind}'; it answers "
                                "function tools and 'mcp' tools only.", param=f"{param}.type", code="unsupported_value")
        if kind != "function":
            raise invalid(f"Invalid value: '{kind}'. Supported values are: 'function' and the built-in tool types.",
                          param=f"{param}.type", code="invalid_value")
        assert isinstance(tool, dict)
        if "function" in tool and "name" not in tool:
            raise invalid(f"Missing required parameter: '{param}.name'. (Responses tools are flat: "
                          "{type, name, parameters}, not nested under 'function' as in chat.)",
                          param=f"{param}.name", code="missing_required_parameter")
        if not isinstance(tool.get("name"), str) or not tool["name"]:
            raise invalid(f"Missing required parameter: '{param}.name'.", param=f"{param}.name",
                          code="missing_required_parameter")
        parameters = tool.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise invalid(f"Invalid type for '{param}.parameters': expected an object.", param=f"{param}.parameters")
        checked.append({"type": "function", "name": tool["name"], "description": tool.get("description"),
                        "parameters": parameters, "strict": tool.get("strict", True)})
    return checked


def check_tool_choice(choice: Any, tools: list[dict]) -> Any:
    """`none` / `auto` / `required`, a named function or MCP server, or `allowed_tools`; the API's 400 otherwise."""
    if choice is None:
        return "auto"
    if isinstance(choice, str):
        if choice not in TOOL_CHOICE_OPTIONS:
            raise invalid(f"Invalid value: '{choice}'. Supported values are: 'none', 'auto' and 'required'.",
                          param="tool_choice", code="invalid_value")
        if choice == "required" and not tools:
            raise invalid("Tool choice 'required' must be specified with 'tools' parameter.", param="tool_choice")
        return choice
    kind = choice.get("type") if isinstance(choice, dict) else None
    names = {tool["name"] for tool in tools if tool["type"] == "function"}
    if kind == "mcp":
        assert isinstance(choice, dict)
        if choice.get("server_label") not in {tool["server_label"] for tool in tools if tool["type"] == "mcp"}:
            raise invalid(f"Tool choice MCP server '{choice.get('server_label')}' not found in 'tools' parameter.",
                          param="tool_choice")
        return {"type": "mcp", "server_label": choice["server_label"], "name": choice.get("name")}
    if kind == "function":
        if choice.get("name") not in names:
            raise invalid(f"Tool choice '{choice.get('name')}' not found in 'tools' parameter.", param="tool_choice")
        return {"type": "function", "name": choice["name"]}
    if kind == "allowed_tools":
        assert isinstance(choice, dict)
        allowed = [t.get("name") for t in choice.get("tools") or [] if isinstance(t, dict)]
        if not allowed or any(name not in names for name in allowed):
            raise invalid("Invalid 'tool_choice.tools': every allowed tool must be a function in 'tools'.",
                          param="tool_choice.tools")
        return {"type": "allowed_tools", "mode": choice.get("mode", "auto"),
                "tools": [{"type": "function", "name": name} for name in allowed]}
    raise invalid(f"Invalid value for 'tool_choice': the sandbox supports 'none', 'auto', 'required', "
                  f"a function, an MCP server and 'allowed_tools', not '{kind}'.", param="tool_choice", code="invalid_value")


def check_text(text: Any) -> dict:
    """The `text` parameter with its format checked; `{"format": {"type": "text"}}` by default."""
    if text is None:
        return {"format": {"type": "text"}, "verbosity": "medium"}
    if not isinstance(text, dict):
        raise invalid("Invalid type for 'text': expected an object.", param="text")
    fmt = text.get("format") or {"type": "text"}
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind not in ("text", "json_object", "json_schema"):
        raise invalid(f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object' and 'json_schema'.",
                      param="text.format.type", code="invalid_value")
    if kind == "json_schema":
        for name in ("name", "schema"):
            if not fmt.get(name):
                raise invalid(f"Missing required parameter: 'text.format.{name}'.", param=f"text.format.{name}",
                              code="missing_required_parameter")
        if not isinstance(fmt["schema"], dict):
            raise invalid("Invalid type for 'text.format.schema': expected an object.", param="text.format.schema",
                          code="invalid_type")
        if fmt.get("strict") is True:
            check_strict(str(fmt["name"]), fmt["schema"], "text.format.schema")
    return {"format": fmt, "verbosity": text.get("verbosity") or "medium"}


def generate(context: list[dict], tools: list[dict], tool_choice: Any, text: dict,
             instructions: str | None, max_output_tokens: int | None, mcp: McpStep | None = None) -> Outcome:
    """The output for a request whose whole context (earlier items, then the new input) is given,
    after what its `mcp` tools did."""
    mcp = mcp or McpStep()
    prompt = next((text_of(item) for item in reversed(context) if item.get("role") == "user"), "")
    input_tokens = textgen.count_tokens(instructions or "") + sum(_tokens(item) for item in context)
    fmt = text["format"]
    if fmt["type"] == "json_object" and "json" not in (" ".join(map(text_of, context)) + (instructions or "")).lower():
        raise invalid("Response input messages must contain the word 'json' in some form to use 'text.format' of "
                      "type 'json_object'.", param="input")
    call = None if _answers_tools(context) or mcp.waiting or mcp.results else _call_for(tools, tool_choice, prompt)
    if call is not None:
        return Outcome(mcp.items + [call], "completed", None, _usage(input_tokens, textgen.count_tokens(call["arguments"])))
    if mcp.waiting:  # the response ends at the approval request: the next one carries the answer
        asked = sum(textgen.count_tokens(item["arguments"]) for item in mcp.items if "arguments" in item)
        return Outcome(mcp.items, "completed", None, _usage(input_tokens, asked))
    if mcp.results:
        reply = textgen.tool_results_text(mcp.results)
    elif _answers_tools(context):
        reply = textgen.tool_results_text(_tool_results(context))
    elif fmt["type"] == "json_object":
        reply = textgen.json_reply(prompt)
    elif fmt["type"] == "json_schema":
        reply = schema_reply(fmt["schema"], prompt)
    else:
        reply = textgen.reply_text(prompt) + seen_parts(context)
    pieces = textgen.tokens(reply)
    cut = max_output_tokens is not None and len(pieces) > max_output_tokens
    if cut:
        reply = "".join(pieces[:max_output_tokens])
    status = "incomplete" if cut else "completed"
    item = message("assistant", [output_text_part(reply)], status=status)
    details = {"reason": "max_output_tokens"} if cut else None
    return Outcome(mcp.items + [item], status, details, _usage(input_tokens, textgen.count_tokens(reply)))


def _answers_tools(context: list[dict]) -> bool:
    return bool(context) and context[-1].get("type") == "function_call_output"


def _tool_results(context: list[dict]) -> list[tuple[str, str]]:
    """(tool name, output) for the trailing function_call_output items, in order."""
    names = {item.get("call_id"): item.get("name") for item in context if item.get("type") == "function_call"}
    results = []
    for item in reversed(context):
        if item.get("type") != "function_call_output":
            break
        output = item["output"]
        shown = output if isinstance(output, str) else " ".join(str(p.get("text", "")) for p in output if isinstance(p, dict))
        results.append((names.get(item["call_id"]) or "tool", shown))
    return list(reversed(results))


def _call_for(tools: list[dict], tool_choice: Any, prompt: str) -> dict | None:
    """The function call the sandbox makes, if the request offers function tools and allows it."""
    tools = [tool for tool in tools if tool["type"] == "function"]
    if not tools or tool_choice == "none" or isinstance(tool_choice, dict) and tool_choice["type"] == "mcp":
        return None
    candidates = tools
    if isinstance(tool_choice, dict) and tool_choice["type"] == "function":
        candidates = [t for t in tools if t["name"] == tool_choice["name"]]
    elif isinstance(tool_choice, dict) and tool_choice["type"] == "allowed_tools":
        allowed = {t["name"] for t in tool_choice["tools"]}
        candidates = [t for t in tools if t["name"] in allowed]
    chosen = candidates[textgen.named_tool([t["name"] for t in candidates], prompt)]
    schema = chosen.get("parameters") or {"type": "object", "properties": {}}
    return function_call(chosen["name"], json.dumps(textgen.arguments_for(schema, prompt)))


def _tokens(item: dict) -> int:
    if item.get("type") in ("function_call", "mcp_call", "mcp_approval_request"):
        return textgen.count_tokens(item.get("arguments", "")) + 4
    if item.get("type") == "function_call_output":
        output = item.get("output")
        return textgen.count_tokens(output if isinstance(output, str) else json.dumps(output)) + 4
    return textgen.count_tokens(text_of(item)) + 4


def _usage(input_tokens: int, output_tokens: int) -> dict:
    return {"input_tokens": input_tokens, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens}
