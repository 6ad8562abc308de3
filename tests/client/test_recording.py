"""Record and replay over the transport seam: exchanges recorded against a live sandbox, then answered
from the file by a client with no key, with the sandbox stopped and any connection refused."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from oai_magics.client import Client, InternalServerError, NotFoundError, NotRecordedError, RateLimitError
from oai_magics.client.recording import RecordingTransport, TapeWriter
from oai_magics.client.replay import ReplayTransport
from oai_magics.client.tape import Tape
from oai_magics.sandbox import start
from tests.helpers.sandboxes import Server

CHAT = {"model": "gpt-5.4-mini", "messages": [{"role": "user", "content": "Name a river in Portugal."}]}
UNREACHABLE = "http://127.0.0.1:9/v1"  # replay never connects; were it to, this port refuses


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file of exchanges recorded against a sandbox that is stopped once they are written."""
    path = tmp_path_factory.mktemp("tape") / "exchanges.replay.jsonl"
    with start(data_dir=tmp_path_factory.mktemp("sandbox"), token_delay=0.01) as sandbox:
        server = Server(sandbox)
        client = Client(api_key=sandbox.api_key, base_url=sandbox.base_url, max_retries=0,
                        transport=RecordingTransport(TapeWriter(path, timing=True)))
        client.chat.completions.create(**CHAT)
        client.chat.completions.create(**CHAT)  # the same request twice: answered in this order on replay
        list(client.chat.completions.create(**CHAT, stream=True))
        client.embeddings.create(model="text-embedding-3-small", input=["one", "two"], dimensions=4)
        client.files.create(file=("notes.jsonl", b'{"a": 1}\n'), purpose="batch")
        client.audio.speech.create(model="gpt-4o-mini-tts", voice="alloy", input="Hello")
        for status, error in ((429, RateLimitError), (500, InternalServerError)):
            server.arm(path="/v1/moderations", status=status, message=f"injected {status}")
            with pytest.raises(error):
                client.moderations.create(input=f"status {status}")
        with pytest.raises(NotFoundError):
            client.models.retrieve("no-such-model")
    return path


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection attempt fails the test: replay must not touch the network."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("replay opened a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def replayer(path: Path, speed: str = "full") -> Client:
    client = Client(api_key=None, base_url=UNREACHABLE, max_retries=0, transport=ReplayTransport(Tape.load(path), speed))
    client._requester.sleep = lambda seconds: None
    return client


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_the_file_is_one_readable_exchange_a_line(recording: Path) -> None:
    exchanges = lines(recording)
    assert [(e["request"]["method"], e["request"]["path"], e["response"]["status"]) for e in exchanges] == [
        ("POST", "/v1/chat/completions", 200), ("POST", "/v1/chat/completions", 200),
        ("POST", "/v1/chat/completions", 200), ("POST", "/v1/embeddings", 200), ("POST", "/v1/files", 200),
        ("POST", "/v1/audio/speech", 200), ("POST", "/v1/moderations", 429), ("POST", "/v1/moderations", 500),
        ("GET", "/v1/models/no-such-model", 404)]
    assert exchanges[0]["request"]["json"] == CHAT  # the body as sent; no header of the request
    assert set(exchanges[0]["request"]) == {"method", "path", "json"}
    streamed = exchanges[2]["response"]["events"]
    assert len(streamed) > 3 and all("t" in event for event in streamed) and streamed[-1]["data"] == "[DONE]"
    assert streamed[1]["json"]["object"] == "chat.completion.chunk"
    embedded = exchanges[3]["response"]["json"]["data"][0]["embedding"]
    assert isinstance(embedded, str) and len(embedded) == 24  # 4 float32 as base64, as the API sends them
    upload = exchanges[4]["request"]["form"]
    assert upload[0] == ["purpose", "batch"] and upload[1][1]["file"] == "notes.jsonl" and len(upload[1][1]["sha256"]) == 64
    assert exchanges[5]["response"]["base64"]  # binary speech, base64 once
    assert set(exchanges[6]["response"]["headers"]) <= {"content-type", "x-request-id", "retry-after",
                                                         "retry-after-ms", "x-should-retry"}


