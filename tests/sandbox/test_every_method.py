"""Every client method against the live sandbox over loopback, and every JSON answer checked
against the OpenAPI spec of its era."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

from oai_magics.client import Client
from tests.helpers.contract import Answer, contract_errors


def assert_contract(answers: list[Answer]) -> None:
    problems = contract_errors(answers)
    assert not problems, "\n".join(problems)


def png(size: int = 64, transparent: bool = False) -> bytes:
    image = Image.new("RGBA", (size, size), (200, 30, 30, 0 if transparent else 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_models_engines_text_and_moderation(api: Client, answers: list[Answer]) -> None:
    models = api.models.list()
    assert {"gpt-4o-mini", "text-embedding-3-small", "dall-e-3", "whisper-1", "tts-1"} <= {m["id"] for m in models}
    assert api.models.retrieve("gpt-4o-mini")["owned_by"] == "sandbox"
    assert api.engines.retrieve("davinci")["ready"] is True and len(api.engines.list()) > 3
    chat = api.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Name three rivers"}])
    assert "sandbox" in chat["choices"][0]["message"]["content"] and chat["usage"]["total_tokens"] > 0
    legacy = api.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once upon a time", max_tokens=5)
    assert legacy["choices"][0]["finish_reason"] == "length"
    engine = api.completions.create(engine_id="davinci", prompt="Once upon a time", max_tokens=50)
    assert engine["model"] == "davinci" and engine["choices"][0]["finish_reason"] == "stop"
    edit = api.edits.create(model="text-davinci-edit-001", input="what day of the wek is it", instruction="Fix the spelling")
    assert edit["choices"][0]["text"] == "What day of the wek is it.\n"
    flagged = api.moderations.create(input=["I will kill the process", "I love kittens"])["results"]
    assert flagged[0]["flagged"] and flagged[0]["categories"]["violence"] and not flagged[1]["flagged"]
    assert_contract(answers)


def test_embeddings_are_normalised_and_similar_texts_are_near(api: Client, answers: list[Answer]) -> None:
    texts = ["The cat sat on the mat", "A cat was sitting on a mat", "Quarterly revenue grew by ten percent"]
    result = api.embeddings.create(model="text-embedding-3-small", input=texts)
    matrix = result.matrix
    assert matrix.shape == (3, 1536) and matrix.dtype == np.float32
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    sims = matrix @ matrix.T
    assert sims[0, 1] > 0.3 > 0.1 > sims[0, 2]
    small = api.embeddings.create(model="text-embedding-3-large", input="x y", dimensions=64, encoding_format="float")
    assert len(small["data"][0]["embedding"]) == 64 and small.matrix.shape == (1, 64)
    tokens = api.embeddings.create(model="text-embedding-ada-002", input=[[1, 2, 3], [4, 5]])
    assert tokens.matrix.shape == (2, 1536)
    again = api.embeddings.create(model="text-embedding-3-small", input=texts[0])
    assert np.array_equal(again.matrix[0], matrix[0])  # deterministic
    assert_contract(answers)


def test_images_audio_and_files(api: Client, answers: list[Answer], tmp_path: Any) -> None:
    generated = api.images.generate(prompt="a lighthouse at dusk", n=2, size="256x256", response_format="b64_json")
    assert len(generated["data"]) == 2 and generated["data"][0]["b64_json"] != generated["data"][1]["b64_json"]
    hosted = api.images.generate(prompt="a lighthouse", model="dall-e-3")
    assert hosted["data"][0]["url"].startswith(api.base_url.removesuffix("/v1")) and "revised_prompt" in hosted["data"][0]
    picture = api._requester.transport.session.get(hosted["data"][0]["url"]).content
    assert Image.open(io.BytesIO(picture)).size == (1024, 1024)
    edited = api.images.edit(("photo.png", png(transparent=True)), prompt="a hat", size="256x256", response_format="b64_json")
    varied = api.images.create_variation(("photo.png", png()), n=1, size="256x256")
    assert edited["data"] and varied["data"][0]["url"]

    speech = api.audio.speech.create(model="tts-1", input="Hello from the sandbox", voice="alloy", response_format="wav")
    assert speech[:4] == b"RIFF" and speech[8:12] == b"WAVE"
    text = api.audio.transcriptions.create(("hello.wav", speech), model="whisper-1")
    assert "sandbox transcription of hello.wav" in text["text"]
    srt = api.audio.transcriptions.create(("hello.wav", speech), model="whisper-1", response_format="srt")
    assert srt.startswith("1\n00:00:00,000 --> ")
    vtt = api.audio.translations.create(("hello.wav", speech), model="whisper-1", response_format="vtt")
    assert vtt.startswith("WEBVTT")
    verbose = api.audio.transcriptions.create(("hello.wav", speech), model="whisper-1", response_format="verbose_json",
                                              timestamp_granularities=["word", "segment"])
    assert verbose["duration"] > 0.5 and verbose["words"] and verbose["segments"]

    path = tmp_path / "notes.txt"
    path.write_text("sandbox knowledge\n")
    uploaded = api.files.create(path, purpose="assistants")
    assert uploaded["bytes"] == 18 and uploaded["filename"] == "notes.txt"
    assert api.files.retrieve(uploaded["id"])["purpose"] == "assistants"
    assert api.files.content(uploaded["id"]) == b"sandbox knowledge\n"
    assert uploaded["id"] in [f["id"] for f in api.files.list(purpose="assistants")]
    assert api.files.delete(uploaded["id"])["deleted"] is True
    assert_contract(answers)


def test_legacy_fine_tune_produces_a_model(api: Client, answers: list[Answer]) -> None:
    training = api.files.create(("train.jsonl", b'{"prompt": "a", "completion": "b"}\n'), purpose="fine-tune")
    job = api.fine_tunes.create(training_file=training["id"], model="curie", suffix="demo")
    assert job["status"] == "pending" and job["events"][0]["message"].startswith("Created fine-tune")
    events = list(api.fine_tunes.list_events(job["id"], stream=True))  # follows the job until it ends
    assert events[-1]["message"] == "Fine-tune succeeded"
    done = api.fine_tunes.retrieve(job["id"])
    assert done["status"] == "succeeded" and done["fine_tuned_model"].startswith("curie:ft-sandbox:demo-")
    assert done["fine_tuned_model"] in [m["id"] for m in api.models.list()]
    assert job["id"] in [j["id"] for j in api.fine_tunes.list()]
    assert len(api.fine_tunes.list_events(job["id"])) == len(events)
    answer = api.completions.create(model=done["fine_tuned_model"], prompt="hello")
    assert answer["model"] == done["fine_tuned_model"]
    assert api.models.delete(done["fine_tuned_model"])["deleted"] is True
    assert done["fine_tuned_model"] not in [m["id"] for m in api.models.list()]
    other = api.fine_tunes.create(training_file=training["id"])
    assert api.fine_tunes.cancel(other["id"])["status"] == "cancelled"
    assert_contract(answers)


def test_assistants_threads_messages_runs_v2(api: Client, answers: list[Answer]) -> None:
    assistant = api.assistants.create(model="gpt-4o-mini", name="Helper", instructions="Be brief",
                                      tools=[{"type": "file_search"}], metadata={"team": "data"})
    assert api.assistants.retrieve(assistant["id"])["name"] == "Helper"
    assert api.assistants.update(assistant["id"], name="Renamed")["name"] == "Renamed"
    assert assistant["id"] in [a["id"] for a in api.assistants.list()]
    thread = api.threads.create(messages=[{"role": "user", "content": "What is the capital of France?"}])
    assert thread["id"] in [t["id"] for t in api.threads.list()]
    assert api.threads.retrieve(thread["id"])["object"] == "thread"
    assert api.threads.update(thread["id"], metadata={"topic": "geo"})["metadata"] == {"topic": "geo"}
    note = api.threads.messages.create(thread["id"], role="user", content="Answer in one word, please.")
    assert api.threads.messages.retrieve(thread["id"], note["id"])["content"][0]["text"]["value"].startswith("Answer")
    assert api.threads.messages.update(thread["id"], note["id"], metadata={"k": "v"})["metadata"] == {"k": "v"}

    run = api.threads.runs.create(thread["id"], assistant_id=assistant["id"])
    assert run["status"] == "queued"
    finished = api.threads.runs.retrieve(thread["id"], run["id"])
    assert finished["status"] == "completed" and finished["usage"]["total_tokens"] > 0
    steps = api.threads.runs.steps.list(thread["id"], run["id"])
    assert [s["type"] for s in steps] == ["message_creation"]
    step = api.threads.runs.steps.retrieve(thread["id"], run["id"], steps[0]["id"])
    reply_id = step["step_details"]["message_creation"]["message_id"]
    messages = api.threads.messages.list(thread["id"], order="asc")
    assert [m["role"] for m in messages] == ["user", "user", "assistant"] and messages[2]["id"] == reply_id
    assert "sandbox" in messages[2]["content"][0]["text"]["value"]
    assert [m["id"] for m in api.threads.messages.list(thread["id"], run_id=run["id"])] == [reply_id]
    assert api.threads.runs.update(thread["id"], run["id"], metadata={"n": "1"})["metadata"] == {"n": "1"}
    assert [r["id"] for r in api.threads.runs.list(thread["id"])] == [run["id"]]

    both = api.threads.create_and_run(assistant_id=assistant["id"], thread={"messages": [{"role": "user", "content": "Hi"}]})
    assert both["status"] == "queued"
    assert api.threads.messages.delete(thread["id"], note["id"])["deleted"] is True
    assert api.threads.delete(thread["id"])["deleted"] is True
    assert api.assistants.delete(assistant["id"])["deleted"] is True
    assert_contract(answers)


def test_assistants_v1_files_and_message_files(api_v1: Client, answers: list[Answer]) -> None:
    api = api_v1
    doc = api.files.create(("facts.txt", b"The sky is blue."), purpose="assistants")
    assistant = api.assistants.create(model="gpt-4-1106-preview", tools=[{"type": "retrieval"}], file_ids=[doc["id"]])
    assert assistant["file_ids"] == [doc["id"]] and assistant["tools"] == [{"type": "retrieval"}]
    extra = api.files.create(("more.txt", b"Grass is green."), purpose="assistants")
    link = api.assistants.files.create(assistant["id"], file_id=extra["id"])
    assert link == {**link, "object": "assistant.file", "assistant_id": assistant["id"], "id": extra["id"]}
    assert {f["id"] for f in api.assistants.files.list(assistant["id"])} == {doc["id"], extra["id"]}
    assert api.assistants.files.retrieve(assistant["id"], extra["id"])["id"] == extra["id"]
    assert api.assistants.files.delete(assistant["id"], extra["id"])["deleted"] is True
    thread = api.threads.create()
    message = api.threads.messages.create(thread["id"], role="user", content="Read this", file_ids=[doc["id"]])
    assert message["file_ids"] == [doc["id"]] and "attachments" not in message
    files = api.threads.messages.files.list(thread["id"], message["id"])
    assert [f["id"] for f in files] == [doc["id"]]
    assert api.threads.messages.files.retrieve(thread["id"], message["id"], doc["id"])["message_id"] == message["id"]
    run = api.threads.runs.create(thread["id"], assistant_id=assistant["id"])
    assert "file_ids" in run and "usage" not in run
    assert api.threads.runs.retrieve(thread["id"], run["id"])["status"] == "completed"
    assert_contract(answers)
