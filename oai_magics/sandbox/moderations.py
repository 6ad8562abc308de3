"""Moderations: category flags and scores from a small keyword lexicon (deterministic)."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .catalog import require_model
from .errors import invalid
from .store import new_id
from .web import json_body, reject_unknown

CATEGORIES = ["harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
              "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors",
              "violence", "violence/graphic"]
LEXICON = {
    "harassment": ["idiot", "stupid", "loser", "moron"],
    "harassment/threatening": ["i will hurt you", "watch your back"],
    "hate": ["subhuman", "vermin"],
    "hate/threatening": ["exterminate them"],
    "illicit": ["steal", "shoplift", "counterfeit"],
    "illicit/violent": ["build a bomb", "make a weapon"],
    "self-harm": ["hurt myself", "self-harm"],
    "self-harm/intent": ["i want to die", "end my life"],
    "self-harm/instructions": ["how to cut"],
    "sexual": ["explicit", "nsfw"],
    "sexual/minors": [],
    "violence": ["kill", "attack", "punch", "stab"],
    "violence/graphic": ["gore", "blood everywhere"],
}


def score(text: str) -> dict:
    lowered = text.lower()
    scores = {}
    for category in CATEGORIES:
        hits = sum(len(re.findall(r"\b" + re.escape(term) + r"\b", lowered)) for term in LEXICON[category])
        scores[category] = round(min(0.99, 0.6 + 0.2 * (hits - 1)) if hits else 0.0001, 4)
    flags = {category: value >= 0.5 for category, value in scores.items()}
    return {"flagged": any(flags.values()), "categories": flags, "category_scores": scores,
            "category_applied_input_types": {category: ["text"] for category in CATEGORIES}}


async def create(request: Request) -> Response:
    body = await json_body(request)
    reject_unknown(body, {"input", "model"})
    model = require_model(body.get("model", "omni-moderation-latest"), ("moderation",))
    value = body.get("input")
    if isinstance(value, str):
        texts = [value]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        texts = value
    elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
        texts = [v.get("text", "") for v in value if v.get("type") == "text"]
    else:
        raise invalid("Missing or invalid 'input': expected a string or an array of strings.", param="input")
    return JSONResponse({"id": new_id("modr-"), "model": model.id, "results": [score(t) for t in texts]})


ROUTES = [("/moderations", create, ["POST"])]
