"""Text endpoints: chat completions, legacy completions (also per engine) and legacy edits."""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import textgen
from .catalog import require_model
from .errors import ApiError, invalid
from .finetunes import fine_tuned_models
from .reasoning import check_token_limit, effort_of, reasoning_tokens
from .state import state
from .store import new_id, now
from .structured import check_response_format, structured_reply
from .documents import check_files, seen_files
from .vision import check_images, seen_images
from .web import json_body, optional, reject_unknown, require, sse, sse_response

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
CHAT_PARAMS = {
    "messages", "model", "store", "reasoning_effort", "metadata", "frequency_penalty", "logit_bias", "logprobs",
    "top_logprobs", "max_tokens", "max_completion_tokens", "n", "modalities", "prediction", "audio",
    "presence_penalty", "response_format", "seed", "service_tier", "stop", "stream", "stream_options",
    "temperature", "top_p", "tools", "tool_choice", "parallel_tool_calls", "user", "function_call", "functions",
    "web_search_options", "verbosity", "prompt_cache_key", "safety_identifier", "prompt_cache_retention",
}
COMPLETION_PARAMS = {
    "model", "prompt", "best_of", "echo", "frequency_penalty", "logit_bias", "logprobs", "max_tokens", "n",
    "presence_penalty", "seed", "stop", "stream", "stream_options", "suffix", "temperature", "top_p", "user",
}


# -- shared pieces ---------------------------------------------------------------------------

def message_text(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text")
    return ""


def limit_tokens(text: str, max_tokens: int | None) -> tuple[str, str]:
    """(text, finish_reason) after max_tokens."""
    pieces = textgen.tokens(text)
    if max_tokens is not None and len(pieces) > max_tokens:
        return "".join(pieces[:max_tokens]), "length"
    return text, "stop"


def usage(prompt_tokens: int, completion_tokens: int, reasoning: int | None = None) -> dict:
    """The usage object; a reasoning model's also says how many of the completion tokens were reasoning."""
    counts = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
              "total_tokens": prompt_tokens + completion_tokens}
    if reasoning is not None:
        counts["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return counts


def common_checks(body: dict) -> tuple[int, Any]:
    """`n` and `stop`, after the range checks every text endpoint shares."""
    n = optional(body, "n", "integer", 1, minimum=1, maximum=128)
    optional(body, "temperature", "number", minimum=0, maximum=2)
    optional(body, "top_p", "number", minimum=0, maximum=1)
    stop = body.get("stop")
    if stop is not None and not isinstance(stop, (str, list)):
        raise invalid("Invalid type for 'stop': expected a string or an array of strings.", param="stop")
    if isinstance(stop, list) and len(stop) > 4:
        raise invalid("Invalid 'stop': array too long. Expected an array with maximum length 4.", param="stop")
    return n, stop


async def paced(pieces: list[bytes], delay: float) -> AsyncIterator[bytes]:
    """Yield SSE frames, `delay` seconds apart, as a real model's stream arrives."""
    for index, piece in enumerate(pieces):
        if delay and index:
            await asyncio.sleep(delay)
        yield piece


# -- chat completions ------------------------------------------------------------------------

def tool_call_for(body: dict, prompt: str) -> dict | None:
    """The function call the sandbox makes, if the request offers function tools and allows it."""
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict) and t.get("type") == "function"]
    choice = body.get("tool_choice", "auto")
    if not tools or choice == "none":
        return None
    chosen = tools[textgen.named_tool([t["function"].get("name", "") for t in tools], prompt)]["function"]
    if isinstance(choice, dict):
        wanted = (choice.get("function") or {}).get("name")
        chosen = next((t["function"] for t in tools if t["function"].get("name") == wanted), None)
        if chosen is None:
            raise invalid(f"Invalid value for 'tool_choice': no function named '{wanted}' in 'tools'.", param="tool_choice")
    arguments = textgen.arguments_for(chosen.get("parameters") or {"type": "object", "properties": {}}, prompt)
    return {"id": new_id("call_"), "type": "function",
            "function": {"name": chosen["name"], "arguments": json.dumps(arguments)}}


def answer_to_tools(messages: list[dict]) -> str:
    """The reply after tool results: it reports what each tool returned."""
    names = {}
    for message in messages:
        for call in message.get("tool_calls") or []:
            names[call.get("id")] = call.get("function", {}).get("name", "tool")
    results = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        results.append((names.get(message.get("tool_call_id"), "tool"), message_text(message.get("content"))))
    return textgen.tool_results_text(list(reversed(results)))


