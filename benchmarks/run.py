"""Side-by-side measurements of oai_magics, what a user would otherwise pick, and the floor.

    python benchmarks/run.py                 # every benchmark; writes benchmarks/RESULTS.md
    python benchmarks/run.py stream embed    # some of them (load stream embed memory list images partial sandbox search map)
    python benchmarks/run.py --quick         # fewer runs and smaller sizes, to try the harness

Every contender runs in fresh processes (`worker.py`), several times; the table holds medians and
ratios, with the goal of issue-level targets beside each. These are measurements, never tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from replay import ReplayServer  # noqa: E402


@dataclass
class Row:
    """One line of the results: a measured value, what it is compared with, and the goal."""

    name: str
    value: float
    unit: str
    goal: str = ""
    met: bool | None = None
    detail: str = ""


def worker(name: str, *args: str, runs: int) -> list[dict]:
    """Run one contender `runs` times, each in a new interpreter."""
    results = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, str(HERE / "worker.py"), name, *args], capture_output=True, text=True,
                              timeout=900)
        if done.returncode != 0:
            raise RuntimeError(f"{name} failed: {done.stderr[-1500:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return results


def rounds(contenders: dict[str, tuple[str, ...]], runs: int) -> dict[str, list[dict]]:
    """Every contender (`name: (worker, args...)`) `runs` times, one run of each per round, so a burst
    of load on a shared machine falls on all of them alike rather than on one."""
    results: dict[str, list[dict]] = {name: [] for name in contenders}
    for _ in range(runs):
        for name, (job, *args) in contenders.items():
            results[name] += worker(job, *args, runs=1)
    return results


def median(results: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in results)


def ratio_row(name: str, ours: float, theirs: float, limit: float | None, *, at_least: bool = False,
              detail: str = "") -> Row:
    """ours / theirs, and whether it is within the goal (≤ limit, or ≥ limit when `at_least`)."""
    ratio = ours / theirs if theirs else float("inf")
    if limit is None:
        return Row(name, ratio, "x", detail=detail)
    met = ratio >= limit if at_least else ratio <= limit
    return Row(name, ratio, "x", f"{'≥' if at_least else '≤'} {limit}", met, detail)


# -- the benchmarks ----------------------------------------------------------------------------
def bench_load(quick: bool) -> list[Row]:
    """`%load_ext oai_magics` over a bare IPython start: paired fresh processes, median difference.

    Wall time and CPU time (the child's user + system, from `wait4`) of each start; on a shared,
    loaded machine the CPU difference is the steadier of the two.
    """
    runs = 5 if quick else 11
    env = {**os.environ, "IPYTHONDIR": tempfile.mkdtemp(prefix="ipython-bench-")}  # no user profile or startup files
    command = [sys.executable, "-m", "IPython", "--quick", "--no-banner", "-c"]

    def start(code: str) -> tuple[float, float]:
        """Wall and CPU seconds of one fresh IPython running `code`."""
        began = time.perf_counter()
        process = subprocess.Popen(command + [code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr = process.stderr.read() if process.stderr else b""
        if process.returncode:
            raise RuntimeError(f"ipython -c {code!r} failed: {stderr.decode(errors='replace')[-1500:]}")
        return wall, usage.ru_utime + usage.ru_stime

    # `-c ''` is no code at all to IPython: it would start the interactive prompt instead.
    codes = {"bare": "pass", "ours": "%load_ext oai_magics", "sdk": "import openai"}
    for code in codes.values():  # the first start of each compiles into the bytecode cache: it measures nothing
        start(code)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in codes}
    for _ in range(runs):  # interleaved, so a burst of load on the machine hits all three alike
        for name, code in codes.items():
            times[name].append(start(code))

    def added(name: str, which: int) -> float:
        """Median over the runs of (this start - the bare start of the same round), in ms."""
        return statistics.median(t[which] - b[which] for t, b in zip(times[name], times["bare"])) * 1000

    bare_wall = statistics.median(t[0] for t in times["bare"]) * 1000
    bare_cpu = statistics.median(t[1] for t in times["bare"]) * 1000
    return [Row("load: %load_ext oai_magics over a bare IPython start (CPU)", added("ours", 1), "ms", "≤ 50",
                added("ours", 1) <= 50, f"bare start {bare_cpu:.0f} ms CPU; `import openai` adds {added('sdk', 1):.0f} ms"),
            Row("load: %load_ext oai_magics over a bare IPython start (wall)", added("ours", 0), "ms", "≤ 50",
                added("ours", 0) <= 50, f"bare start {bare_wall:.0f} ms; `import openai` adds {added('sdk', 0):.0f} ms; "
                                         f"median of {runs} paired fresh processes")]


def bench_stream(quick: bool) -> list[Row]:
    """Client-side CPU for replies of 2,000, 20,000 and 200,000 chunks from a server with no delay."""
    sizes = (2000, 20000) if quick else (2000, 20000, 200000)
    rows: list[Row] = []
    per_chunk: dict[str, dict[int, float]] = {"ours": {}, "chat": {}}
    with ReplayServer() as server:
        for size in sizes:
            # Fresh processes, and in each the reply asked for `repeat` times: a 2,000-chunk reply costs
            # about 15 ms, which one burst of load from elsewhere can move by half.
            runs, repeat = (1, 1) if quick else ((3, 1) if size >= 200000 else (7, 3) if size <= 2000 else (5, 3))
            found = rounds({name: (f"stream-{name}", server.base_url, str(size), str(repeat))
                            for name in ("floor", "sdk", "ours", "chat")}, runs)
            cpu = {name: median(results, "cpu") for name, results in found.items()}
            chat = found["chat"]
            label = f"stream {size:,} chunks"
            detail = (", ".join(f"{k} {v * 1000:.0f} ms" for k, v in cpu.items()) + " CPU; median of "
                      f"{runs} fresh processes" + (f", each the median of {repeat} replies" if repeat > 1 else "")
                      if runs > 1 else " CPU; one fresh process")
            rows += [ratio_row(f"{label}: client iteration / SDK iterating", cpu["ours"], cpu["sdk"], 1.0, detail=detail),
                     floor_row(f"{label}: client iteration / floor", found["ours"], cpu["ours"], cpu["floor"], 1.3,
                               "process", repeat),
                     ratio_row(f"{label}: %%chat receive + render / SDK iterating", cpu["chat"], cpu["sdk"], 1.5),
                     floor_row(f"{label}: %%chat receive + render / floor", chat, cpu["chat"], cpu["floor"], 2.0,
                               "kernel", repeat)]
            updates = max(r["updates_per_second"] for r in chat)
            rows.append(Row(f"{label}: %%chat display updates per second (most of {runs * repeat} replies)", updates, "/s", "≤ 30",
                            updates <= 30, f"{median(chat, 'updates'):.0f} updates of the reply in "
                                           f"{median(chat, 'wall'):.2f} s (median)"))
            per_chunk["ours"][size] = cpu["ours"] / size
            per_chunk["chat"][size] = cpu["chat"] / size
    small, large = sizes[0], sizes[-1]
    for name, label in (("ours", "client iteration"), ("chat", "%%chat")):
        rows.append(ratio_row(f"stream: {label} CPU per chunk, {large:,} vs {small:,} chunks", per_chunk[name][large],
                              per_chunk[name][small], 1.3))
    return rows


def floor_row(name: str, results: list[dict], cpu: float, floor_cpu: float, limit: float, where: str,
              repeat: int) -> Row:
    """A contender against the floor. Short jobs, repeated in each process, are compared with the
    floor run in the same process just before each of their runs (see `worker.paired`): pairs
    measured moments apart, so a burst of load elsewhere falls on both sides of each ratio; the ratio
    to the floor's own fresh processes is given beside it. Long jobs (one run per process, seconds
    each) spread over such bursts more, and are compared with the floor's fresh processes (the
    paired ratio beside it)."""
    if repeat < 2:
        return ratio_row(name, cpu, floor_cpu, limit, detail=f"against the floor's own processes; paired with the floor "
                                                           f"run in the same {where} just before "
                                                           f"{median(results, 'paired_ratio'):.2f} x")
    ratio = median(results, "paired_ratio")
    return Row(name, ratio, "x", f"≤ {limit}", ratio <= limit,
               f"paired with the floor run in the same {where} just before ({median(results, 'floor_cpu') * 1000:.0f} ms), "
               f"median ratio; against the floor's own processes {cpu / floor_cpu:.2f} x")


def bench_embed(quick: bool) -> list[Row]:
    """20,000 texts into a DataFrame: `%embed` against the SDK's 2,048-text batches in turn."""
    count = 4000 if quick else 20000
    runs = 1 if quick else 3
    with ReplayServer(rows=count, dim=1536) as server:
        found = rounds({"ours": ("embed-ours", server.base_url, str(count)),
                        "sdk": ("embed-sdk", server.base_url, str(count))}, runs)
    ours, sdk = found["ours"], found["sdk"]
    same = all(r["matches_server"] for r in ours + sdk)
    wall_ours, wall_sdk = median(ours, "wall"), median(sdk, "wall")
    cpu_ours, cpu_sdk = median(ours, "cpu"), median(sdk, "cpu")
    return [ratio_row(f"embed {count:,} texts: SDK wall / %embed wall (speed-up)", wall_sdk, wall_ours, 4.0, at_least=True,
                      detail=f"%embed {wall_ours:.2f} s, SDK {wall_sdk:.2f} s; every row in order with the server's "
                             f"vector: {'yes' if same else '**no**'}"),
            ratio_row(f"embed {count:,} texts: SDK CPU / %embed CPU", cpu_sdk, cpu_ours, None,
                      detail=f"%embed {cpu_ours:.2f} s, SDK {cpu_sdk:.2f} s CPU")]