def test_replay_answers_with_no_key_and_no_network(recording: Path, no_network: None) -> None:
    client = replayer(recording)
    assert not client.has_api_key
    first, second, third = (client.chat.completions.create(**CHAT) for _ in range(3))
    recorded = [e["response"]["json"]["id"] for e in lines(recording)[:2]]
    assert [first["id"], second["id"], third["id"]] == [recorded[0], recorded[1], recorded[1]]  # in order, then the last
    chunks = list(client.chat.completions.create(**CHAT, stream=True))
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))
    assert "oai_magics sandbox" in text
    vectors = client.embeddings.create(model="text-embedding-3-small", input=["one", "two"], dimensions=4)
    assert vectors.matrix.shape == (2, 4)
    assert client.files.create(file=("notes.jsonl", b'{"a": 1}\n'), purpose="batch")["filename"] == "notes.jsonl"
    speech = client.audio.speech.create(model="gpt-4o-mini-tts", voice="alloy", input="Hello")
    assert speech == base64.b64decode(lines(recording)[5]["response"]["base64"]) and len(speech) > 100


def test_recorded_errors_replay_as_the_same_errors(recording: Path, no_network: None) -> None:
    client = replayer(recording)
    with pytest.raises(RateLimitError, match="injected 429"):
        client.moderations.create(input="status 429")
    with pytest.raises(InternalServerError, match="injected 500"):
        client.moderations.create(input="status 500")
    with pytest.raises(NotFoundError, match="no-such-model"):
        client.models.retrieve("no-such-model")


def test_a_request_not_recorded_is_refused_naming_what_differs(recording: Path, no_network: None) -> None:
    client = replayer(recording)
    changed = {**CHAT, "messages": [{"role": "user", "content": "Name a river in Spain."}]}
    with pytest.raises(NotRecordedError) as info:
        client.chat.completions.create(**changed)
    message = str(info.value)
    assert "\n" not in message and "exchanges.replay.jsonl" in message and "not sent" in message
    assert "messages[0].content ('Name a river in Spain.' here, 'Name a river in Portugal.' recorded)" in message
    with pytest.raises(NotRecordedError, match=r"model \('gpt-5.4' here, 'gpt-5.4-mini' recorded\)"):
        client.chat.completions.create(**{**CHAT, "model": "gpt-5.4"})
    with pytest.raises(NotRecordedError, match=r"temperature \(0.5 here, absent recorded\)"):
        client.chat.completions.create(**CHAT, temperature=0.5)
    with pytest.raises(NotRecordedError, match="form"):
        client.files.create(file=("notes.jsonl", b'{"a": 2}\n'), purpose="batch")  # the same name, other bytes
    with pytest.raises(NotRecordedError, match="no GET /v1/files was recorded"):
        client.files.list()


def test_a_stream_replays_event_by_event_at_its_recorded_pace(recording: Path, no_network: None) -> None:
    waits: list[float] = []
    client = replayer(recording, speed="recorded")
    client._requester.transport.sleep = waits.append  # the pace, asked of the clock, not measured
    events = list(client.chat.completions.create(**CHAT, stream=True))
    assert len(events) > 3 and len(waits) > 1 and all(wait > 0 for wait in waits)
    fast: list[float] = []
    client = replayer(recording, speed="full")
    client._requester.transport.sleep = fast.append
    assert len(list(client.chat.completions.create(**CHAT, stream=True))) == len(events) and fast == []


def test_a_job_client_replays_from_the_same_recording(recording: Path, no_network: None) -> None:
    client = replayer(recording)
    twin = client.with_own_connections()
    assert isinstance(twin._requester.transport, ReplayTransport)
    assert twin.chat.completions.create(**CHAT)["id"] == lines(recording)[0]["response"]["json"]["id"]
    assert client.chat.completions.create(**CHAT)["id"] == lines(recording)[1]["response"]["json"]["id"]


