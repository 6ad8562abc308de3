"""The Batch API side of a job against a live sandbox: its output files read back record by record."""

from __future__ import annotations

import json

from oai_magics.client import Client
from oai_magics.jobs.batch_files import output_records
from oai_magics.jobs.store import Job


def test_a_batch_record_whose_text_holds_a_line_separator_is_read_whole(client: Client) -> None:
    # A text's U+2028, U+2029 and U+0085 stand raw inside its record's JSON; only "\n" ends a record.
    records = [{"custom_id": name, "response": {"body": {"text": f"before{separator}after"}}}
               for name, separator in (("ls", "\u2028"), ("ps", "\u2029"), ("nel", "\u0085"))]
    content = "".join(json.dumps(record, ensure_ascii=False) + "\r\n" for record in records).encode()
    upload = client.files.create(("out.jsonl", content), purpose="batch")
    job = Job(id="job-1", server=client.base_url, model="m", dimensions=None, texts=[],
              batches=[{"output_file_id": upload["id"]}])
    assert output_records(client, job) == records
