"""The official `openai` SDK, pointed at the sandbox, completes the common round trips."""

from __future__ import annotations

import io

import openai
import pytest
from PIL import Image

from oai_magics.sandbox import Sandbox


@pytest.fixture
def sdk(sandbox: Sandbox) -> openai.OpenAI:
    return openai.OpenAI(api_key=sandbox.api_key, base_url=sandbox.base_url, max_retries=0)


def test_chat_plain_and_streamed(sdk: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "Say hello"}]
    reply = sdk.chat.completions.create(model="gpt-4o-mini", messages=messages)
    assert "sandbox" in reply.choices[0].message.content and reply.usage.total_tokens > 0
    stream = sdk.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == reply.choices[0].message.content


def test_embedding_image_file_and_moderation(sdk: openai.OpenAI) -> None:
    vectors = sdk.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"])
    assert len(vectors.data) == 2 and len(vectors.data[0].embedding) == 1536
    image = sdk.images.generate(model="dall-e-2", prompt="a red kite", size="256x256", response_format="b64_json")
    import base64

    assert Image.open(io.BytesIO(base64.b64decode(image.data[0].b64_json))).size == (256, 256)
    uploaded = sdk.files.create(file=("notes.txt", b"hello"), purpose="assistants")
    assert sdk.files.retrieve(uploaded.id).bytes == 5
    moderation = sdk.moderations.create(input="I will punch you")
    assert moderation.results[0].flagged


@pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")
def test_assistant_thread_run_with_required_action(sdk: openai.OpenAI) -> None:
    tool = {"type": "function", "function": {"name": "add", "parameters": {
        "type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}}}
    assistant = sdk.beta.assistants.create(model="gpt-4o-mini", name="Adder", tools=[tool])
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "What is 2 + 3?"}])
    run = sdk.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=10)
    assert run.status == "requires_action"
    call = run.required_action.submit_tool_outputs.tool_calls[0]
    assert call.function.name == "add"
    run = sdk.beta.threads.runs.submit_tool_outputs_and_poll(
        thread_id=thread.id, run_id=run.id, tool_outputs=[{"tool_call_id": call.id, "output": "5"}], poll_interval_ms=10)
    assert run.status == "completed"
    messages = sdk.beta.threads.messages.list(thread_id=thread.id)
    assert "`add` returned: 5" in messages.data[0].content[0].text.value
