"""%oai jobs: the Batch API jobs of every kind in one place, against the sandbox; the short forms
(`%embed --jobs/--collect`, `%chat --collect`) give the same answers."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError

from oai_magics.magics import session_of

from .conftest import run

TEMPLATE = "Is this review happy? {{row.text}}"


def reviews(count: int) -> pd.DataFrame:
    return pd.DataFrame({"text": [f"review {i}: the soup was {'hot' if i % 3 else 'cold'}" for i in range(count)]},
                        index=[f"r{i}" for i in range(count)])


def test_help_names_the_jobs_subcommands(shell: Any) -> None:
    assert "  jobs  " in run(shell, "oai", "help")[1].stdout
    listed = run(shell, "oai", "jobs help")[1].stdout
    assert all(f"  {name}" in listed for name in ("list", "show", "collect", "resend", "forget"))


def test_jobs_of_both_kinds_are_listed_and_collected_as_their_short_forms_give_them(shell: Any) -> None:
    shell.user_ns["reviews"] = reviews(3)
    chat_job, _ = run(shell, "chat", "--each reviews --batch", TEMPLATE)
    shell.user_ns["docs"] = ["one text", "another", "a third"]
    embedding_job, _ = run(shell, "embed", "-i docs -d 8 --batch --no-cache")
    listed, _ = run(shell, "oai", "jobs")  # list is the default
    pd.testing.assert_frame_equal(listed, run(shell, "embed", "--jobs")[0])
    assert listed.set_index("job").loc[[chat_job.id, embedding_job.id], "kind"].tolist() == ["chat", "embeddings"]

    replies, _ = run(shell, "oai", f"jobs collect {chat_job.id} --wait -o replies")
    pd.testing.assert_frame_equal(replies, run(shell, "chat", f"--collect {chat_job.id}")[0])
    assert shell.user_ns["replies"] is replies and replies["reply"].str.len().gt(0).all()
    vectors, _ = run(shell, "oai", f"jobs collect {embedding_job.id} --wait")
    pd.testing.assert_frame_equal(vectors, run(shell, "embed", f"--collect {embedding_job.id}")[0])
    assert list(vectors["text"]) == shell.user_ns["docs"] and vectors.shape == (3, 9)


def test_show_asks_the_server_how_each_batch_is_doing(shell: Any) -> None:
    shell.user_ns["docs"] = [f"text {i}" for i in range(6)]
    job, _ = run(shell, "embed", "-i docs -d 4 --batch --no-cache")
    run(shell, "oai", f"jobs collect {job.id} --wait")
    batches, out = run(shell, "oai", f"jobs show {job.id} -o batches")  # a table, so -o as on every listing
    assert shell.user_ns["batches"] is batches
    assert list(batches["id"]) == [b["id"] for b in job.batches] and list(batches["status"]) == ["completed"]
    assert f"embedding job {job.id}: 6 texts in 1 batch(es), completed" in out.stdout


def test_resend_sends_only_the_failed_rows_of_a_chat_job_again(shell: Any, faults: Any) -> None:
    shell.user_ns["reviews"] = reviews(20)
    direct, _ = run(shell, "chat", "--each reviews", TEMPLATE)
    faults(path="/v1/chat/completions", status=400, count=3, message="Injected bad row.")  # the first 3 lines fail
    job, _ = run(shell, "chat", "--each reviews --batch", TEMPLATE)
    answers, out = run(shell, "oai", f"jobs collect {job.id} --wait")
    assert list(answers.index[answers["error"].notna()]) == ["r0", "r1", "r2"] and "3 of 20 rows failed" in out.stdout
    resent, _ = run(shell, "oai", f"jobs resend {job.id} --wait")
    assert resent.id == job.id and len(resent.batches) == 2
    lines = session_of(shell).client.files.content(resent.batches[1]["input_file_id"]).splitlines()
    assert [json.loads(line)["custom_id"] for line in lines] == ["row-0", "row-1", "row-2"]
    final, out = run(shell, "oai", f"jobs collect {job.id} --wait")
    pd.testing.assert_frame_equal(final, direct)  # each resent row answered by its new batch, its error gone
    assert "failed" not in out.stdout


def test_resend_of_an_embedding_job_is_the_short_forms_resend(shell: Any, faults: Any) -> None:
    shell.user_ns["docs"] = [f"sentence number {i}" for i in range(9)]
    job, _ = run(shell, "embed", "-i docs -d 4 --batch --batch-size 3 --no-cache")
    faults(path="/v1/embeddings", status=400, count=1, message="Injected bad line.")
    resent, _ = run(shell, "oai", f"jobs resend {job.id} --wait")
    assert len(resent.batches) == 2
    frame, _ = run(shell, "oai", f"jobs collect {job.id} --wait")
    assert not frame.isna().any().any() and list(frame["text"]) == shell.user_ns["docs"]


def test_forget_removes_a_job_from_the_store_only(shell: Any) -> None:
    shell.user_ns["docs"] = ["kept", "forgotten"]
    kept, _ = run(shell, "embed", "-i docs -d 4 --batch --no-cache")
    gone, _ = run(shell, "embed", "-i docs -d 8 --batch --no-cache")
    _, out = run(shell, "oai", f"jobs forget {gone.id}")
    assert f"forgot {gone.id}" in out.stdout and "left as they are" in out.stdout
    assert run(shell, "oai", "jobs list")[0]["job"].tolist() == [kept.id]
    assert session_of(shell).client.batches.retrieve(gone.batches[0]["id"])["id"] == gone.batches[0]["id"]  # still there
    with pytest.raises(UsageError, match=rf"no Batch API job '{gone.id}'; recent jobs: {kept.id}$"):
        shell.run_line_magic("oai", f"jobs collect {gone.id}")


@pytest.mark.parametrize("command", ["show", "collect", "resend", "forget"])
def test_an_unknown_job_is_one_line(shell: Any, command: str) -> None:
    with pytest.raises(UsageError, match="no Batch API job 'job-nope'; recent jobs: none yet"):
        shell.run_line_magic("oai", f"jobs {command} job-nope")