def chat_reply(body: dict, messages: list[dict], variant: int) -> tuple[str | None, dict | None]:
    """(content, tool_call) for one choice."""
    last = messages[-1]
    prompt = next((message_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    if last.get("role") == "tool":
        return answer_to_tools(messages), None
    call = tool_call_for(body, prompt)
    if call is not None:
        return None, call
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_object":
        return textgen.json_reply(prompt), None
    if response_format.get("type") == "json_schema":
        return structured_reply(response_format, prompt), None
    instructions = " ".join(message_text(m.get("content")) for m in messages if m.get("role") in ("system", "developer"))
    limit = textgen.word_limit(instructions)
    if limit is not None:  # "name this in two to five words": a name, as a model would answer
        return textgen.short_name(prompt, *limit), None
    seen = "".join(f"\n\n{line}" for line in (seen_files(messages), seen_images(messages)) if line)
    return textgen.reply_text(prompt, variant) + seen, None


def requested_failure(messages: list[dict]) -> dict | None:
    """The server error a last user message holding textgen.FAIL_WORD asks for (None otherwise), so a
    client's failed-run path can be tried on chat completions too."""
    last_user = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    if messages[-1] is not last_user or textgen.FAIL_WORD not in message_text(last_user.get("content")):
        return None
    return {"message": f"The sandbox failed this completion on request ({textgen.FAIL_WORD}).", "type": "server_error",
            "param": None, "code": "server_error"}


def failed(body: dict, failure: dict, settings: Any) -> Response:
    """A failure streamed as an error event after the first chunk (as the API reports a failure once
    the answer began), or a 500 marked not worth retrying."""
    if body.get("stream"):
        first = {"id": new_id("chatcmpl-"), "object": "chat.completion.chunk", "created": now(), "model": body["model"],
                 "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
        return sse_response(paced([sse(first), sse({"error": failure})], settings.token_delay))
    raise ApiError(500, failure["message"], type="server_error", code="server_error", headers={"x-should-retry": "false"})


def check_tool_answers(messages: list[dict]) -> None:
    """As the API does: every tool call of an assistant message is answered by the `tool` messages
    right after it."""
    for index, message in enumerate(messages):
        calls = [c.get("id") for c in message.get("tool_calls") or [] if isinstance(c, dict)]
        following = messages[index + 1: index + 1 + len(calls)]
        if calls and sorted(str(m.get("tool_call_id")) for m in following if m.get("role") == "tool") != sorted(map(str, calls)):
            raise invalid("An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                          f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(map(str, calls))}",
                          param=f"messages.[{index + 1}].role")


def validate_messages(body: dict) -> list[dict]:
    messages = require(body, "messages", "array")
    if not messages:
        raise invalid("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                      param="messages", code="empty_array")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise invalid(f"Invalid value for 'messages[{index}].role': expected one of {', '.join(ROLES)}.",
                          param=f"messages[{index}].role", code="invalid_value")
    check_tool_answers(messages)
    check_response_format(body.get("response_format"))
    check_images(messages)
    check_files(messages)
    if body.get("response_format", {}).get("type") == "json_object":
        if not any("json" in message_text(m.get("content")).lower() for m in messages):
            raise invalid("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
                          param="messages")
    return messages


async def chat_completions(request: Request) -> Response:
    body = await json_body(request)
    reject_unknown(body, CHAT_PARAMS)
    app = state(request)
    model = require_model(body.get("model"), ("chat",), fine_tuned_models(app))
    check_token_limit(model, body)
    thinking = reasoning_tokens(effort_of(model, body.get("reasoning_effort"), "reasoning_effort"))
    messages = validate_messages(body)
    failure = requested_failure(messages)
    if failure is not None:
        return failed(body, failure, app.settings)
    n, stop = common_checks(body)
    max_tokens = optional(body, "max_completion_tokens", "integer", minimum=1) or optional(body, "max_tokens", "integer", minimum=1)
    if max_tokens is not None:  # reasoning tokens count against the limit: what is left is for the reply
        max_tokens = max(max_tokens - thinking, 0)
    prompt_tokens = sum(textgen.count_tokens(message_text(m.get("content"))) + 4 for m in messages)
    choices = []
    for index in range(n):
        content, call = chat_reply(body, messages, index)
        finish = "tool_calls" if call else "stop"
        if content is not None:
            content, found = textgen.apply_stop(content, stop)
            content, finish = limit_tokens(content, max_tokens)
            finish = "stop" if found else finish
        choices.append((content, call, finish))
    completion_tokens = sum(textgen.count_tokens(c or (t or {}).get("function", {}).get("arguments", "")) for c, t, _ in choices)
    reasoning = n * thinking if model.reasoning else None
    counts = usage(prompt_tokens, completion_tokens + (reasoning or 0), reasoning)
    base = {"id": new_id("chatcmpl-"), "created": now(), "model": model.id, "system_fingerprint": "fp_sandbox"}
    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        frames = chat_stream_frames(base, choices, counts if include_usage else None)
        return sse_response(paced(frames, app.settings.token_delay))
    return JSONResponse({
        **base, "object": "chat.completion", "service_tier": "default",
        "choices": [{"index": i, "message": {"role": "assistant", "content": content, "refusal": None, "annotations": [],
                                             **({"tool_calls": [call]} if call else {})},
                     "logprobs": None, "finish_reason": finish} for i, (content, call, finish) in enumerate(choices)],
        "usage": counts,
    })


def chat_stream_frames(base: dict, choices: list[tuple], final_usage: dict | None) -> list[bytes]:
    """The chunk sequence of a streamed chat completion, `[DONE]` included."""
    def chunk(index: int, delta: dict, finish: str | None = None) -> bytes:
        payload = {**base, "object": "chat.completion.chunk", "service_tier": "default",
                   "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        if final_usage is not None:
            payload["usage"] = None
        return sse(payload)

    frames = [chunk(i, {"role": "assistant", "content": "" if c is not None else None, "refusal": None})
              for i, (c, _, _) in enumerate(choices)]
    for index, (content, call, _) in enumerate(choices):
        if call is not None:
            frames.append(chunk(index, {"tool_calls": [{"index": 0, "id": call["id"], "type": "function",
                                                        "function": {"name": call["function"]["name"], "arguments": ""}}]}))
            for piece in textgen.tokens(call["function"]["arguments"]):
                frames.append(chunk(index, {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
        for piece in textgen.tokens(content or ""):
            frames.append(chunk(index, {"content": piece}))
    frames += [chunk(i, {}, finish) for i, (_, _, finish) in enumerate(choices)]
    if final_usage is not None:
        frames.append(sse({**base, "object": "chat.completion.chunk", "service_tier": "default", "choices": [],
                           "usage": final_usage}))
    frames.append(sse("[DONE]"))
    return frames


# -- legacy completions and edits ------------------------------------------------------------

def prompts_of(prompt: Any) -> list[str]:
    """The prompt parameter's texts: a string, strings, token ids, or lists of token ids."""
    if prompt is None:
        return ["<|endoftext|>"]
    if isinstance(prompt, str):
        return [prompt]
    if isinstance(prompt, list) and prompt and all(isinstance(t, int) for t in prompt):
        return [" ".join(map(str, prompt))]
    if isinstance(prompt, list) and all(isinstance(p, (str, list)) for p in prompt):
        return [p if isinstance(p, str) else " ".join(map(str, p)) for p in prompt] or [""]
    raise invalid("Invalid type for 'prompt': expected a string, an array of strings or an array of tokens.", param="prompt")


async def completions(request: Request) -> Response:
    return await _complete(request, request.path_params.get("engine_id"))


async def _complete(request: Request, engine_id: str | None) -> Response:
    body = await json_body(request)
    reject_unknown(body, COMPLETION_PARAMS)
    app = state(request)
    model_name = engine_id or body.get("model")
    model = require_model(model_name, ("completion",), fine_tuned_models(app))
    n, stop = common_checks(body)
    max_tokens = optional(body, "max_tokens", "integer", 16, minimum=0)  # the API's default is 16
    texts = prompts_of(body.get("prompt"))
    choices = []
    for prompt in texts:
        for variant in range(n):
            text, found = textgen.apply_stop(" " + textgen.reply_text(prompt, variant), stop)
            text, finish = limit_tokens(text, max_tokens)
            if body.get("echo"):
                text = prompt + text
            choices.append((text, "stop" if found else finish))
    prompt_tokens = sum(textgen.count_tokens(p) for p in texts)
    completion_tokens = sum(textgen.count_tokens(t) for t, _ in choices)
    base = {"id": new_id("cmpl-"), "object": "text_completion", "created": now(), "model": model.id,
            "system_fingerprint": "fp_sandbox"}
    if body.get("stream"):
        frames = []
        for index, (text, _) in enumerate(choices):
            frames += [sse({**base, "choices": [{"text": piece, "index": index, "logprobs": None, "finish_reason": None}]})
                       for piece in textgen.tokens(text)]
        frames += [sse({**base, "choices": [{"text": "", "index": i, "logprobs": None, "finish_reason": f}]})
                   for i, (_, f) in enumerate(choices)]
        if (body.get("stream_options") or {}).get("include_usage"):
            frames.append(sse({**base, "choices": [], "usage": usage(prompt_tokens, completion_tokens)}))
        frames.append(sse("[DONE]"))
        return sse_response(paced(frames, app.settings.token_delay))
    return JSONResponse({**base, "choices": [{"text": t, "index": i, "logprobs": None, "finish_reason": f}
                                             for i, (t, f) in enumerate(choices)],
                         "usage": usage(prompt_tokens, completion_tokens)})


async def edits(request: Request) -> Response:
    body = await json_body(request)
    reject_unknown(body, {"model", "input", "instruction", "n", "temperature", "top_p"})
    require_model(body.get("model"), ("edit",))
    instruction = require(body, "instruction")
    text = optional(body, "input", "string", "")
    n, _ = common_checks(body)
    edited = textgen.edit_text(text, instruction)
    return JSONResponse({
        "object": "edit", "created": now(),
        "choices": [{"text": edited, "index": i, "finish_reason": "stop"} for i in range(n)],
        "usage": usage(textgen.count_tokens(text + instruction), n * textgen.count_tokens(edited)),
    })


ROUTES = [
    ("/chat/completions", chat_completions, ["POST"]),
    ("/completions", completions, ["POST"]),
    ("/engines/{engine_id}/completions", completions, ["POST"]),
    ("/edits", edits, ["POST"]),
]
