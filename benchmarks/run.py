"""Side-by-side measurements of oai_magics against a baseline; see benchmarks/README.md."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import Callable

RUNS = 7


def fresh_process_seconds(setup: str, measured: str) -> float:
    """Median seconds of `measured`, each time in a new interpreter after `setup`."""
    code = (f"import time\n{setup}\nstart = time.perf_counter()\n{measured}\n"
            "print(time.perf_counter() - start)")
    samples = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
               for _ in range(RUNS)]
    return statistics.median(samples)


def bench_load() -> list[tuple[str, float, float]]:
    shell = "from IPython.core.interactiveshell import InteractiveShell\nip = InteractiveShell.instance()"
    ours = fresh_process_seconds(shell, "ip.run_line_magic('load_ext', 'oai_magics')")
    theirs = fresh_process_seconds(shell, "import openai")
    return [("load: %load_ext oai_magics vs import openai (s)", ours, theirs)]


def bench_render() -> list[tuple[str, float, float]]:
    from IPython.utils.capture import capture_output
    from IPython.display import Markdown, display

    from oai_magics.display.stream import StreamView

    pieces = [f"word{i} " for i in range(2000)]

    def throttled() -> int:
        view = StreamView(interval=0.15, rich=True)
        for piece in pieces:
            view.add(piece)
        view.finish()
        return 0

    def every_chunk() -> int:
        handle, text = None, ""
        for piece in pieces:
            text += piece
            if handle is None:
                handle = display(Markdown(text), display_id=True)
            else:
                handle.update(Markdown(text))
        return 0

    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.instance()  # display() publishes through a shell; without one it only prints

    def timed(run: Callable[[], int]) -> tuple[float, int]:
        """Seconds, and how many display messages a frontend would have to render."""
        with capture_output() as captured:  # records each display and each update
            start = time.perf_counter()
            run()
            return time.perf_counter() - start, len(captured.outputs)

    (ours, our_messages), (theirs, their_messages) = timed(throttled), timed(every_chunk)
    return [("render: 2,000 streamed chunks, throttled vs every chunk (s)", ours, theirs),
            ("render: display messages sent to the frontend", our_messages, their_messages)]


def bench_embed() -> list[tuple[str, float, float]]:
    import openai

    from oai_magics.client import Client
    from oai_magics.embedding_jobs import embed_texts, plan_batches
    from oai_magics.sandbox import start

    texts = [f"document {i}: notes about topic {i % 37} and item {i * 7 % 101}" for i in range(5000)]
    with start() as sandbox:
        ours_client = Client(api_key=sandbox.api_key, base_url=sandbox.base_url)
        sdk = openai.OpenAI(api_key=sandbox.api_key, base_url=sandbox.base_url)
        batches = plan_batches(texts, max_items=512)

        def ours() -> None:
            embed_texts(ours_client, texts, "text-embedding-3-small", batch_size=512, workers=4, progress=False)

        def theirs() -> None:
            rows = []
            for batch in batches:
                # The SDK's own default encoding (it asks for base64 and decodes to lists).
                answer = sdk.embeddings.create(model="text-embedding-3-small", input=texts[batch.start:batch.stop])
                rows += [item.embedding for item in answer.data]

        def measure(run: Callable[[], None]) -> tuple[float, float]:
            """Seconds of an untraced run, then the peak traced memory of a second run
            (tracing slows allocation-heavy code, so it never touches the timing)."""
            start_time = time.perf_counter()
            run()
            seconds = time.perf_counter() - start_time
            tracemalloc.start()
            run()
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            return seconds, peak

        (our_s, our_mb), (their_s, their_mb) = measure(ours), measure(theirs)
    return [("embed: 5,000 texts, embed_texts vs SDK batches in turn (s)", our_s, their_s),
            ("embed: peak Python memory (MiB)", our_mb, their_mb)]


def bench_accumulate() -> list[tuple[str, float, float]]:
    from oai_magics.client.accumulate import ChunkAccumulator, consume

    chunks = [{"model": "m", "choices": [{"index": 0, "delta": {"content": "word "}}]} for _ in range(200_000)]

    def ours() -> None:
        consume(iter(chunks), ChunkAccumulator()).text

    def appending() -> None:  # the text held on an object and grown per chunk
        class Reply:
            content = ""

        reply = Reply()
        for chunk in chunks:
            for choice in chunk["choices"]:
                reply.content += choice["delta"].get("content") or ""

    def cpu_seconds(run: Callable[[], None]) -> float:
        samples = []
        for _ in range(3):
            start = time.process_time()
            run()
            samples.append(time.process_time() - start)
        return min(samples)

    return [("accumulate: 200,000 chat chunks, parts joined once vs appended (CPU s)",
             cpu_seconds(ours), cpu_seconds(appending))]


BENCHES = {"load": bench_load, "render": bench_render, "embed": bench_embed, "accumulate": bench_accumulate}


def main(names: list[str]) -> None:
    rows = []
    for name in names or list(BENCHES):
        rows += BENCHES[name]()
    width = max(len(r[0]) for r in rows)
    print(f"{'measurement'.ljust(width)}  {'oai_magics':>10}  {'baseline':>10}  {'ratio':>6}")
    for label, ours, theirs in rows:
        print(f"{label.ljust(width)}  {ours:10.4f}  {theirs:10.4f}  {ours / theirs:6.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
