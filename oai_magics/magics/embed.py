"""%embed and %%embed: texts to a DataFrame of embeddings, with similarity search and a 2-D map."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import line_cell_magic, magics_class, no_var_expand

from .arguments import argument, magic_arguments
from .common import SessionMagics, parse, friendly, publish, read_variable
from .prompts import interpolate


@magics_class
class EmbedMagics(SessionMagics):
    """%embed and %%embed."""

    @friendly
    @magic_arguments()
    @argument("-i", "--input", metavar="NAME", help="a variable: str, list of str, pandas Series or DataFrame")
    @argument("--column", help="with a DataFrame input: the column holding the texts")
    @argument("-m", "--model", help="the embedding model (default: %%config OAIMagics.embedding_model, else the profile's)")
    @argument("-d", "--dimensions", type=int, help="shorter vectors (models that support it)")
    @argument("--batch-size", type=int, default=512, help="inputs per request (at most 2048; default 512)")
    @argument("--workers", type=int, default=4, help="requests in flight at once (default 4)")
    @argument("-q", "--query", help="also rank the inputs by cosine similarity to this text")
    @argument("-k", "--top", type=int, default=10, help="with --query: how many neighbours to show (default 10)")
    @argument("--plot", action="store_true", help="draw a labelled 2-D map (PCA) of the embeddings")
    @argument("--color-by", metavar="COLUMN", help="with --plot and a DataFrame input: colour the points by this column")
    @argument("--no-interpolate", action="store_true", help="send {{name}} placeholders as they are")
    @argument("-o", "--output", metavar="NAME", help="store the embeddings DataFrame in this variable")
    @argument("text", nargs="*", help="a text to embed (line form); in %%embed, one text per line")
    @no_var_expand
    @line_cell_magic
    def embed(self, line: str, cell: str | None = None) -> Any:
        """Embed texts into a DataFrame: a `text` column and one float32 column per dimension."""
        args = parse(self.embed, line)
        texts, index = self._inputs(args, cell)
        colors = self._colors(args)  # checked before anything is sent
        from ..embedding_jobs import EmbeddingJobError, check_texts, embed_texts
        from ..frames import embedding_frame

        labels = list(index) if index is not None else list(range(len(texts)))
        try:
            check_texts(texts, labels)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        model = self.session.model("embedding", args.model)
        try:
            matrix = embed_texts(self.session.client, texts, model, dimensions=args.dimensions,
                                 batch_size=args.batch_size, workers=args.workers)
        except EmbeddingJobError as exc:
            partial = embedding_frame(texts, exc.matrix, index) if exc.matrix.shape[1] else None
            publish(self.shell, partial, args.output)
            raise UsageError(f"{exc} (the partial result, NaN where rows failed, is in `_`"
                             f"{' and ' + args.output if args.output else ''})") from None
        frame = embedding_frame(texts, matrix, index)
        if args.output:
            self.shell.user_ns[args.output] = frame
        return self._explore(args, frame, model, colors) if (args.query or args.plot) else frame

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
            texts = [line.strip() for line in cell.splitlines() if line.strip()]
        else:
            texts = [" ".join(args.text)] if args.text else []
        if not args.no_interpolate:
            texts = [interpolate(t, self.shell.user_ns) for t in texts]
        if not texts:
            raise UsageError("Nothing to embed: give a text, -i VARIABLE, or one text per line in %%embed.")
        return texts, None

    def _colors(self, args: Any) -> Any:
        """The column named by --color-by, from the DataFrame given with -i; None without the flag."""
        if not args.color_by:
            return None
        if not args.plot:
            raise UsageError("--color-by goes with --plot")
        value = read_variable(self.shell, args.input) if args.input else None
        if not hasattr(value, "columns"):
            raise UsageError("--color-by needs a DataFrame input: -i NAME --column TEXT_COLUMN --color-by COLUMN")
        if args.color_by not in value.columns:
            raise UsageError(f"{args.input} has no column {args.color_by!r}")
        return value[args.color_by]

    def _explore(self, args: Any, frame: Any, model: str, colors: Any = None) -> Any:
        from ..display.plots import embedding_map
        from ..frames import similarity_frame

        if args.plot:
            try:
                embedding_map(frame, colors)
            except ValueError as exc:  # too many distinct values to colour
                raise UsageError(f"--color-by: {exc}") from None
        if not args.query:
            publish(self.shell, frame, args.output)
            return None
        query = self.session.client.embeddings.create(model=model, input=args.query,
                                                      **({"dimensions": args.dimensions} if args.dimensions else {}))
        return similarity_frame(frame, query.matrix[0], top=args.top)
