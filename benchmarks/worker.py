"""One measurement in a fresh process: `python benchmarks/worker.py NAME ARG...` prints one JSON line.

Each contender does its imports and a small warm-up first (first-use imports, the connection), then
measures CPU seconds (`time.process_time`) and wall seconds of the job alone. The orchestrator
(`run.py`) starts the servers and runs every contender in turn, in new processes, several times.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, Callable, Iterator

BENCH_KEY = "bench-key-not-secret"
MESSAGES = lambda n: [{"role": "user", "content": f"chunks={n}"}]  # noqa: E731  (the replay server's cue)
MODEL = "gpt-4o-mini"


def measured(job: Callable[[], Any], repeat: int = 1) -> dict:
    """CPU and wall seconds of `job` (and what it returns); run `repeat` times, the run of median CPU.

    Repeating a short job in the same process damps a burst of load from elsewhere, which on a
    shared machine can add half of a 15 ms job to one run; the orchestrator still takes the median
    over several fresh processes.
    """
    runs = []
    for _ in range(max(repeat, 1)):
        cpu, wall = time.process_time(), time.perf_counter()
        extra = job() or {}
        runs.append({"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall, **extra})
    return sorted(runs, key=lambda run: run["cpu"])[len(runs) // 2]


def peak_rss_growth(job: Callable[[], Any]) -> dict:
    """Run `job` and report how far the peak resident memory rose above what the process held before."""
    def status(field: str) -> int:
        with open("/proc/self/status") as handle:
            return next(int(line.split()[1]) * 1024 for line in handle if line.startswith(field))

    before = status("VmRSS:")
    result = measured(job)
    return {**result, "peak_growth_mb": (status("VmHWM:") - before) / 1e6}


# -- streaming -----------------------------------------------------------------------------------
def floor_consume(session: Any, url: str, n: int) -> dict:
    """The least a Python program does for a streamed reply: requests, split lines, json.loads per event."""
    answer = session.post(f"{url}/chat/completions", json={"model": MODEL, "messages": MESSAGES(n), "stream": True},
                          headers={"Authorization": f"Bearer {BENCH_KEY}"}, stream=True)
    count = 0
    for line in answer.iter_lines():
        if line.startswith(b"data: ") and line != b"data: [DONE]":
            json.loads(line[6:])
            count += 1
    return {"events": count}


def stream_floor(url: str, chunks: str, repeat: str = "1") -> dict:
    import requests

    session = requests.Session()
    floor_consume(session, url, 10)
    return measured(lambda: floor_consume(session, url, int(chunks)), int(repeat))


def stream_sdk(url: str, chunks: str, repeat: str = "1") -> dict:
    import openai

    client = openai.OpenAI(api_key=BENCH_KEY, base_url=url)

    def consume(n: int) -> dict:
        return {"events": sum(1 for _ in client.chat.completions.create(model=MODEL, messages=MESSAGES(n), stream=True))}

    consume(10)
    return measured(lambda: consume(int(chunks)), int(repeat))


def stream_ours(url: str, chunks: str, repeat: str = "1") -> dict:
    """Our client iterating; the floor runs in the same process before each run, as a pair."""
    import requests

    from oai_magics.client import Client

    client = Client(api_key=BENCH_KEY, base_url=url)
    session = requests.Session()

    def consume(n: int) -> dict:
        return {"events": sum(1 for _ in client.chat.completions.create(model=MODEL, messages=MESSAGES(n), stream=True))}

    consume(10)
    floor_consume(session, url, 10)
    return paired(lambda: consume(int(chunks)), lambda: floor_consume(session, url, int(chunks)), int(repeat))


def paired(job: Callable[[], Any], floor: Callable[[], Any], repeat: int) -> dict:
    """`job` measured as `measured` does, with `floor` run just before each run of it: a burst of
    load from elsewhere, which can slow a process by half for a few seconds, falls on both sides of
    each pair. `paired_ratio` is the median of job / floor, `floor_cpu` the floor's median."""
    runs, floors = [], []
    for _ in range(max(repeat, 1)):
        floors.append(measured(floor)["cpu"])
        runs.append(measured(job))
    ratios = sorted(run["cpu"] / cpu for run, cpu in zip(runs, floors))
    return {**sorted(runs, key=lambda run: run["cpu"])[len(runs) // 2], "floor_cpu": sorted(floors)[len(floors) // 2],
            "paired_ratio": ratios[len(ratios) // 2]}


def stream_chat_magic(url: str, chunks: str, repeat: str = "1") -> dict:
    """`%%chat` receiving and rendering in a real kernel: CPU seconds of the kernel process (all its
    threads, so publishing the display updates counts too) and the display messages on iopub; the
    reply asked for `repeat` times in the same kernel, the run of median CPU kept (and the highest
    update rate of any run).

    Before each reply the same kernel also runs the floor (`floor_consume`) on the same stream:
    the pairs are measured moments apart, as in `paired`.
    """
    from jupyter_client.manager import start_new_kernel

    env = {**os.environ, "OPENAI_API_KEY": BENCH_KEY, "OPENAI_BASE_URL": url}
    manager, client = start_new_kernel(kernel_name="python3", env=env)
    try:
        def run(code: str) -> tuple[list[dict], str]:
            msg_id = client.execute(code)
            messages, printed = [], ""
            while True:
                message = client.get_iopub_msg(timeout=300)
                if message["parent_header"].get("msg_id") != msg_id:
                    continue
                kind = message["msg_type"]
                if kind == "stream":
                    printed += message["content"]["text"]
                elif kind in ("display_data", "update_display_data"):
                    messages.append(message)
                elif kind == "status" and message["content"]["execution_state"] == "idle":
                    return messages, printed

        run("%load_ext oai_magics")
        run("%chat --no-memory chunks=10")
        run(f"import sys as _s, requests as _rq\n_s.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})\n"
            f"from worker import floor_consume as _floor\n_fs = _rq.Session()\n_floor(_fs, {url!r}, 10)")
        floor = ("import time as _t, json as _j\n_c = _t.process_time()\n"
                 f"_floor(_fs, {url!r}, {int(chunks)})\n_fc = _t.process_time() - _c")
        code = ("_c, _w = _t.process_time(), _t.perf_counter()\n"
                f"get_ipython().run_cell_magic('chat', '--no-memory', 'chunks={chunks}')\n"
                "_m = {'cpu': _t.process_time() - _c, 'wall': _t.perf_counter() - _w}")
        results = []
        for _ in range(max(int(repeat), 1)):
            run(floor)
            displays, _ = run(code)
            _, printed = run("print(_j.dumps({**_m, 'floor_cpu': _fc, 'reply_chars': len(_)}))")
            result = json.loads(printed.strip().splitlines()[-1])
            # The reply is displayed once and then updated; the last update is the final render, which always
            # happens. What a frontend pays for is the rate of the updates before it.
            updates = sum(message["msg_type"] == "update_display_data" for message in displays)
            results.append({**result, "updates": updates, "updates_per_second": max(updates - 1, 0) / result["wall"]})
        kept = sorted(results, key=lambda r: r["cpu"])[len(results) // 2]
        ratios = sorted(r["cpu"] / r["floor_cpu"] for r in results)
        return {**kept, "updates_per_second": max(r["updates_per_second"] for r in results),
                "paired_ratio": ratios[len(ratios) // 2]}
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


# -- embeddings ------------------------------------------------------------------------------------
def corpus(count: int) -> list[str]:
    return [f"item {i} notes about topic {i % 37} and thing {i * 7 % 101}" for i in range(count)]


def check_frame(frame: Any, texts: list[str]) -> dict:
    """Whether the DataFrame holds every text in order, each with the server's vector for it, exactly."""
    import numpy as np

    from replay import matrix_blocks

    vectors = frame.drop(columns=["text"])
    same = len(frame) == len(texts) and frame["text"].tolist() == texts
    start = 0
    for block in matrix_blocks(len(texts), vectors.shape[1]):
        if not same:
            break
        same = np.array_equal(vectors.iloc[start:start + len(block)].to_numpy(dtype=np.float32), block)
        start += len(block)
    return {"rows": len(frame), "matches_server": bool(same)}


def embed_magic(url: str, count: str, memory: str = "") -> dict:
    """`%embed -i texts` into a DataFrame; the replay server's row for each text checked."""
    os.environ.update(OPENAI_API_KEY=BENCH_KEY, OPENAI_BASE_URL=url)
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "oai_magics")
    shell.user_ns["texts"] = corpus(int(count))
    shell.user_ns["warm"] = corpus(3)
    flags = "--no-cache"  # measure the requests, not a local cache (where the magic has one)
    with capture_output():
        try:
            shell.run_line_magic("embed", f"-i warm -o warm_df {flags}")
        except Exception:
            flags = ""
            shell.run_line_magic("embed", "-i warm -o warm_df")

    def job() -> dict:
        with capture_output():
            shell.run_line_magic("embed", f"-i texts -o df {flags}")
        return {}

    result = (peak_rss_growth if memory else measured)(job)
    return {**result, **check_frame(shell.user_ns["df"], shell.user_ns["texts"])}


def embed_sdk(url: str, count: str, memory: str = "") -> dict:
    """The official SDK, 2,048-text batches in turn, building the same DataFrame."""
    import numpy as np
    import openai
    import pandas as pd

    client = openai.OpenAI(api_key=BENCH_KEY, base_url=url)
    texts = corpus(int(count))
    client.embeddings.create(model="text-embedding-3-small", input=corpus(3))

    holder: dict = {}

    def job() -> dict:
        rows: list = []
        for start in range(0, len(texts), 2048):
            answer = client.embeddings.create(model="text-embedding-3-small", input=texts[start:start + 2048])
            rows += [item.embedding for item in answer.data]
        matrix = np.asarray(rows, dtype=np.float32)
        frame = pd.DataFrame(matrix, columns=[f"e{i}" for i in range(matrix.shape[1])])
        frame.insert(0, "text", texts)
        holder["df"] = frame
        return {}

    result = (peak_rss_growth if memory else measured)(job)
    return {**result, **check_frame(holder["df"], texts)}


# -- listings --------------------------------------------------------------------------------------
def list_ours(url: str) -> dict:
    from oai_magics.client import Client
    from oai_magics.frames import listing_frame

    client = Client(api_key=BENCH_KEY, base_url=url)
    listing_frame(client.files.list(limit=2))
    return measured(lambda: {"rows": len(listing_frame(client.files.list(limit=100).auto_paging_iter()))})


def list_sdk(url: str) -> dict:
    import openai
    import pandas as pd

    client = openai.OpenAI(api_key=BENCH_KEY, base_url=url)
    client.files.list(limit=2)

    def job() -> dict:
        frame = pd.DataFrame([item.model_dump() for item in client.files.list(limit=100)])
        frame["created_at"] = pd.to_datetime(frame["created_at"], unit="s", utc=True)
        return {"rows": len(frame)}

    return measured(job)


# -- images and the sandbox --------------------------------------------------------------------
def images_grid() -> dict:
    """`%image -n 4` against the sandbox, displayed; every base64 or PNG decode of an image counted."""
    import base64

    import PIL.Image
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    decodes = {"n": 0}
    b64decode, pil_open = base64.b64decode, PIL.Image.open

    def counted_b64(data: Any, *args: Any, **kwargs: Any) -> bytes:
        if len(data) > 10_000:
            decodes["n"] += 1
        return b64decode(data, *args, **kwargs)

    def counted_open(*args: Any, **kwargs: Any) -> Any:
        decodes["n"] += 1
        return pil_open(*args, **kwargs)

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "oai_magics")
    with capture_output():
        shell.run_line_magic("oai", "use sandbox")
        shell.run_line_magic("image", "-m dall-e-2 -n 1 warm up")
    base64.b64decode, PIL.Image.open = counted_b64, counted_open
    try:
        with capture_output() as captured:
            result = measured(lambda: shell.run_line_magic("image", "-m dall-e-2 -n 4 --size 256x256 four boats at dawn"))
    finally:
        base64.b64decode, PIL.Image.open = b64decode, pil_open
    return {**result, "decodes": decodes["n"], "outputs": len(captured.outputs)}


def partial_images(url: str, partials: str, repeat: str = "1") -> dict:
    """`%image --partial N` in a real shell, each partial image shown in place, paired with the floor
    (the stream's bytes read off the wire with `requests`, nothing decoded) run just before each run."""
    import requests
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    os.environ["BENCH_KEY"] = BENCH_KEY
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "oai_magics")
    session, body = requests.Session(), {"model": "gpt-image-1", "prompt": "a kite", "stream": True,
                                         "partial_images": int(partials)}

    def floor() -> dict:
        answer = session.post(f"{url}/images/generations", json=body, stream=True,
                              headers={"Authorization": f"Bearer {BENCH_KEY}"})
        return {"bytes": sum(len(chunk) for chunk in answer.iter_content(1 << 16))}

    def ours() -> dict:
        with capture_output() as captured:
            shell.run_line_magic("image", f"-m gpt-image-1 --partial {partials} a kite")
        return {"updates": sum(1 for output in captured.outputs if output.update)}

    with capture_output():
        shell.run_line_magic("oai", f"profile add bench --base-url {url} --key-env BENCH_KEY")
        shell.run_line_magic("oai", "use bench")
    floor(), ours()  # first-use imports, the connection
    return {**paired(ours, floor, int(repeat)), "floor_wall": measured(floor, int(repeat))["wall"]}


def sandbox_throughput(quick: str) -> dict:
    """Requests per second against the embedded sandbox, its streaming rate and its start time."""
    import statistics

    import requests

    from oai_magics.sandbox import start

    starts = []
    for _ in range(2 if quick == "1" else 5):
        began = time.perf_counter()
        sandbox = start()
        starts.append(time.perf_counter() - began)
        sandbox.stop()
    seconds = 0.5 if quick == "1" else 2.0
    with start() as sandbox:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {sandbox.api_key}"
        url = sandbox.base_url

        def rate(post: Callable[[], Any]) -> float:
            count, began = 0, time.perf_counter()
            while time.perf_counter() - began < seconds:
                post().raise_for_status()
                count += 1
            return count / (time.perf_counter() - began)

        chat = {"model": MODEL, "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 16}
        embed = {"model": "text-embedding-3-small", "input": corpus(64)}
        chat_rps = rate(lambda: session.post(f"{url}/chat/completions", json=chat))
        embed_rps = rate(lambda: session.post(f"{url}/embeddings", json=embed))
        # A sandbox reply is a few dozen chunks, so one stream is mostly the request: the rate is taken
        # from each stream's first chunk to its last, over as many streams as the time allows.
        long_prompt = " ".join(f"word{i}" for i in range(2000))
        chunks, streaming, firsts, began = 0, 0.0, [], time.perf_counter()
        while time.perf_counter() - began < seconds:
            sent = time.perf_counter()
            answer = session.post(f"{url}/chat/completions", stream=True, json={
                "model": MODEL, "stream": True, "messages": [{"role": "user", "content": long_prompt}]})
            first = None
            for line in answer.iter_lines():
                if line.startswith(b"data: "):
                    first = first or time.perf_counter()
                    chunks += 1
            if first is not None:
                firsts.append(first - sent)
                streaming += time.perf_counter() - first
    return {"start_s": statistics.median(starts), "chat_rps": chat_rps, "embed_rps": embed_rps,
            "chunks_per_s": chunks / streaming if streaming else 0.0, "first_chunk_s": statistics.median(firsts)}


WORKERS: dict[str, Callable[..., dict]] = {
    "images": images_grid, "partial": partial_images, "sandbox": sandbox_throughput,
    "stream-floor": stream_floor, "stream-sdk": stream_sdk, "stream-ours": stream_ours, "stream-chat": stream_chat_magic,
    "embed-ours": embed_magic, "embed-sdk": embed_sdk, "list-ours": list_ours, "list-sdk": list_sdk,
}


def main(argv: list[str]) -> None:
    print(json.dumps(WORKERS[argv[0]](*argv[1:])))


if __name__ == "__main__":
    main(sys.argv[1:])
