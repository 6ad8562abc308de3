"""%embed and %%embed: texts to a DataFrame of embeddings (cached, paced, or through the Batch API),
with similarity search and a 2-D map; and `%oai cache` to see and clear the embedding cache.

The cache and the Batch API jobs share one file (`store_file`): the user's, or, while recording or
replaying, one in that mode's own folder (`oai_record`), or, for the built-in sandbox profile, one in
the sandbox's own temporary data folder. The sandbox is a throwaway server
(a new port and an empty folder each session, and two kernels each start their own), so its
vectors, free to make again, would only pile up in the user's cache under keys no later session
uses, and its jobs could never be collected once it stopped: they live and go with it instead.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

from IPython.core.error import UsageError
from IPython.core.magic import line_cell_magic, magics_class, no_var_expand

from .arguments import WORKERS, a_name, an_id, argument, at_least, magic_arguments
from .embed_explore import a_cluster_count, check_map_flags, explore_embeddings, map_wanted, plot_map
from .common import SessionMagics, friendly, key_advice, key_refused, parse, publish, read_variable, store_in
from .embed_search import a_cosine, exact_note, query_vector, search_collection, search_indexed, search_latest, tidy
from .job_costs import dollars, embedding_job_costs
from .oai_table import ROUTER
from .prompts import interpolate


# Far wider than any embedding model, so that only a slip (`-d 0`, `-d -8`, a stray digit run) is refused here.
DIMENSIONS = at_least(1, 65536)


@magics_class
class EmbedMagics(SessionMagics):
    """%embed and %%embed."""

    @friendly
    @magic_arguments()
    @argument("-i", "--input", metavar="NAME", help="a variable: str, list of str, pandas Series or DataFrame")
    @argument("--column", help="with a DataFrame input: the column holding the texts")
    @argument("-m", "--model", help="the embedding model (default: %%config OAIMagics.embedding_model, else the profile's)")
    @argument("-d", "--dimensions", type=DIMENSIONS, help="shorter vectors (models that support it; 1 to 65,536)")
    @argument("--batch-size", type=at_least(1, 2048), default=512, help="inputs per request (1 to 2048; default 512)")
    @argument("--workers", type=WORKERS, default=4, help="requests in flight at once (1 to 48; default 4)")
    @argument("--no-cache", action="store_true", help="neither read nor fill the embedding cache")
    @argument("--batch", action="store_true", help="send through the Batch API and return a job at once")
    @argument("--yes", action="store_true", help="send without asking, whatever the estimate (above %%config "
              "OAIMagics.confirm_over dollars it asks first, unless a --budget covers the estimate)")
    @argument("--budget", type=dollars, metavar="DOLLARS", help="stop sending once the dollars spent plus those of "
              "the requests in flight would pass this; the rows that arrived are kept (with --batch: nothing is "
              "sent when the estimate passes it)")
    @argument("--jobs", action="store_true",
              help="list the Batch API jobs (embeddings and %%%%chat --each) with their kind, status and counts "
                   "(as %%oai jobs list does)")
    @argument("--collect", metavar="JOB", help="the DataFrame of a finished embedding job (as %%oai jobs collect does)")
    @argument("--forget", metavar="JOB", type=an_id,
              help="remove a Batch API job from the local list (as %%oai jobs forget does); its files at the server stay")
    @argument("--wait", action="store_true", help="with --collect: block until the job has ended")
    @argument("--resend", action="store_true", help="with --collect: send the job's failed rows again")
    @argument("-q", "--query", help="also rank the inputs by cosine similarity to this text (a large input through "
                                     "an index kept beside the cache; with no input, the collection indexed last)")
    @argument("-k", "--top", type=at_least(1), default=10, help="with --query: how many neighbours to show (default 10)")
    @argument("--dedupe", type=a_cosine, metavar="THRESHOLD",
              help="add a duplicate_of column: the index label of the first row each row nearly duplicates "
                   "(cosine >= THRESHOLD, such as 0.95), NA otherwise")
    @argument("--outliers", type=at_least(0), metavar="K",
              help="add an outlier column: True for the K rows furthest from their neighbours "
                   "(mean cosine distance to their 10 nearest rows)")
    @argument("--plot", action="store_true", help="draw a labelled 2-D map (PCA) of the embeddings")
    @argument("--explore", action="store_true",
              help="return an Explorer: an interactive map (hover, zoom, lasso, search, neighbours) and .selection()")
    @argument("--color-by", metavar="COLUMN",
              help="with --plot or --explore and a DataFrame input: colour the points by this column")
    @argument("--hover", metavar="COLUMN", action="append",
              help="with --explore and a DataFrame input: a column shown on hover (the flag again for another)")
    @argument("--map", choices=("pca", "umap", "tsne"), help="with --plot or --explore: how the map is made (default pca)")
    @argument("--clusters", metavar="K|auto", type=a_cluster_count,
              help="with --plot or --explore: K k-means clusters, or auto (HDBSCAN; noise is cluster -1)")
    @argument("--name-clusters", action="store_true",
              help="with --plot or --explore: the chat model names each cluster from its most central texts (cached)")
    @argument("--seed", type=at_least(0), help="with --plot or --explore: the seed of the map and clusters (default 0)")
    @argument("--no-interpolate", action="store_true", help="send {{name}} placeholders as they are")
    @argument("-o", "--output", type=a_name, metavar="NAME",
              help="store the result (the embeddings, or with --jobs the table of jobs) in this variable")
    @argument("text", nargs="*", help="a text to embed (line form); in %%embed, one text per line")
    @no_var_expand
    @line_cell_magic
    def embed(self, line: str, cell: str | None = None) -> Any:
        """Embed texts into a DataFrame: a `text` column and one float32 column per dimension."""
        args = parse(self.embed, line, namespace=self.shell.user_ns)
        if args.jobs:
            return self._jobs(args)
        if args.collect:
            return self._collect(args)
        if args.forget:
            return forget_job(self, args.forget)
        if args.query and not (args.input or args.text or (cell or "").strip()):
            return search_latest(self.session, args, self.session.model("embedding", args.model), store_file(self.session))
        texts, index = self._inputs(args, cell)
        if not texts and (args.query or args.plot or args.explore):
            raise UsageError(f"{args.input} is empty: nothing to {'rank' if args.query else 'map'}")
        table = check_map_flags(self.shell, args)  # checked before anything is sent
        colors = self._colors(args)
        from ..embeddings import EmbeddingJobError, check_texts, embed_texts
        from ..frames import embedding_frame

        model = self.session.model("embedding", args.model)
        ranks_only = args.query and not (args.plot or args.output or args.dedupe is not None or args.outliers is not None)
        if ranks_only and not args.batch:  # texts indexed before: ranked at once, checked when they were indexed
            ranking = search_indexed(self.session, args, texts, index, model, store_file(self.session))
            if ranking is not None:
                return ranking
        labels = list(index) if index is not None else list(range(len(texts)))
        try:
            check_texts(texts, labels)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        budget = embedding_job_costs(self.session, args, self._uncached(args, texts, model), model)
        if args.batch:
            job = self._submit(args, texts, index, model)
            if job.batches:
                return job
            held = "the text was" if len(texts) == 1 else f"all {len(texts)} texts were"
            print(f"{held} in the cache: no Batch job was needed, here is the frame")
        if ranks_only:
            ranking = search_collection(self.session, args, texts, index, model, store_file(self.session))
            if ranking is not None:
                return ranking
        cache = self._cache(args)
        try:
            with budget.watching(self.session.client) if budget is not None else contextlib.nullcontext():
                matrix = embed_texts(self.session.client, texts, model, dimensions=args.dimensions,
                                     batch_size=args.batch_size, workers=args.workers, cache=cache, budget=budget)
        except EmbeddingJobError as exc:
            partial = embedding_frame(texts, exc.matrix, index) if exc.matrix.shape[1] else None
            publish(self.shell, partial, args.output)
            raise UsageError(f"{exc} (the partial result, NaN where rows failed, is in `_`"
                             f"{' and ' + args.output if args.output else ''}{self._next_step(exc, args)})") from None
        finally:
            if cache is not None:
                cache.close()
        frame = tidy(self.session, embedding_frame(texts, matrix, index), args)
        if args.output:
            self.shell.user_ns[args.output] = frame
        if args.explore:
            explorer = explore_embeddings(self, args, frame, table, None if args.no_cache else store_file(self.session))
            if args.output:
                self.shell.user_ns[args.output] = explorer
            return explorer
        if args.plot and map_wanted(args):
            plot_map(self, args, frame, table, None if args.no_cache else store_file(self.session))
            if not args.query:
                publish(self.shell, frame, args.output)
                return None
            args.plot = False  # drawn: what is left is the query
        return self._explore(args, frame, model, colors) if (args.query or args.plot) else frame

    def _uncached(self, args: Any, texts: list[str], model: str) -> list[str]:
        """The texts the cache does not hold (all with --no-cache): what is held is not sent, nor paid, again."""
        cache = self._cache(args)
        if cache is None:
            return texts
        try:
            return [texts[row] for row in cache.missing(self.session.client.base_url, model, args.dimensions, texts)]
        finally:
            cache.close()

    def _next_step(self, exc: Exception, args: Any) -> str:
        """After failed rows: a refused key is no reason to send them again; otherwise the cache keeps the rest."""
        if key_refused(exc.__cause__):
            return f"; the server refused the key: {key_advice(self.session)}"
        return "" if args.no_cache else "; run it again to send only those rows"

    # -- inputs and the cache ------------------------------------------------------------------
    def _inputs(self, args: Any, cell: str | None) -> tuple[list[str], Any]:
        """The texts, and the index to keep (a Series' or DataFrame's own)."""
        if args.input:
            value = read_variable(self.shell, args.input)
            if hasattr(value, "columns"):  # a DataFrame
                if not args.column:
                    raise UsageError(f"{args.input} is a DataFrame: name the text column with --column")
                if args.column not in value.columns:
                    raise UsageError(f"{args.input} has no column {args.column!r}")
                value = value[args.column]
            if hasattr(value, "index") and hasattr(value, "tolist"):  # a Series
                return value.tolist(), value.index
            if isinstance(value, str):
                return [value], None
            if isinstance(value, (list, tuple)):
                return list(value), None
            raise UsageError(f"{args.input} is a {type(value).__name__}: give a str, a list of str, a Series or a DataFrame")
        if cell is not None:
            # "\n" only: splitlines() also breaks at U+2028, U+2029 and U+0085, inside what the editor shows as one line
            texts = [line.strip() for line in cell.split("\n") if line.strip()]
        else:
            texts = [" ".join(args.text)] if args.text else []
        if not args.no_interpolate:
            texts = [interpolate(t, self.shell.user_ns) for t in texts]
        if not texts:
            raise UsageError("Nothing to embed: give a text, -i VARIABLE, or one text per line in %%embed.")
        return texts, None

    def _cache(self, args: Any) -> Any:
        return open_cache(self.session, args.no_cache)

    # -- Batch API jobs ------------------------------------------------------------------------
    def _submit(self, args: Any, texts: list[str], index: Any, model: str) -> Any:
        from ..embeddings.batch_jobs import submit

        with stores(self.session, args.no_cache) as (store, cache):
            job = submit(self.session.client, store, texts, model, dimensions=args.dimensions, index=index,
                         cache=cache, batch_size=args.batch_size)
        if args.output and job.batches:
            self.shell.user_ns[args.output] = job
        return job

    def _jobs(self, args: Any) -> Any:
        """Every Batch API job, `%embed --batch` and `%%chat --each --batch` alike, in one table."""
        from ..jobs.store import job_listing

        with stores(self.session, no_cache=True) as (store, _):
            frame = job_listing(store.current())
        if args.output:
            store_in(self.shell, frame, args.output)
        return frame

    def _collect(self, args: Any) -> Any:
        return collect_embeddings(self, args.collect, wait=args.wait, resend=args.resend, output=args.output,
                                  no_cache=args.no_cache)

    # -- exploring -----------------------------------------------------------------------------
    def _colors(self, args: Any) -> Any:
        """The column named by --color-by, from the DataFrame given with -i; None without the flag."""
        if not args.color_by:
            return None
        return read_variable(self.shell, args.input)[args.color_by]  # check_map_flags made sure it is there

    def _explore(self, args: Any, frame: Any, model: str, colors: Any = None) -> Any:
        from ..display.plots import TooManyGroups, embedding_map
        from ..frames import similarity_frame

        if args.plot:
            try:
                embedding_map(frame, colors)
            except TooManyGroups as exc:
                raise UsageError(f"--color-by: {exc}") from None
        if not args.query:
            publish(self.shell, frame, args.output)
            return None
        exact_note(self.session, len(frame), frame.shape[1] - 1)
        cache_path = None if args.no_cache else store_file(self.session)
        return similarity_frame(frame, query_vector(self.session, args, model, cache_path), top=args.top)


def store_file(session: Any) -> Path:
    """The file of the embedding cache and the Batch API jobs: `%config OAIMagics.cache_path`, else
    the cache folder's; while recording or replaying, or with the built-in sandbox profile, their own
    (module docstring)."""
    from ..embeddings.cache import cache_file

    if session.tape is not None:
        return session.tape.data_dir / "embeddings.sqlite"
    if session.profile.sandbox:
        return Path(session.start_sandbox().data_dir) / "embeddings.sqlite"
    return cache_file(session.settings.cache_path)


def open_cache(session: Any, no_cache: bool = False) -> Any:
    """The embedding cache (in `store_file`); None with --no-cache."""
    from ..embeddings.cache import EmbeddingCache

    return None if no_cache else EmbeddingCache(store_file(session))


@contextlib.contextmanager
def stores(session: Any, no_cache: bool = False) -> Iterator[tuple[Any, Any]]:
    """(the job store, the cache or None), both in `store_file`, both closed afterwards."""
    from ..jobs.store import open_store

    with open_store(store_file(session)) as store:
        cache = open_cache(session, no_cache)
        try:
            yield store, cache
        finally:
            if cache is not None:
                cache.close()


def no_such_job(session: Any, store: Any, job_id: str, what: str) -> UsageError:
    """The one-line error for a job that is not in this profile's store (`what`: "embedding job"):
    the recent ones here, and the profile to use when the other store holds it."""
    known = ", ".join(j.id for j in store.all()[-5:]) or "none yet"
    return UsageError(f"no {what} {job_id!r}; recent jobs: {known}{kept_elsewhere(session, job_id)}")


def kept_elsewhere(session: Any, job_id: str) -> str:
    """Where a job lives when the built-in sandbox is on one side of `%oai use` and a profile of the
    user's on the other: each keeps its jobs in its own store (module docstring), so neither finds the
    other's. "" when the other store does not hold it either."""
    from ..embeddings.cache import cache_file
    from ..jobs.store import open_store

    if session.profile.sandbox:
        other = cache_file(session.settings.cache_path)
    elif session.sandbox is not None:
        other = Path(session.sandbox.data_dir) / "embeddings.sqlite"
    else:
        return ""
    if not other.exists():  # nothing was ever stored there (and opening it would make the file)
        return ""
    with open_store(other) as store:
        job = store.get(job_id)
    if job is None:
        return ""
    owners = [p.name for p in session.profiles if session.server(p) == job.server]
    if owners:
        return f"; {job_id} was made with profile {owners[0]!r}, whose jobs are kept apart: %oai use {owners[0]}, then ask again"
    return f"; {job_id} was sent to {job.server}, whose jobs are kept apart: use a profile pointing there, then ask again"


