"""%oai subcommands for the rest of the API: models, moderate, speak, transcribe, translate,
complete and edit (files and finetunes have modules of their own). Listings come back as DataFrames."""

from __future__ import annotations

import time
from typing import Any

from .arguments import a_model, a_number, argument, at_least, magic_arguments
from .common import a_python_name, listing, local_path, parse_params, publish
from .oai_table import ROUTER


@ROUTER.command("models", listing=True)
@magic_arguments(name="oai models")
@argument("--filter", help="only models whose id contains this text")
def models(magics: Any, args: Any) -> Any:
    """The models the server offers, as a DataFrame: each one's shutdown date (empty when the server
    announces none) and the kinds it is used for now; a line names the models in use it does not list."""
    import pandas as pd

    from .. import model_defaults

    session = magics.session
    everything = list(session.client.models.list())
    session.watch.store(session.profile_name, everything)  # the freshest listing, for the shutdown notes
    in_use = {kind: session.model(kind, about_to_use=False) for kind in model_defaults.kinds()}
    frame = listing([m for m in everything if not args.filter or args.filter in m["id"]])
    # A date column, NaT where the server announces no date (or sends no such field at all).
    dates = frame["shutdown_date"] if "shutdown_date" in frame else pd.Series(None, index=frame.index, dtype=object)
    frame["shutdown_date"] = pd.to_datetime(dates, errors="coerce", format="ISO8601")
    frame["used_for"] = [", ".join(k for k, name in in_use.items() if name == model) for model in frame["id"]]
    listed = {m.get("id") for m in everything}
    unlisted = [f"{kind} {name}" for kind, name in in_use.items() if name not in listed]
    print("in use now: " + ", ".join(f"{kind} {name}" for kind, name in in_use.items())
          + (f" (not listed by this server: {', '.join(unlisted)})" if unlisted else ""))
    return frame


@ROUTER.command("moderate")
@magic_arguments(name="oai moderate")
@argument("-m", "--model", type=a_model, help="the moderation model")
@argument("text", nargs="+", help="the text to check")
def moderate(magics: Any, args: Any) -> Any:
    """Check a text against the content policy: categories, flags and scores as a DataFrame."""
    import pandas as pd

    answer = magics.session.client.moderations.create(input=" ".join(args.text), model=magics.session.model("moderation", args.model))
    result = answer["results"][0]
    frame = pd.DataFrame({"flagged": result["categories"], "score": result["category_scores"]})
    frame.index.name = "category"
    return frame.sort_values("score", ascending=False)


@ROUTER.command("speak")
@magic_arguments(name="oai speak")
@argument("-m", "--model", type=a_model, help="the text-to-speech model")
@argument("-v", "--voice", default="alloy", help="alloy, ash, coral, echo, fable, onyx, nova, sage, shimmer ...")
@argument("-f", "--format", default="wav", help="mp3, wav, opus, aac, flac or pcm (default wav: plays everywhere)")
@argument("--save", metavar="PATH", help="also write the audio to this file")
@argument("-o", "--output", metavar="NAME", type=a_python_name, help="store the player (an IPython Audio, bytes in .data) in this variable")
@argument("text", nargs="+", help="what to say")
def speak(magics: Any, args: Any) -> None:
    """Text to speech, with an audio player."""
    from IPython.display import Audio, display

    audio = magics.session.client.audio.speech.create(model=magics.session.model("speech", args.model),
                                                      input=" ".join(args.text), voice=args.voice, response_format=args.format)
    if args.save:
        local_path(args.save).write_bytes(audio)
    if args.format == "pcm":
        import numpy as np

        player = Audio(np.frombuffer(audio, dtype="<i2"), rate=24_000)
    else:
        player = Audio(data=audio)
    display(player)
    publish(magics.shell, player, args.output)


def _to_text(magics: Any, args: Any, translate: bool) -> Any:
    api = magics.session.client.audio.translations if translate else magics.session.client.audio.transcriptions
    params = {"model": magics.session.model("transcription", args.model), "response_format": args.format}
    if not translate and args.language:
        params["language"] = args.language
    answer = api.create(local_path(args.path), **params)
    if isinstance(answer, str):
        print(answer)
        return None
    return answer if args.format == "verbose_json" else answer.get("text")


@ROUTER.command("transcribe")
@magic_arguments(name="oai transcribe")
@argument("-m", "--model", type=a_model, help="the transcription model")
@argument("-f", "--format", default="json", choices=["json", "text", "srt", "vtt", "verbose_json"], help="answer format")
@argument("-l", "--language", help="the spoken language (ISO 639-1), if known")
@argument("path", help="the audio file")
def transcribe(magics: Any, args: Any) -> Any:
    """Speech to text in its own language."""
    return _to_text(magics, args, translate=False)


@ROUTER.command("translate")
@magic_arguments(name="oai translate")
@argument("-m", "--model", type=a_model, help="the transcription model")
@argument("-f", "--format", default="json", choices=["json", "text", "srt", "vtt", "verbose_json"], help="answer format")
@argument("path", help="the audio file")
def translate(magics: Any, args: Any) -> Any:
    """Speech to English text."""
    args.language = None
    return _to_text(magics, args, translate=True)


@ROUTER.command("complete")
@magic_arguments(name="oai complete")
@argument("-m", "--model", type=a_model,
          help="the completion model (legacy: gpt-3.5-turbo-instruct, davinci-002, babbage-002)")
@argument("--max-tokens", type=at_least(0), help="the most tokens to generate (the API's default is 16)")
@argument("-t", "--temperature", type=a_number, help="sampling temperature")
@argument("-p", "--param", action="append", metavar="KEY=VALUE",
          help="any other API parameter, repeatable; with n=2 or more each choice is shown apart and -o gets the list")
@argument("--no-stream", action="store_true", help="wait for the whole completion")
@argument("-o", "--output", metavar="NAME", type=a_python_name, help="store the text in this variable")
@argument("prompt", nargs="+", help="the text to continue")
def complete(magics: Any, args: Any) -> None:
    """Legacy completions, streamed; Ctrl-C or a broken stream keeps the text received."""
    from ..client.accumulate import Reply, reply_from_answer
    from ..display.stream import ChoiceViews
    from ..display.usage import show_usage

    session = magics.session
    params: dict[str, Any] = {"model": session.model("completion", args.model), "prompt": " ".join(args.prompt),
                              **parse_params(args.param, reserved=("prompt", "stream", "stream_options"))}
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
        from ..chat_memory import streamed

        reply = streamed(session.client.completions.create, params, views.add)
    views.finish_reply(reply)
    show_usage(reply.model or params["model"], time.monotonic() - started, reply.usage or None, rich=views.rich)
    publish(magics.shell, reply.output(params.get("n")), args.output)


@ROUTER.command("edit")
@magic_arguments(name="oai edit")
@argument("-m", "--model", type=a_model, help="the edit model (legacy: text-davinci-edit-001, where a server still has it)")
@argument("-i", "--instruction", required=True, help="how to change the text")
@argument("text", nargs="+", help="the text to edit")
def edit(magics: Any, args: Any) -> str:
    """Legacy edits (OpenAI removed /edits): the text changed as the instruction says."""
    answer = magics.session.client.edits.create(model=magics.session.model("edit", args.model), input=" ".join(args.text),
                                                instruction=args.instruction)
    return answer["choices"][0]["text"]