def bench_memory(quick: bool) -> list[Row]:
    """Peak memory growth of `%embed` for 100,000 x 1,536 against the float32 matrix itself."""
    count = 20000 if quick else 100000
    matrix_mb = count * 1536 * 4 / 1e6
    with ReplayServer(rows=count, dim=1536) as server:
        ours = worker("embed-ours", server.base_url, str(count), "memory", runs=1)[0]
    growth = ours["peak_growth_mb"] / matrix_mb
    return [Row(f"embed {count:,} x 1,536: peak memory growth / float32 matrix", growth, "x", "≤ 1.5", growth <= 1.5,
                f"{ours['peak_growth_mb']:.0f} MB over a {matrix_mb:.0f} MB matrix; every row in order with the "
                f"server's vector: {'yes' if ours['matches_server'] else '**no**'}")]


def bench_list(quick: bool) -> list[Row]:
    """10,000 files through pagination into a DataFrame."""
    count = 2000 if quick else 10000
    runs = 1 if quick else 5
    with ReplayServer(files=count) as server:
        found = rounds({"ours": ("list-ours", server.base_url), "sdk": ("list-sdk", server.base_url)}, runs)
    ours, sdk = found["ours"], found["sdk"]
    return [ratio_row(f"list {count:,} files into a DataFrame: ours / SDK auto-pagination (CPU)", median(ours, "cpu"),
                      median(sdk, "cpu"), None, detail=f"ours {median(ours, 'cpu'):.2f} s, SDK {median(sdk, 'cpu'):.2f} s CPU; "
                                                       f"wall {median(ours, 'wall'):.2f} s vs {median(sdk, 'wall'):.2f} s")]