@contextlib.contextmanager
def stored_job(magics: Any, job_id: str) -> Iterator[tuple[Any, Any]]:
    """(the open job store, the job in it), or a one-line error naming the recent jobs."""
    with stores(magics.session, no_cache=True) as (store, _):
        job = store.get(job_id)
        if job is None:
            raise no_such_job(magics.session, store, job_id, "Batch API job")
        yield store, job


def forget_job(magics: Any, job_id: str) -> None:
    """Remove a job of any kind from the local store (`%embed --forget`, `%oai jobs forget`)."""
    with stored_job(magics, job_id) as (store, job):
        store.forget(job.id)
    print(f"forgot {job.id} ({job.kind}, {job.status}); its batches and files at the server are left as they are")


def collect_embeddings(magics: Any, job_id: str, *, wait: bool = False, resend: bool = False, output: str | None = None,
                       no_cache: bool = False) -> Any:
    """The DataFrame of an embedding job (`%embed --collect`, `%oai jobs collect`); with `resend`, its
    failed rows are sent again as a new batch of the job, which is returned."""
    from ..embeddings.batch_jobs import collect, describe_failure, job_index, resend as send_again
    from ..frames import embedding_frame
    from ..jobs.batch_files import failure_reasons
    from ..jobs.batch_status import JobNotReady

    with stores(magics.session, no_cache) as (store, cache):
        job = store.get(job_id)
        if job is not None and job.kind != "embeddings":
            raise UsageError(f"{job.id} is a %%chat --each job: collect it with %chat --collect {job.id}")
        if job is None:
            raise no_such_job(magics.session, store, job_id, "embedding job")
        with magics.session.client_for(job.server, f"job {job.id}") as client:  # the job's server, not the active one
            try:
                matrix, failed = collect(client, store, job, cache=cache, wait=wait)
            except JobNotReady as exc:
                raise UsageError(str(exc)) from None
            if failed and resend:
                return send_again(client, store, job, failed)
            frame = embedding_frame(job.texts, matrix, job_index(job))
            if failed:
                publish(magics.shell, frame, output)
                raise UsageError(describe_failure(job, failed, failure_reasons(client, job))
                                 + " (the rows that succeeded are in `_`, NaN elsewhere)")
    if output:
        magics.shell.user_ns[output] = frame
    return frame


@ROUTER.command("cache", listing=True)
@magic_arguments(name="oai cache")
@argument("--clear", action="store_true", help="forget the cached embeddings (all, or --model's)")
@argument("--model", help="with --clear: only this model's")
def cache_command(magics: Any, args: Any) -> Any:
    """The embedding cache: its file, and entries and size per model; --clear empties it."""
    import pandas as pd

    from ..embeddings.cache import EmbeddingCache

    path = store_file(magics.session)
    cache = EmbeddingCache(path)
    try:
        if args.clear:
            from ..embeddings.collections import forget_all

            forget_all(path)  # an index of vectors no longer cached would answer for them
            removed = cache.clear(args.model)
            print(f"removed {removed} cached embedding(s){' of ' + args.model if args.model else ''} from {path}")
            return None
        print(f"embedding cache: {path}")
        return pd.DataFrame(cache.summary(), columns=["server", "model", "dimensions", "entries", "bytes"])
    finally:
        cache.close()
