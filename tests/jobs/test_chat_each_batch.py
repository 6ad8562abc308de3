"""%%chat --each --batch: the rows through the Batch API, collected into the frame the direct path
gives, failures marked per row and sent again alone; the job kept with the embedding jobs."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from oai_magics.client import Client
from oai_magics.jobs.store import JobStore
from oai_magics.jobs.batch_files import BatchLimits
from oai_magics.jobs.chat_batches import collect_chat, submit_chat

from .conftest import run

TEMPLATE = "Is this review happy? {{row.text}}"


def reviews(count: int) -> pd.DataFrame:
    return pd.DataFrame({"text": [f"review {i}: the tea was {'fine' if i % 4 else 'weak'}" for i in range(count)]},
                        index=[f"r{i}" for i in range(count)])


def test_batched_rows_give_the_direct_frame_and_failed_rows_are_sent_again_alone(shell: Any, faults: Any) -> None:
    shell.user_ns["reviews"] = reviews(200)
    direct, _ = run(shell, "chat", "--each reviews --into verdict", TEMPLATE)
    faults(path="/v1/chat/completions", status=400, count=5, message="Injected bad row.")  # the first 5 lines fail
    job, out = run(shell, "chat", "--each reviews --into verdict --batch", TEMPLATE)
    assert job.id.startswith("job-") and job.kind == "chat" and f"%chat --collect {job.id}" in out.stdout
    answers, out = run(shell, "chat", f"--collect {job.id} --wait -o answers")
    assert list(answers.columns) == ["text", "verdict", "error"] and list(answers.index) == list(direct.index)
    failed = answers["error"].notna()
    assert list(answers.index[failed]) == [f"r{i}" for i in range(5)] and "5 of 200 rows failed" in out.stdout
    assert answers.loc[failed, "error"].str.contains("Injected bad row").all() and answers.loc[failed, "verdict"].isna().all()
    pd.testing.assert_series_equal(answers.loc[~failed, "verdict"], direct.loc[~failed, "verdict"])

    again, _ = run(shell, "chat", "--each answers --into verdict --batch", TEMPLATE)
    assert again.counts()["total"] == 0 and sum(p is not None for p in again.texts) == 5  # only the failed rows
    final, _ = run(shell, "chat", f"--collect {again.id} --wait")
    pd.testing.assert_frame_equal(final.drop(columns="error"), direct.drop(columns="error"))
    assert final["error"].isna().all()


def test_json_fields_come_through_the_batch_too(shell: Any) -> None:
    shell.user_ns["names"] = ["Ada", "Grace"]
    direct, _ = run(shell, "chat", "--each names --json", "Give a JSON object about {{row}}")
    job, _ = run(shell, "chat", "--each names --json --batch", "Give a JSON object about {{row}}")
    batched, _ = run(shell, "chat", f"--collect {job.id} --wait")
    assert json.loads(batched["reply"].iloc[0]) and list(batched.columns) == list(direct.columns)
    pd.testing.assert_frame_equal(batched, direct)


def test_schema_columns_come_through_the_batch_typed_as_the_direct_path_types_them(shell: Any) -> None:
    shell.user_ns["names"] = ["Ada", "Grace"]
    line = "--each names --schema 'name: str, age: int, tall: bool, tags: list[str]'"
    direct, _ = run(shell, "chat", line, "Describe {{row}}")
    job, _ = run(shell, "chat", f"{line} --batch", "Describe {{row}}")
    batched, _ = run(shell, "chat", f"--collect {job.id} --wait")
    assert str(batched["age"].dtype) == "Int64" and str(batched["tall"].dtype) == "boolean"
    pd.testing.assert_frame_equal(batched, direct)


def test_a_chat_job_is_listed_with_the_embedding_jobs_and_only_chat_collects_it(shell: Any) -> None:
    shell.user_ns["names"] = ["Ada", "Grace"]
    job, _ = run(shell, "chat", "--each names --batch", "Hello {{row}}")
    shell.user_ns["docs"] = ["one text", "another", "a third"]
    embedding_job, _ = run(shell, "embed", "-i docs -d 8 --batch --no-cache")
    jobs = run(shell, "embed", "--jobs")[0].set_index("job")
    assert jobs.loc[job.id, ["kind", "inputs", "model", "collect"]].tolist() == [
        "chat", 2, "gpt-5.4-mini", f"%chat --collect {job.id}"]
    assert jobs.loc[embedding_job.id, ["kind", "inputs", "collect"]].tolist() == [
        "embeddings", 3, f"%embed --collect {embedding_job.id}"]
    assert repr(job).startswith(f"<%%chat --each job {job.id}: 2 rows") and repr(job).endswith(f"%chat --collect {job.id}>")
    with pytest.raises(UsageError, match=rf"{job.id} is a %%chat --each job: collect it with %chat --collect"):
        shell.run_line_magic("embed", f"--collect {job.id}")
    with pytest.raises(UsageError, match="--batch goes with --each"):
        shell.run_cell_magic("chat", "--batch", "Hello")


def test_rows_are_split_over_the_per_batch_limits_and_collected_by_a_new_store(client: Client, tmp_path: Any) -> None:
    prompts = [f"Say {i}" if i % 10 else None for i in range(120)]  # every tenth row already answered
    params = {"model": "gpt-4o-mini"}
    store = JobStore(tmp_path / "jobs.sqlite")
    job = submit_chat(client, store, prompts, params, [], extra={}, limits=BatchLimits(requests=50))
    assert [len(client.files.content(b["input_file_id"]).splitlines()) for b in job.batches] == [50, 50, 8]
    store.close()
    again = JobStore(tmp_path / "jobs.sqlite")  # as a new kernel would open it
    results = collect_chat(client, again, again.get(job.id), wait=True, poll=0.05)
    assert [r.value is None for r in results] == [p is None for p in prompts]
    assert all(r.error is None for r in results)
    again.close()


def test_a_frame_of_every_kind_is_collected_as_the_direct_path_gives_it(shell: Any) -> None:
    shell.user_ns["reviews"] = pd.DataFrame(
        {"text": ["café au lait, très bon", "日本語のレビュー", "plain tea"],
         "when": pd.to_datetime(["2024-01-01 05:06:07.123456", None, "2024-03-31 00:30"],
                                format="ISO8601").tz_localize("Europe/Lisbon"),
         "stars": pd.array([5, None, 3], dtype="Int64"),
         "shop": pd.Categorical(["a", "b", "a"], categories=["b", "a", "c"]),
         "note": pd.Series(["x", None, np.nan], dtype=object),
         7: [1.5, np.nan, 2.0]},
        index=pd.Index(["r1", "r2", "r3"], name="review"))
    direct, _ = run(shell, "chat", "--each reviews --json", "A JSON object about this review: {{row.text}}")
    assert isinstance(direct["keywords"].iloc[0], list)  # a nested JSON field
    answers = direct.copy()
    answers.loc[["r1", "r3"], "error"] = "503: the server was busy"  # as if these two had failed
    shell.user_ns["answers"] = answers
    job, _ = run(shell, "chat", "--each answers --json --batch", "A JSON object about this review: {{row.text}}")
    assert sum(p is not None for p in job.texts) == 2
    collected, _ = run(shell, "chat", f"--collect {job.id} --wait")
    pd.testing.assert_frame_equal(collected, direct)


def test_a_chat_job_is_collected_from_its_own_server_whatever_profile_is_active(shell: Any) -> None:
    shell.user_ns["things"] = ["a kettle", "a lamp"]
    job, _ = run(shell, "chat", "--each things --batch", "Describe {{row}}")
    with capture_output():
        shell.run_line_magic("oai", "profile add other --base-url http://127.0.0.1:9/v1 --key-env SANDBOX_TEST_KEY")
        shell.run_line_magic("oai", "use other")
    answers, _ = run(shell, "chat", f"--collect {job.id} --wait")  # from the server the job was sent to
    assert answers["error"].isna().all() and answers["reply"].str.len().gt(0).all()