def test_a_damaged_recording_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"request": {"method": "GET", "path": "/v1/models"}, "response": {"status": 200}}\nnot json\n',
                    encoding="utf-8")
    with pytest.raises(ValueError, match="bad.jsonl line 2 is not a recorded exchange"):
        Tape.load(path)


def test_recording_after_a_line_cut_off_keeps_its_own_lines_whole(tmp_path: Path) -> None:
    """A kernel killed while writing leaves a line without its end; recording into that file again
    starts on a line of its own, so only the cut line is refused, and it is named."""
    path = tmp_path / "cut.replay.jsonl"
    path.write_text('{"request": {"method": "GET", "path": "/v1/models"}, "resp', encoding="utf-8")
    TapeWriter(path).write({"method": "GET", "path": "/v1/files"}, {"status": 200, "json": {"data": []}})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["request"]["path"] == "/v1/files"
    with pytest.raises(ValueError, match="cut.replay.jsonl line 1 is not a recorded exchange"):
        Tape.load(path)


def test_no_wait_of_a_replayed_stream_is_longer_than_the_read_timeout(tmp_path: Path) -> None:
    """Times edited by hand (a day between two events) replay no slower than a live stream could
    have come: each wait is at most the read timeout, as a longer gap was a timeout live."""
    path = tmp_path / "slow.replay.jsonl"
    events = [{"json": {"choices": [{"index": 0, "delta": {"content": f"w{n} "}}]}, "t": t}
              for n, t in enumerate((0.0, 86400.0, 86400.01, 172800.0))] + [{"data": "[DONE]", "t": 172800.0}]
    path.write_text(json.dumps({"request": {"method": "POST", "path": "/v1/chat/completions", "json": {**CHAT, "stream": True}},
                                "response": {"status": 200, "headers": {"content-type": "text/event-stream"},
                                             "events": events}}) + "\n", encoding="utf-8")
    transport = ReplayTransport(Tape.load(path), "recorded")
    waits: list[float] = []
    transport.sleep = waits.append
    client = Client(api_key=None, base_url=UNREACHABLE, timeout=(1.0, 0.5), transport=transport)
    assert len(list(client.chat.completions.create(**CHAT, stream=True))) == 4
    assert waits and max(waits) <= 0.5


def test_at_full_speed_a_replay_skips_the_waits_between_requests(tmp_path: Path) -> None:
    """A recorded retry's back-off and the polls of a background response waited as long as they had
    live: a replay at full speed took as long as the recording, whatever was asked."""
    path = tmp_path / "waits.replay.jsonl"
    with start(data_dir=tmp_path / "sandbox", run_delay=0.2) as sandbox:
        Server(sandbox).arm(path="/v1/moderations", status=429, retry_after=2.5, message="slow down")
        live = Client(api_key=sandbox.api_key, base_url=sandbox.base_url, max_retries=1,
                      transport=RecordingTransport(TapeWriter(path)))
        live._requester.sleep = lambda seconds: None
        live.moderations.create(input="hello")
        started = live.responses.create(model="gpt-5.4-mini", input="Name a river.", background=True)
        live.responses.wait(started["id"], sleep=lambda seconds: None)
    for speed, expected in (("full", [0.0]), ("recorded", [2.5])):
        client = Client(api_key=None, base_url=UNREACHABLE, max_retries=1, transport=ReplayTransport(Tape.load(path), speed))
        backoffs: list[float] = []
        polls: list[float] = []
        client._requester.sleep = backoffs.append  # the waits, asked of the clock, not measured
        assert client.moderations.create(input="hello")["results"]
        assert client.responses.wait(started["id"], sleep=polls.append)["status"] == "completed"
        assert backoffs == expected and polls and (all(p == 0.0 for p in polls) if speed == "full" else all(polls))
