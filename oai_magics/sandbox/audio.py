"""Audio: speech as a real WAV (or raw PCM) file, transcriptions and translations in every format.

Speech is synthesised as a short tone per character (24 kHz, 16-bit mono), so its length follows
the text. The sandbox has no MP3, Opus, AAC or FLAC encoder: for those formats it answers with a
WAV file, says so in `Content-Type: audio/wav` and the `x-sandbox-audio-format: wav` header, and
every player that honours the content type plays it.
"""

from __future__ import annotations

import hashlib
import io
import wave

import numpy as np

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from .catalog import require_model
from .errors import invalid
from .files import form_file, read_form, read_upload
from .web import json_body, optional, reject_unknown, require

RATE = 24_000
VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse", "marin", "cedar")
FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
TEXT_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
MAX_AUDIO = 25 * 1024 * 1024


def synthesise(text: str, voice: str, speed: float) -> bytes:
    """16-bit mono PCM: one short tone per character, pitched by the voice."""
    base = 180 + 20 * VOICES.index(voice)
    step = int(RATE * 0.045 / speed)
    index = np.arange(step)
    envelope = np.minimum(1.0, np.minimum(index / 200, (step - index) / 200))
    tones = [np.zeros(step) if char.isspace() else
             9000 * envelope * np.sin(2 * np.pi * (base + (ord(char) % 24) * 12) * index / RATE)
             for char in text[:4096]]
    return np.concatenate(tones or [np.zeros(step)]).astype("<i2").tobytes()


def wav(pcm: bytes) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        handle.writeframes(pcm)
    return out.getvalue()


async def speech(request: Request) -> Response:
    body = await json_body(request)
    reject_unknown(body, {"model", "input", "voice", "response_format", "speed", "instructions", "stream_format"})
    require_model(body.get("model"), ("speech",))
    text = require(body, "input")
    if len(text) > 4096:
        raise invalid("Invalid 'input': string too long. Expected a string with maximum length 4096.", param="input")
    voice = require(body, "voice")
    if voice not in VOICES:
        raise invalid(f"Invalid value for 'voice': '{voice}'. Supported values are: {', '.join(VOICES)}.", param="voice")
    fmt = optional(body, "response_format", "string", "mp3", choices=FORMATS)
    speed = optional(body, "speed", "number", 1.0, minimum=0.25, maximum=4.0)
    pcm = synthesise(text, voice, speed)
    if fmt == "pcm":
        return Response(pcm, media_type="audio/pcm", headers={"x-sandbox-audio-format": "pcm"})
    return Response(wav(pcm), media_type="audio/wav", headers={"x-sandbox-audio-format": "wav"})


def duration_of(data: bytes) -> float:
    try:
        with wave.open(io.BytesIO(data)) as handle:
            return round(handle.getnframes() / handle.getframerate(), 2)
    except (wave.Error, EOFError, ZeroDivisionError):
        return round(len(data) / 16_000, 2)  # about 128 kbit/s, as an MP3 would be


def heard(filename: str, data: bytes, translate: bool) -> str:
    """What the sandbox 'hears': a deterministic sentence about the upload."""
    tag = hashlib.blake2b(data, digest_size=3).hexdigest()
    what = "translation" if translate else "transcription"
    return f"This is a sandbox {what} of {filename}. The recording is {duration_of(data)} seconds long. Its fingerprint is {tag}."


def stamp(seconds: float, sep: str) -> str:
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{millis:03d}"


def segments(text: str, duration: float) -> list[dict]:
    sentences = [s.strip() + "." for s in text.split(".") if s.strip()]
    span = duration / max(1, len(sentences))
    return [{"id": i, "seek": 0, "start": round(i * span, 2), "end": round((i + 1) * span, 2), "text": " " + s,
             "tokens": [], "temperature": 0.0, "avg_logprob": -0.1, "compression_ratio": 1.0, "no_speech_prob": 0.01}
            for i, s in enumerate(sentences)]


def render(text: str, duration: float, fmt: str, language: str, translate: bool, granularities: list[str]) -> Response:
    parts = segments(text, duration)
    if fmt == "text":
        return PlainTextResponse(text + "\n")
    if fmt == "srt":
        blocks = [f"{i + 1}\n{stamp(s['start'], ',')} --> {stamp(s['end'], ',')}\n{s['text'].strip()}\n" for i, s in enumerate(parts)]
        return PlainTextResponse("\n".join(blocks))
    if fmt == "vtt":
        blocks = [f"{stamp(s['start'], '.')} --> {stamp(s['end'], '.')}\n{s['text'].strip()}\n" for s in parts]
        return PlainTextResponse("WEBVTT\n\n" + "\n".join(blocks), media_type="text/vtt")
    if fmt == "json":
        return JSONResponse({"text": text})
    verbose: dict = {"task": "translate" if translate else "transcribe", "language": language,
                     "duration": duration, "text": text, "segments": parts}
    if "word" in granularities and not translate:
        words = text.split()
        span = duration / max(1, len(words))
        verbose["words"] = [{"word": w, "start": round(i * span, 2), "end": round((i + 1) * span, 2)} for i, w in enumerate(words)]
    if "segment" not in granularities and "word" in granularities:
        verbose.pop("segments")
    return JSONResponse(verbose)


async def to_text(request: Request, translate: bool) -> Response:
    form = await read_form(request, MAX_AUDIO)
    upload = form_file(form, "file")
    require_model(form.get("model"), ("transcription",))
    fmt = form.get("response_format") or "json"
    if fmt not in TEXT_FORMATS:
        raise invalid(f"Invalid value for 'response_format': '{fmt}'. Supported values are: {', '.join(TEXT_FORMATS)}.",
                      param="response_format")
    data = await read_upload(upload)
    if not data:
        raise invalid("The audio file is empty.", param="file")
    if len(data) > MAX_AUDIO:
        raise invalid("Maximum content size limit (26214400) exceeded.", param="file")
    granularities = form.getlist("timestamp_granularities[]") or ["segment"]
    text = heard(upload.filename or "audio", data, translate)
    language = "english" if translate else (form.get("language") or "english")
    return render(text, duration_of(data), fmt, language, translate, granularities)


async def transcriptions(request: Request) -> Response:
    return await to_text(request, translate=False)


async def translations(request: Request) -> Response:
    return await to_text(request, translate=True)


ROUTES = [
    ("/audio/speech", speech, ["POST"]),
    ("/audio/transcriptions", transcriptions, ["POST"]),
    ("/audio/translations", translations, ["POST"]),
]
