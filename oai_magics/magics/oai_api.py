"""%oai subcommands for the rest of the API: models, files, moderate, speak, transcribe,
translate, complete, edit and finetunes. Listings come back as DataFrames."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, magic_arguments

from .common import parse_params, publish
from .oai import ROUTER, OAIMagics


def _frame(items: Any) -> Any:
    from ..frames import listing_frame

    return listing_frame(items)


@ROUTER.command("models")
@magic_arguments(name="oai models")
@argument("--filter", help="only models whose id contains this text")
def models(magics: OAIMagics, args: Any) -> Any:
    """The models the server offers, as a DataFrame."""
    items = [m for m in magics.session.client.models.list() if not args.filter or args.filter in m["id"]]
    return _frame(items)


@ROUTER.command("files")
@magic_arguments(name="oai files")
@argument("action", nargs="?", default="list", choices=["list", "upload", "download", "delete", "show"], help="what to do")
@argument("target", nargs="?", help="a path (upload) or a file id (download, delete, show)")
@argument("--purpose", default="assistants", help="upload purpose: assistants, fine-tune, batch, vision, user_data")
@argument("--to", metavar="PATH", help="download: where to write (default: the file's name, never overwriting)")
def files(magics: OAIMagics, args: Any) -> Any:
    """Files: list (a DataFrame), upload PATH, download ID, show ID, delete ID."""
    api = magics.session.client.files
    if args.action == "list":
        return _frame(api.list().auto_paging_iter())
    if not args.target:
        raise UsageError(f"%oai files {args.action} needs a {'path' if args.action == 'upload' else 'file id'}")
    if args.action == "upload":
        return _frame([api.create(Path(args.target).expanduser(), purpose=args.purpose)])
    if args.action == "show":
        return _frame([api.retrieve(args.target)])
    if args.action == "delete":
        api.delete(args.target)
        print(f"deleted {args.target}")
        return None
    info = api.retrieve(args.target)
    target = Path(args.to or info.get("filename") or args.target)
    if target.exists() and not args.to:
        raise UsageError(f"{target} exists; choose another name with --to")
    target.write_bytes(api.content(args.target))
    print(f"wrote {target} ({target.stat().st_size} bytes)")
    return None


@ROUTER.command("moderate")
@magic_arguments(name="oai moderate")
@argument("-m", "--model", help="the moderation model")
@argument("text", nargs="+", help="the text to check")
def moderate(magics: OAIMagics, args: Any) -> Any:
    """Check a text against the content policy: categories, flags and scores as a DataFrame."""
    import pandas as pd

    answer = magics.session.client.moderations.create(input=" ".join(args.text), model=magics.session.model("moderation", args.model))
    result = answer["results"][0]
    frame = pd.DataFrame({"flagged": result["categories"], "score": result["category_scores"]})
    frame.index.name = "category"
    return frame.sort_values("score", ascending=False)


@ROUTER.command("speak")
@magic_arguments(name="oai speak")
@argument("-m", "--model", help="the text-to-speech model")
@argument("-v", "--voice", default="alloy", help="alloy, ash, coral, echo, fable, onyx, nova, sage, shimmer ...")
@argument("-f", "--format", default="wav", help="mp3, wav, opus, aac, flac or pcm (default wav: plays everywhere)")
@argument("--save", metavar="PATH", help="also write the audio to this file")
@argument("text", nargs="+", help="what to say")
def speak(magics: OAIMagics, args: Any) -> Any:
    """Text to speech, with an audio player."""
    from IPython.display import Audio

    audio = magics.session.client.audio.speech.create(model=magics.session.model("speech", args.model),
                                                      input=" ".join(args.text), voice=args.voice, response_format=args.format)
    if args.save:
        Path(args.save).write_bytes(audio)
    if args.format == "pcm":
        import numpy as np

        return Audio(np.frombuffer(audio, dtype="<i2"), rate=24_000)
    return Audio(data=audio)


def _to_text(magics: OAIMagics, args: Any, translate: bool) -> Any:
    api = magics.session.client.audio.translations if translate else magics.session.client.audio.transcriptions
    params = {"model": magics.session.model("transcription", args.model), "response_format": args.format}
    if not translate and args.language:
        params["language"] = args.language
    answer = api.create(Path(args.path).expanduser(), **params)
    if isinstance(answer, str):
        print(answer)
        return None
    return answer if args.format == "verbose_json" else answer.get("text")


@ROUTER.command("transcribe")
@magic_arguments(name="oai transcribe")
@argument("-m", "--model", help="the transcription model")
@argument("-f", "--format", default="json", choices=["json", "text", "srt", "vtt", "verbose_json"], help="answer format")
@argument("-l", "--language", help="the spoken language (ISO 639-1), if known")
@argument("path", help="the audio file")
def transcribe(magics: OAIMagics, args: Any) -> Any:
    """Speech to text in its own language."""
    return _to_text(magics, args, translate=False)


@ROUTER.command("translate")
@magic_arguments(name="oai translate")
@argument("-m", "--model", help="the transcription model")
@argument("-f", "--format", default="json", choices=["json", "text", "srt", "vtt", "verbose_json"], help="answer format")
@argument("path", help="the audio file")
def translate(magics: OAIMagics, args: Any) -> Any:
    """Speech to English text."""
    args.language = None
    return _to_text(magics, args, translate=True)


@ROUTER.command("complete")
@magic_arguments(name="oai complete")
@argument("-m", "--model", help="the completion model")
@argument("--max-tokens", type=int, help="the most tokens to generate (the API's default is 16)")
@argument("-t", "--temperature", type=float, help="sampling temperature")
@argument("-p", "--param", action="append", metavar="KEY=VALUE",
          help="any other API parameter, repeatable; with n=2 or more each choice is shown apart and -o gets the list")
@argument("--no-stream", action="store_true", help="wait for the whole completion")
@argument("-o", "--output", metavar="NAME", help="store the text in this variable")
@argument("prompt", nargs="+", help="the text to continue")
def complete(magics: OAIMagics, args: Any) -> None:
    """Legacy completions, streamed; Ctrl-C or a broken stream keeps the text received."""
    from ..client.accumulate import ChunkAccumulator, Reply, consume, reply_from_answer
    from ..display.stream import ChoiceViews
    from ..display.usage import show_usage

    session = magics.session
    params: dict[str, Any] = {"model": session.model("completion", args.model), "prompt": " ".join(args.prompt),
                              **parse_params(args.param)}
    if args.max_tokens is not None:
        params["max_tokens"] = args.max_tokens
    if args.temperature is not None:
        params["temperature"] = args.temperature
    views = ChoiceViews.for_request(params, magics.render_interval)
    started = time.monotonic()
    if args.no_stream:
        try:
            reply = reply_from_answer(session.client.completions.create(**params))
        except KeyboardInterrupt:
            reply = Reply(model=params["model"], interrupted=True)
        for choice in reply.choices:
            views.add(choice.index, choice.text)
    else:
        reply = consume(session.client.completions.create(**params, stream=True), ChunkAccumulator(params["model"]),
                        views.add)
    views.finish(reply.cut_short())
    show_usage(reply.model or params["model"], time.monotonic() - started, reply.usage or None, rich=views.rich)
    publish(magics.shell, reply.text if len(reply.choices) <= 1 else reply.texts, args.output)


@ROUTER.command("edit")
@magic_arguments(name="oai edit")
@argument("-m", "--model", help="the edit model")
@argument("-i", "--instruction", required=True, help="how to change the text")
@argument("text", nargs="+", help="the text to edit")
def edit(magics: OAIMagics, args: Any) -> str:
    """Legacy edits: the text changed as the instruction says."""
    answer = magics.session.client.edits.create(model=magics.session.model("edit", args.model), input=" ".join(args.text),
                                                instruction=args.instruction)
    return answer["choices"][0]["text"]


@ROUTER.command("finetunes")
@magic_arguments(name="oai finetunes")
@argument("action", nargs="?", default="list", choices=["list", "create", "show", "cancel", "events"], help="what to do")
@argument("job", nargs="?", help="the fine-tune id (show, cancel, events)")
@argument("--training-file", help="create: the uploaded training file's id")
@argument("--validation-file", help="create: an uploaded validation file's id")
@argument("-m", "--model", help="create: the base model (curie, davinci, ...)")
@argument("--suffix", help="create: a name to add to the fine-tuned model's id")
@argument("--epochs", type=int, help="create: training epochs")
def finetunes(magics: OAIMagics, args: Any) -> Any:
    """Legacy fine-tunes: list, create, show, cancel, events (as DataFrames)."""
    api = magics.session.client.fine_tunes
    if args.action == "list":
        return _frame(api.list())
    if args.action == "create":
        if not args.training_file:
            raise UsageError("%oai finetunes create needs --training-file FILE_ID (upload it with %oai files upload)")
        params = {k: v for k, v in {"training_file": args.training_file, "validation_file": args.validation_file,
                                    "model": args.model, "suffix": args.suffix, "n_epochs": args.epochs}.items() if v}
        return _frame([{k: v for k, v in api.create(**params).items() if k != "events"}])
    if not args.job:
        raise UsageError(f"%oai finetunes {args.action} needs the fine-tune id")
    if args.action == "events":
        return _frame(api.list_events(args.job))
    job = api.cancel(args.job) if args.action == "cancel" else api.retrieve(args.job)
    return _frame([{k: v for k, v in job.items() if k != "events"}])
