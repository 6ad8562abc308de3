"""%embed at scale in a real shell against the sandbox: the persistent cache, and Batch API jobs
that survive a restart of the shell, report their failed rows and send them again."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from oai_magics.magics import session_of
from oai_magics.sandbox import Sandbox
from oai_magics.sandbox.embeddings import embed as sandbox_vector
from tests.helpers.shells import retire

from .conftest import run


def corpus(count: int, tag: str) -> list[str]:
    return [f"{tag} document {i}: notes on topic {i % 37} and item {i * 7 % 101}" for i in range(count)]


def test_a_second_run_is_served_from_the_cache_without_a_request(shell: Any, traffic: Any) -> None:
    shell.user_ns["docs"] = corpus(120, "cached")
    first, _ = run(shell, "embed", "-i docs -d 8 --batch-size 50")
    sent = traffic.seen()
    assert sent >= 3
    again, _ = run(shell, "embed", "-i docs -d 8 --batch-size 50")
    assert traffic.seen() == sent  # the server saw nothing more
    pd.testing.assert_frame_equal(first, again)
    shell.user_ns["more"] = shell.user_ns["docs"] + ["one text the cache has not seen"]
    run(shell, "embed", "-i more -d 8 --batch-size 50")
    assert traffic.seen() == sent + 1  # only the new text went out
    run(shell, "embed", "-i docs -d 8 --batch-size 50 --no-cache")
    assert traffic.seen() == sent + 1 + 3


def test_the_cache_is_keyed_by_model_and_dimensions(shell: Any, traffic: Any) -> None:
    shell.user_ns["docs"] = corpus(10, "keyed")
    narrow, _ = run(shell, "embed", "-i docs -d 8")
    wide, _ = run(shell, "embed", "-i docs -d 16")
    assert narrow.shape == (10, 9) and wide.shape == (10, 17) and traffic.seen() == 2


def test_oai_cache_shows_entries_per_model_and_clears(shell: Any, traffic: Any) -> None:
    shell.user_ns["docs"] = corpus(25, "shown")
    run(shell, "embed", "-i docs -d 8")
    table, out = run(shell, "oai", "cache")
    assert "embedding cache:" in out.stdout
    assert table[["model", "dimensions", "entries"]].values.tolist() == [["text-embedding-3-small", 8, 25]]
    assert table["bytes"].iloc[0] == 25 * 8 * 4
    _, out = run(shell, "oai", "cache --clear")
    assert "removed 25 cached embedding(s)" in out.stdout
    run(shell, "embed", "-i docs -d 8")
    assert traffic.seen() == 2


def test_a_failed_direct_batch_is_sent_again_alone_on_the_next_run(shell: Any, faults: Any, traffic: Any) -> None:
    shell.user_ns["docs"] = corpus(40, "rerun")
    faults(path="/v1/embeddings", status=400, count=1)
    with pytest.raises(UsageError, match=r"1 of 4 batches failed \(rows 0-9\).*30 rows succeeded.*only those rows"):
        shell.run_line_magic("embed", "-i docs -d 4 --batch-size 10 --workers 1")
    sent = traffic.seen()
    frame, _ = run(shell, "embed", "-i docs -d 4 --batch-size 10 --workers 1")
    assert traffic.seen() == sent + 1 and not frame.isna().any().any()


def test_20000_texts_give_the_same_matrix_directly_and_through_the_batch_api(shell: Any) -> None:
    shell.user_ns["docs"] = pd.Series(corpus(20_000, "both"), index=[f"d{i}" for i in range(20_000)])
    direct, _ = run(shell, "embed", "-i docs -d 8 --batch-size 2048 --no-cache")
    job, _ = run(shell, "embed", "-i docs -d 8 --batch --no-cache")
    assert job.id.startswith("job-") and len(job.batches) == 1
    batched, _ = run(shell, "embed", f"--collect {job.id} --wait")
    pd.testing.assert_frame_equal(direct, batched)
    expected = np.stack([sandbox_vector(t, 1536, 8) for t in shell.user_ns["docs"].iloc[::997]])
    assert np.allclose(batched.iloc[::997, 1:].to_numpy(), expected, atol=1e-6)


def test_a_batch_job_survives_a_restart_and_is_collected(shell: Any, sandbox: Sandbox, monkeypatch: Any) -> None:
    shell.user_ns["docs"] = corpus(300, "restart")
    job, _ = run(shell, "embed", "-i docs -d 8 --batch")
    with pytest.raises(UsageError, match=rf"job {job.id} is .*add --wait"):
        shell.run_line_magic("embed", f"--collect {job.id}")
    # A new kernel: a fresh shell with the extension loaded again; nothing of the old one is kept
    # but the files in the cache folder.
    shell.run_line_magic("unload_ext", "oai_magics")
    retire(shell)
    fresh = InteractiveShell.instance()
    fresh.run_line_magic("load_ext", "oai_magics")
    with capture_output():
        fresh.run_line_magic("oai", f"profile add test --base-url {sandbox.base_url} --key-env SANDBOX_TEST_KEY")
        fresh.run_line_magic("oai", "use test")
    jobs, _ = run(fresh, "embed", "--jobs -o jobs")
    assert job.id in set(jobs["job"]) and jobs.set_index("job").loc[job.id, "inputs"] == 300
    assert fresh.user_ns["jobs"] is jobs  # -o, like every listing
    frame, _ = run(fresh, "embed", f"--collect {job.id} --wait")
    assert list(frame["text"]) == shell.user_ns["docs"] and not frame.isna().any().any()
    assert run(fresh, "embed", "--jobs")[0].set_index("job").loc[job.id, "status"] == "completed"
    fresh.run_line_magic("unload_ext", "oai_magics")
    retire(fresh)


def test_failed_batch_lines_are_reported_and_sent_again(shell: Any, faults: Any) -> None:
    shell.user_ns["docs"] = corpus(30, "lines")
    job, _ = run(shell, "embed", "-i docs -d 4 --batch --batch-size 3")  # 10 request lines of 3 texts
    faults(path="/v1/embeddings", status=400, count=2, message="Injected bad line.")  # the first two lines fail
    with pytest.raises(UsageError, match=rf"job {job.id}: 6 of 30 rows failed \(rows 0-5\).*Injected bad line.*--resend"):
        shell.run_line_magic("embed", f"--collect {job.id} --wait")
    partial = shell.user_ns["_"]
    assert partial.iloc[:6, 1:].isna().all().all() and not partial.iloc[6:, 1:].isna().any().any()
    resent, _ = run(shell, "embed", f"--collect {job.id} --wait --resend")
    assert len(resent.batches) == 2
    frame, _ = run(shell, "embed", f"--collect {job.id} --wait")
    assert not frame.isna().any().any() and list(frame["text"]) == shell.user_ns["docs"]


def test_collecting_an_unknown_job_is_one_line(shell: Any) -> None:
    with pytest.raises(UsageError, match="no embedding job 'job-nope'"):
        shell.run_line_magic("embed", "--collect job-nope")


def test_a_query_over_an_embedded_corpus_sends_nothing_again(shell: Any, traffic: Any) -> None:
    shell.user_ns["docs"] = ["How to bake sourdough bread", "Quarterly earnings call notes", "Feeding a sourdough starter"]
    first, _ = run(shell, "embed", "-i docs --query 'sourdough at home' -k 2")
    sent = traffic.seen()
    again, _ = run(shell, "embed", "-i docs --query 'sourdough at home' -k 2")
    assert traffic.seen() == sent and list(again["text"]) == list(first["text"])


def test_a_batch_job_sends_only_what_the_cache_lacks(shell: Any) -> None:
    shell.user_ns["docs"] = corpus(20, "partly")
    shell.user_ns["head"] = shell.user_ns["docs"][:15]
    run(shell, "embed", "-i head -d 8")
    job, _ = run(shell, "embed", "-i docs -d 8 --batch --batch-size 4")
    assert job.counts()["total"] == 0 and len(job.batches) == 1  # one batch of two request lines, still validating
    frame, _ = run(shell, "embed", f"--collect {job.id} --wait")
    assert job.id and not frame.isna().any().any() and list(frame["text"]) == shell.user_ns["docs"]
    done = run(shell, "embed", "--jobs")[0].set_index("job").loc[job.id]
    assert done["requests"] == 2 and done["completed"] == 2  # rows 15-19 only: 4 + 1 texts


def test_a_text_given_twice_is_served_twice_from_the_cache(shell: Any, traffic: Any) -> None:
    shell.user_ns["docs"] = ["alpha", "beta", "alpha", "gamma", "beta", "alpha"]
    first, _ = run(shell, "embed", "-i docs -d 8")
    sent = traffic.seen()
    again, _ = run(shell, "embed", "-i docs -d 8")
    assert traffic.seen() == sent
    pd.testing.assert_frame_equal(first, again)
    assert np.array_equal(again.iloc[0, 1:].to_numpy(), again.iloc[5, 1:].to_numpy())


@pytest.mark.parametrize("index", [
    pd.date_range("2026-01-01 09:30", periods=12, freq="37min", tz="Europe/Lisbon", name="sent"),
    pd.MultiIndex.from_arrays([["a", "b", "c"] * 4, range(12)], names=["group", "n"]),
], ids=["datetimes", "two-levels"])
def test_a_batch_job_gives_back_the_index_its_texts_came_with(shell: Any, index: Any) -> None:
    shell.user_ns["docs"] = pd.Series(corpus(12, "indexed"), index=index)
    job, _ = run(shell, "embed", "-i docs -d 8 --batch")
    frame, _ = run(shell, "embed", f"--collect {job.id} --wait")
    pd.testing.assert_index_equal(frame.index, index, check_freq=True)  # type, dtypes, zone, frequency, names
    assert list(frame["text"]) == shell.user_ns["docs"].tolist()


def test_a_token_in_the_base_url_is_neither_stored_nor_shown(shell: Any, sandbox: Sandbox, traffic: Any) -> None:
    # Some gateways want their token as the user of the URL: https://TOKEN@host/v1.
    token = "gw-token-7d1f"
    gateway = sandbox.base_url.replace("http://", f"http://{token}@")
    shown = []
    with capture_output() as captured:
        shell.run_line_magic("oai", f"profile add gate --base-url {gateway} --key-env SANDBOX_TEST_KEY")
        shell.run_line_magic("oai", "use gate")
        shell.user_ns["docs"] = corpus(30, "gateway")
        shell.run_line_magic("embed", "-i docs -d 8")
        job = shell.run_line_magic("embed", "-i docs -d 8 --no-cache --batch")
        shell.run_line_magic("embed", f"--collect {job.id} --wait")
        shown += [repr(job), shell.run_line_magic("oai", "cache").to_string(),
                  shell.run_line_magic("embed", "--jobs").to_string(), shell.run_line_magic("oai", "jobs").to_string()]
    assert "http://***@127.0.0.1" in shown[1] and "http://***@127.0.0.1" in shown[2]
    assert token not in captured.stdout + captured.stderr + "".join(shown)
    cache_dir = Path(os.environ["OAI_MAGICS_CACHE_DIR"])
    assert [path.name for path in cache_dir.iterdir() if token.encode() in path.read_bytes()] == []
    sent = traffic.seen()
    run(shell, "embed", "-i docs -d 8")  # the vectors stored under the masked URL are found again
    assert traffic.seen() == sent


def test_a_job_is_collected_from_its_own_server_whatever_profile_is_active(shell: Any) -> None:
    shell.user_ns["docs"] = corpus(20, "elsewhere")
    job, _ = run(shell, "embed", "-i docs -d 8 --batch")
    with capture_output():
        shell.run_line_magic("oai", "profile add other --base-url http://127.0.0.1:9/v1 --key-env SANDBOX_TEST_KEY")
        shell.run_line_magic("oai", "use other")
    frame, _ = run(shell, "embed", f"--collect {job.id} --wait")  # from the server the job was sent to
    assert list(frame["text"]) == shell.user_ns["docs"] and not frame.isna().any().any()
    table, _ = run(shell, "oai", f"jobs show {job.id}")
    assert set(table["status"]) == {"completed"}
    # When no profile points at the job's server any more, one line says which to add.
    with capture_output():
        shell.run_line_magic("oai", "profile add test --base-url http://127.0.0.1:10/v1 --key-env SANDBOX_TEST_KEY")
    with pytest.raises(UsageError, match=rf"job {job.id} was sent to http://127.0.0.1:\d+/v1, and no profile here "
                                         r"points there: add one with `%oai profile add"):
        shell.run_line_magic("embed", f"--collect {job.id}")


def test_the_builtin_sandbox_keeps_its_cache_and_jobs_in_its_own_folder(shell: Any) -> None:
    # Its vectors would otherwise pile up in the user's cache under a port no later session has.
    user_cache = Path(os.environ["OAI_MAGICS_CACHE_DIR"])
    shell.user_ns["docs"] = corpus(6, "mine")
    mine, _ = run(shell, "embed", "-i docs -d 8 --batch")  # on the user's own server: the user's store
    shell.run_line_magic("config", "OAIMagics.sandbox_job_delay = 0.05")
    run(shell, "oai", "use sandbox")
    sandbox = session_of(shell).sandbox
    shell.user_ns["docs"] = corpus(5, "sandbox")
    run(shell, "embed", "-i docs -d 8")
    job, _ = run(shell, "embed", "-i docs -d 8 --no-cache --batch")
    table, out = run(shell, "oai", "cache")
    assert str(sandbox.data_dir) in out.stdout and table["entries"].tolist() == [5]
    assert list(run(shell, "embed", "--jobs")[0]["job"]) == [job.id]
    frame, _ = run(shell, "embed", f"--collect {job.id} --wait")
    assert not frame.isna().any().any()
    with capture_output():
        shell.run_line_magic("oai", "use test")
    assert list(run(shell, "embed", "--jobs")[0]["job"]) == [mine.id]
    assert [row["entries"] for _, row in run(shell, "oai", "cache")[0].iterrows()] == []
    assert str(user_cache) in run(shell, "oai", "cache")[1].stdout


def test_embed_forget_removes_a_job_from_the_list(shell: Any) -> None:
    shell.user_ns["docs"] = corpus(4, "forgotten")
    job, _ = run(shell, "embed", "-i docs -d 8 --batch")
    _, out = run(shell, "embed", f"--forget {job.id}")
    assert out.stdout.startswith(f"forgot {job.id} (embeddings, ") and "left as they are" in out.stdout
    assert job.id not in set(run(shell, "embed", "--jobs")[0]["job"])
    with pytest.raises(UsageError, match=rf"no Batch API job '{job.id}'; recent jobs: none yet"):
        shell.run_line_magic("embed", f"--forget {job.id}")


def test_a_batch_of_texts_all_in_the_cache_gives_the_frame_at_once(shell: Any, traffic: Any) -> None:
    shell.user_ns["docs"] = corpus(6, "cached")
    first, _ = run(shell, "embed", "-i docs -d 8")
    jobs_before = len(run(shell, "embed", "--jobs")[0])
    paths = ("/v1/embeddings", "/v1/files", "/v1/batches")
    sent = [traffic.seen(path) for path in paths]
    frame, out = run(shell, "embed", "-i docs -d 8 --batch -o kept")
    assert "all 6 texts were in the cache: no Batch job was needed" in out.stdout
    pd.testing.assert_frame_equal(frame, first)
    assert shell.user_ns["kept"] is frame
    assert [traffic.seen(path) for path in paths] == sent  # nothing sent: no file, no batch, no embedding
    assert len(run(shell, "embed", "--jobs")[0]) == jobs_before  # no "empty" job left to read as a failure
    _, out = run(shell, "embed", "-d 8 --batch " + shell.user_ns["docs"][0])  # one text: not "all 1 texts"
    assert out.stdout.splitlines()[-1].startswith("the text was in the cache: no Batch job was needed")  # after the estimate


def test_the_jobs_listing_shows_what_a_person_reads_and_keeps_the_rest(shell: Any) -> None:
    shell.user_ns["docs"] = corpus(3, "listed")
    job, _ = run(shell, "embed", "-i docs -d 8 --batch --no-cache")
    table, _ = run(shell, "embed", "--jobs -o everything")
    shown = table._repr_html_()
    assert "collect" in shown and "model" not in shown and "server" not in shown and "None" not in shown
    assert list(shell.user_ns["everything"].columns)[:4] == ["job", "kind", "status", "inputs"]
    assert {"model", "server", "requests"} <= set(table.columns)  # the rest is in the frame
    created = table.set_index("job").loc[job.id, "created"]
    assert created == created.floor("s")  # to the second, not nanoseconds