def bench_images(quick: bool) -> list[Row]:
    """A grid of 4 generated images from the sandbox, displayed: seconds and PNG decodes."""
    result = worker("images", runs=1 if quick else 3)
    decodes = max(r["decodes"] for r in result)
    return [Row("images: PNG decodes to display a grid of 4", decodes, "decodes", "≤ 4 (each once)", decodes <= 4,
                f"median {median(result, 'wall'):.2f} s for request, decode and display")]


def bench_partial(quick: bool) -> list[Row]:
    """`%image --partial 3`: the client's CPU per partial image beside reading it off the wire."""
    partials, runs, repeat = 3, (1 if quick else 5), (1 if quick else 3)
    with ReplayServer() as server:
        found = worker("partial", server.base_url, str(partials), str(repeat), runs=runs)
    events = partials + 1  # and the completed image
    per_image, floor = median(found, "cpu") / events * 1000, median(found, "floor_cpu") / events * 1000
    wire = median(found, "floor_wall") / events * 1000
    return [Row(f"partial images: %image --partial {partials}, client CPU per image event", per_image, "ms",
                detail=f"2 MB of base64 per event; {median(found, 'updates'):.0f} display updates in place"),
            Row("partial images: reading one off the wire (requests, no decoding)", wire, "ms",
                detail=f"wall; its CPU {floor:.1f} ms"),
            Row("partial images: client CPU / time to read off the wire", per_image / wire, "x",
                detail=f"paired with the floor in the same process: {median(found, 'paired_ratio'):.2f} x its CPU; "
                       f"median of {runs} fresh processes, each the median of {repeat} streams")]


