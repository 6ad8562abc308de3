"""Many requests at once, whatever they are: pacing by the rate limits (`pacing`), the worker threads
and Ctrl-C (`workers`), progress bars (`progress`), one request per row (`rows`), token estimates
(`estimates`), and Batch API jobs: the store that outlives the kernel (`store`), input files split by
the per-batch limits (`batch_files`), following the batches (`batch_status`), chat rows as a job
(`chat_batches`) and the DataFrame kept with it (`job_frames`). `%%chat --each` and `%embed` stand on it.

Nothing is imported here: each module is imported on its own, on first use.
"""
