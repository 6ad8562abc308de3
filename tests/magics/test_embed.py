"""%embed in a real shell against the sandbox."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from oai_magics.magics import session_of
from oai_magics.sandbox.embeddings import embed as sandbox_vector
from tests.helpers.rawserver import answer
from tests.helpers.shells import use_server

from .conftest import run


def test_cell_embeds_one_text_per_line(shell: Any) -> None:
    frame, _ = run(shell, "embed", "-d 32", "The cat sat on the mat\n\nA cat was sitting on a mat\nRevenue grew 10%\n")
    assert list(frame["text"]) == ["The cat sat on the mat", "A cat was sitting on a mat", "Revenue grew 10%"]
    assert frame.shape == (3, 33) and all(frame[f"e{i}"].dtype == np.float32 for i in range(32))
    assert np.allclose(np.linalg.norm(frame.iloc[:, 1:].to_numpy(), axis=1), 1, atol=1e-5)


def test_a_cell_line_holding_a_unicode_line_separator_stays_one_text(shell: Any) -> None:
    # A line of %%embed is one text. str.splitlines() also ends a line at U+2028, U+2029 and U+0085,
    # which text copied from web pages holds and a notebook's editor shows inside one line: the text
    # came back as two rows, and in --batch it went out as two requests.
    frame, _ = run(shell, "embed", "-d 8", "alpha\u2028beta\nthree\u2029four\r\nfive\x85six\n")
    assert list(frame["text"]) == ["alpha\u2028beta", "three\u2029four", "five\x85six"]


def test_a_job_kept_in_the_other_store_says_which_profile_collects_it(shell: Any) -> None:
    # The built-in sandbox keeps its jobs apart from the user's. After `%oai use` across that line,
    # --collect answered "no embedding job 'job-...'; recent jobs: none yet" for a job made a moment
    # before: the confusion a collect from the job's own profile was meant to end.
    job, _ = run(shell, "embed", "--batch a text sent with the user's profile")
    run(shell, "oai", "use sandbox")
    with pytest.raises(UsageError) as refused:
        shell.run_line_magic("embed", f"--collect {job.id}")
    assert "%oai use test" in str(refused.value) and "\n" not in str(refused.value)
    own, _ = run(shell, "embed", "--batch a text sent to the built-in sandbox")
    run(shell, "oai", "use test")
    with pytest.raises(UsageError) as refused:
        shell.run_line_magic("oai", f"jobs show {own.id}")
    assert "%oai use sandbox" in str(refused.value)


def test_series_keeps_its_index_and_dataframe_column(shell: Any) -> None:
    shell.user_ns["reviews"] = pd.Series(["great coffee", "awful service"], index=["r1", "r2"])
    frame, _ = run(shell, "embed", "-i reviews -o vectors")
    assert list(frame.index) == ["r1", "r2"] and shell.user_ns["vectors"] is frame
    shell.user_ns["table"] = pd.DataFrame({"body": ["one text", "two text"]}, index=[10, 20])
    frame, _ = run(shell, "embed", "-i table --column body")
    assert list(frame.index) == [10, 20]
    with pytest.raises(UsageError, match="name the text column with --column"):
        shell.run_line_magic("embed", "-i table")


def test_query_ranks_neighbours(shell: Any) -> None:
    shell.user_ns["docs"] = ["How to bake sourdough bread", "Sourdough starter feeding schedule",
                             "Quarterly earnings call notes", "Stock market outlook for investors"]
    ranked, _ = run(shell, "embed", "-i docs --query 'baking sourdough at home' -k 2")
    assert list(ranked.columns) == ["text", "similarity"] and len(ranked) == 2
    assert set(ranked["text"]) == {"How to bake sourdough bread", "Sourdough starter feeding schedule"}


def test_plot_draws_a_labelled_map(shell: Any) -> None:
    from oai_magics.display.plots import embedding_map

    long = "a review that goes on for far longer than any label on a map should"
    shell.user_ns["docs"] = ["apple pie", "apple tart", "rocket launch", long]
    value, out = run(shell, "embed", "-i docs --plot")
    assert value is None and isinstance(shell.user_ns["_"], pd.DataFrame)
    figures = [o for o in out.outputs if "image/png" in o.data]
    assert len(figures) == 1 and figures[0].data["image/png"]
    with capture_output():
        figure = embedding_map(shell.user_ns["_"])
    anchors = {t.get_text(): t.xy for t in figure.axes[0].texts}  # drawn loneliest point first, not in row order
    points = figure.axes[0].collections[0].get_offsets()
    for label, point in zip(["apple pie", "apple tart", "rocket launch", long[:27] + "…"], points):
        assert np.allclose(anchors[label], point)  # each label on its own point


def test_bad_rows_are_named(shell: Any) -> None:
    shell.user_ns["texts"] = ["fine", "", "also fine", "   "]
    with pytest.raises(UsageError, match=r"empty or non-text input in row\(s\) 1, 3"):
        shell.run_line_magic("embed", "-i texts")
    shell.user_ns["texts"] = ["fine", "word " * 9000]
    with pytest.raises(UsageError, match=r"too long to embed .* row\(s\) 1"):
        shell.run_line_magic("embed", "-i texts")


def test_many_texts_are_batched_concurrently(shell: Any) -> None:
    from oai_magics.magics import session_of

    shell.user_ns["many"] = [f"sentence number {i} about topic {i % 7}" for i in range(300)]
    before = len(session_of(shell).records)
    frame, out = run(shell, "embed", "-i many --batch-size 50 -d 8")
    assert frame.shape == (300, 9) and list(frame["text"]) == shell.user_ns["many"]
    expected = np.stack([sandbox_vector(t, 1536, 8) for t in shell.user_ns["many"]])
    assert np.allclose(frame.iloc[:, 1:].to_numpy(), expected, atol=1e-6)  # each vector on its text's row
    assert len(session_of(shell).records) - before == 6
    assert "embedding" in out.stderr  # the progress bar


def test_a_failed_batch_is_reported_with_what_succeeded(shell: Any, faults: Any) -> None:
    shell.user_ns["many"] = [f"text {i}" for i in range(40)]
    faults(path="/v1/embeddings", status=500, count=6)  # 3 tries x 2 attempts: the first batch fails for good
    shell.run_line_magic("config", "OAIMagics.max_retries = 2")
    with pytest.raises(UsageError, match=r"1 of 4 batches failed \(rows 0-9\).*30 rows succeeded"):
        with_waits_skipped(shell)
    partial = shell.user_ns["_"]
    assert partial["e0"].isna().sum() == 10 and partial.iloc[10:]["e0"].notna().all()


def with_waits_skipped(shell: Any) -> None:
    from oai_magics.magics import session_of

    session_of(shell).client._requester.sleep = lambda seconds: None
    shell.run_line_magic("embed", "-i many --batch-size 10 --workers 1 -d 4")


def test_ctrl_c_during_a_long_embedding_keeps_the_finished_batches(sandbox: Any) -> None:
    import signal
    import threading

    from oai_magics.client import Client
    from oai_magics.embeddings import EmbeddingJobError, embed_texts

    client = Client(api_key=sandbox.api_key, base_url=sandbox.base_url)
    main = threading.main_thread().ident

    def interrupt_after_first(record: Any) -> None:  # runs in the worker, right after batch one
        client.listeners.remove(interrupt_after_first)
        signal.pthread_kill(main, signal.SIGINT)

    client.listeners.append(interrupt_after_first)
    texts = [f"text number {i}" for i in range(40)]
    with pytest.raises(EmbeddingJobError, match="interrupted") as info:
        embed_texts(client, texts, "text-embedding-3-small", dimensions=4, batch_size=10, workers=1, progress=False)
    done = ~np.isnan(info.value.matrix[:, 0])
    assert done[:10].all() and 10 <= done.sum() < 40


def test_embed_of_a_text_with_a_lone_surrogate_is_not_a_traceback_wall(shell: Any) -> None:
    shell.user_ns["texts"] = ["ok", "name read with surrogateescape \udcff"]
    with capture_output() as shown:
        result = shell.run_cell("%embed -i texts")
    assert "Traceback" not in shown.stdout + shown.stderr
    assert result.error_in_exec is None or not isinstance(result.error_in_exec, UnicodeError)


# -- embeddings in other shapes, from a raw server ---------------------------------------------------

@pytest.mark.parametrize("vector", [b"[NaN, 0.5]", b"[1e300, 0.5]", b"[]"], ids=["nan", "beyond float32", "empty"])
def test_an_embedding_that_is_no_usable_vector_is_one_line(serve: Any, raw_shell: InteractiveShell, vector: bytes) -> None:
    # The check on vectors takes any list numpy turns into float32: NaN (which Python's json reads),
    # a value float32 turns into inf, and an empty list (a DataFrame with no e0 column) all come back
    # as embeddings, and with the cache on they are kept for every later run.
    use_server(raw_shell, serve(answer(b'{"object": "list", "model": "m", "data": [{"object": "embedding", "index": 0, '
                            b'"embedding": ' + vector + b"}]}")))
    with pytest.raises(UsageError) as info, capture_output():
        raw_shell.run_line_magic("embed", "--no-cache -o vec hello")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("vector", [b'["0.1", "0.2"]', b"[true, false]"], ids=["strings", "booleans"])
def test_an_embedding_of_strings_or_booleans_is_no_vector(serve: Any, raw_shell: InteractiveShell, vector: bytes) -> None:
    # `_vector` says a string among the numbers is no vector, but np.asarray(dtype=float32) parses
    # "0.1" and takes true as 1.0: a server that sends them has its answer cached as real vectors.
    use_server(raw_shell, serve(answer(b'{"object": "list", "model": "m", "data": [{"object": "embedding", "index": 0, '
                            b'"embedding": ' + vector + b"}]}")))
    with pytest.raises(UsageError), capture_output():
        raw_shell.run_line_magic("embed", "--no-cache -o vec hello")


def test_an_embedding_whose_base64_is_wrapped_in_lines_is_read(serve: Any, raw_shell: InteractiveShell) -> None:
    # Images now accept base64 wrapped every 76 characters (what `base64.encodebytes` and many Java
    # and .NET servers write); the same servers' embeddings, asked for as base64 by default, are
    # still refused as "not a vector of numbers".
    values = np.arange(1, 33, dtype="<f4") / 10
    wrapped = base64.encodebytes(values.tobytes()).decode()
    assert "\n" in wrapped.rstrip("\n")
    use_server(raw_shell, serve(answer(json.dumps({"object": "list", "model": "m", "data": [
        {"object": "embedding", "index": 0, "embedding": wrapped}]}).encode())))
    with capture_output():
        raw_shell.run_line_magic("embed", "--no-cache -o vec hello")
    assert np.allclose(raw_shell.user_ns["vec"].filter(regex=r"^e\d+$").to_numpy(dtype="float32").ravel(), values)