def bench_sandbox(quick: bool) -> list[Row]:
    """What the suites and demos lean on: the sandbox's throughput and start time."""
    result = worker("sandbox", "1" if quick else "0", runs=1)[0]
    return [Row("sandbox: small chat requests per second", result["chat_rps"], "req/s"),
            Row("sandbox: embeddings requests (64 texts) per second", result["embed_rps"], "req/s"),
            Row("sandbox: streamed chunks per second, first chunk to last", result["chunks_per_s"], "chunks/s",
                detail=f"first chunk after {result['first_chunk_s'] * 1000:.0f} ms (median)"),
            Row("sandbox: time to start", result["start_s"] * 1000, "ms", detail="median of 5 starts")]


def bench_search(quick: bool) -> list[Row]:
    """`%embed --query` over 1,000,000 cached vectors of 256 dimensions: the index kept beside the
    cache against exact numpy search over the same matrix in memory (`search_scale.py`)."""
    count = 100_000 if quick else 1_000_000
    done = subprocess.run([sys.executable, str(HERE / "search_scale.py"), str(count), "256"], capture_output=True,
                          text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"search failed: {done.stderr[-1500:]}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    index, exact = found["index_ms"], found["exact_ms"]
    return [Row(f"search {count:,} x 256: %embed --query through the index (whole magic)", index, "ms", "≤ 50",
                index <= 50, f"median of 25 queries, slowest {found['index_max_ms']:.0f} ms; the kernel's resident "
                             f"memory then {found['resident_after_index_queries_mb']:.0f} MB (the index is memory-mapped)"),
            Row(f"search {count:,} x 256: recall@10 of the index against exact numpy", found["recall_at_10"], "",
                "≥ 0.95", found["recall_at_10"] >= 0.95,
                f"vectors with the spectrum of real embeddings; the mean cosine of its ten is "
                f"{found['similarity_kept']:.3f} of the exact ten's (search_scale.py)"),
            Row(f"search {count:,} x 256: exact numpy top 10 (the search alone, matrix in memory)", exact, "ms",
                detail=f"the {count * 256 * 4 / 1e9:.2f} GB matrix read from the cache first"),
            Row(f"search {count:,} x 256: the index's search alone", found["search_ms"], "ms"),
            ratio_row(f"search {count:,} x 256: %embed -i docs --query (input named again) / --query alone",
                      found["index_with_input_ms"], index, None,
                      detail=f"{found['index_with_input_ms']:.0f} ms: the texts hashed to know the index holds them"),
            ratio_row(f"search {count:,} x 256: exact numpy / the index, the search alone", exact, found["search_ms"],
                      None),
            ratio_row(f"search {count:,} x 256: exact %embed -i docs --query (cache read each time) / through the index",
                      found["whole_exact_s"] * 1000, index, None,
                      detail=f"{found['whole_exact_s']:.1f} s, one run: the way without an index"),
            Row(f"search {count:,} x 256: first query, index built from the cache", found["first_query_s"], "s",
                detail=f"once per collection; storing the vectors in the cache took {found['store_s']:.0f} s")]


def bench_map(quick: bool) -> list[Row]:
    """The explorer's map of 100,000 points (PCA, then UMAP): seconds and peak memory, one fresh process each."""
    count = 20000 if quick else 100000
    rows = []
    for method in ("pca", "umap"):
        done = subprocess.run([sys.executable, str(HERE / "explore_map.py"), method, str(count)], capture_output=True,
                              text=True, timeout=3600)
        if done.returncode != 0:
            raise RuntimeError(f"map {method} failed: {done.stderr[-1500:]}")
        found = json.loads(done.stdout.strip().splitlines()[-1])
        rows += [Row(f"map of {count:,} x 1,536 ({method.upper()}, 8 k-means clusters): explore()", found["explore_s"], "s",
                     detail=f"{found['cpu']:.0f} s CPU in all; the widget built in {found['widget_s']:.1f} s more"),
                 Row(f"map of {count:,} x 1,536 ({method.upper()}): peak memory growth / float32 vectors",
                     found["peak_growth_mb"] / found["vectors_mb"], "x",
                     detail=f"{found['peak_growth_mb']:.0f} MB over {found['vectors_mb']:.0f} MB of vectors already held")]
    return rows


def cache_bytecode() -> None:
    """Let every process started from here read and write compiled bytecode in a writable cache.

    With PYTHONDONTWRITEBYTECODE set (as on some shared machines) or a read-only installation, each
    fresh process would compile every module it imports again, and a start would measure the compiler.
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    prefix = Path(tempfile.gettempdir()) / "oai-magics-bench-pycache"
    prefix.mkdir(exist_ok=True)
    os.environ["PYTHONPYCACHEPREFIX"] = str(prefix)


BENCHES: dict[str, Callable[[bool], list[Row]]] = {
    "load": bench_load, "stream": bench_stream, "embed": bench_embed, "memory": bench_memory, "list": bench_list,
    "images": bench_images, "partial": bench_partial, "sandbox": bench_sandbox, "search": bench_search,
    "map": bench_map,
}


# -- the report --------------------------------------------------------------------------------
def machine() -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    memory = next((int(line.split()[1]) // 2**20 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0) if Path("/proc/meminfo").exists() else 0
    versions = []
    for package in ("oai_magics", "openai", "requests", "urllib3", "numpy", "pybase64", "pandas", "IPython", "ipykernel"):
        try:
            versions.append(f"{package} {__import__(package).__version__}")
        except Exception:
            pass
    return [f"- machine: {platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores, {memory} GiB",
            f"- Python {platform.python_version()}; " + ", ".join(versions),
            f"- measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; a busy machine widens the spread"]


def load_note(before: tuple[float, float, float]) -> str:
    """The machine's load average (1, 5 and 15 minutes) when the run began and when it ended."""
    after = os.getloadavg()
    shown = lambda load: ", ".join(f"{value:.2f}" for value in load)  # noqa: E731
    note = f"- load average at the start {shown(before)}, at the end {shown(after)} ({os.cpu_count()} cores)"
    if max(before[0], after[0]) > (os.cpu_count() or 1):
        note += ": other work shared the machine, so wall times are inflated; the CPU-time ratios hold better"
    return note


def loads_note(loads: dict[str, float]) -> str:
    """The 1-minute load average as each benchmark began: which rows ran on a busy machine."""
    return "- 1-minute load average as each benchmark began: " + ", ".join(f"{name} {load:.1f}" for name, load in loads.items())


def report(rows: list[Row], quick: bool, load_before: tuple[float, float, float], loads: dict[str, float]) -> str:
    lines = ["# Benchmark results", "", "Made by `make bench` (`python benchmarks/run.py`); see `benchmarks/README.md`.",
             "", *machine(), load_note(load_before), loads_note(loads),
             *(["- **quick run**: fewer runs, smaller sizes"] if quick else []), "",
             "| measurement | value | goal | met | detail |", "|---|---:|---|---|---|"]
    for row in rows:
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        value = f"{row.value:,.2f} {row.unit}" if row.value < 1000 else f"{row.value:,.0f} {row.unit}"
        lines.append(f"| {row.name} | {value} | {row.goal} | {met} | {row.detail} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", choices=[*BENCHES, []], help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller sizes")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md", help="where to write the table")
    args = parser.parse_args()
    cache_bytecode()
    load_before = os.getloadavg()
    rows: list[Row] = []
    loads: dict[str, float] = {}
    for name in args.names or list(BENCHES):
        loads[name] = os.getloadavg()[0]
        started = time.perf_counter()
        found = BENCHES[name](args.quick)
        rows += found
        for row in found:
            print(f"{row.name}: {row.value:,.3f} {row.unit} {row.goal} {'' if row.met is None else ('ok' if row.met else 'MISSED')}")
        print(f"  ({name}: {time.perf_counter() - started:.0f} s)", flush=True)
    args.out.write_text(report(rows, args.quick, load_before, loads), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
