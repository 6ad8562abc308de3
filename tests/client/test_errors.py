"""Error statuses become one readable line, whatever the body; the key never shows."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from werkzeug import Response

from oai_magics.client import (
    APIStatusError, AuthenticationError, BadRequestError, Client, ConflictError, InternalServerError,
    NotFoundError, OpenAIError, PermissionDeniedError, RateLimitError, UnprocessableEntityError,
)
from oai_magics.client.decode import status_error

from .conftest import CANARY_KEY

CLASSES = {400: BadRequestError, 401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError,
           409: ConflictError, 422: UnprocessableEntityError, 429: RateLimitError, 500: InternalServerError,
           503: InternalServerError, 418: APIStatusError}


@pytest.mark.parametrize("status", list(CLASSES))
def test_status_maps_to_its_class(status: int) -> None:
    error = status_error(status, b'{"error": {"message": "nope", "type": "t", "code": "c", "param": "p"}}', {"x-request-id": "req_1"})
    assert type(error) is CLASSES[status] and isinstance(error, OpenAIError)
    assert (error.status, error.type, error.code, error.param, error.request_id) == (status, "t", "c", "p", "req_1")
    assert str(error) == f"{status} (c): nope [param: p] [request id: req_1]"


def test_html_body_gives_a_short_readable_line() -> None:
    html = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>" + b"<p>x</p>" * 500 + b"</body></html>"
    text = str(status_error(502, html, {}, "Bad Gateway"))
    assert text.startswith("502: 502 Bad Gateway 502 Bad Gateway") and "<" not in text and len(text) < 320 and "\n" not in text


def test_empty_body_uses_the_reason_phrase() -> None:
    assert str(status_error(503, b"", {}, "Service Unavailable")) == "503: Service Unavailable"
    assert str(status_error(500, b"", {})) == "500: the server gave no error message"


def test_error_over_http_carries_everything(client: Client, recorder: Any) -> None:
    body = b'{"error": {"message": "The model `gpt-9` does not exist", "type": "invalid_request_error", "param": null, "code": "model_not_found"}}'
    recorder.reply = lambda r: Response(body, status=404, headers={"x-request-id": "req_abc"}, content_type="application/json")
    with pytest.raises(NotFoundError) as info:
        client.chat.completions.create(model="gpt-9", messages=[])
    error = info.value
    assert str(error) == "404 (model_not_found): The model `gpt-9` does not exist [request id: req_abc]"
    assert error.status_code == 404 and error.body["error"]["code"] == "model_not_found"


def test_non_json_success_body_is_a_clear_error(client: Client, recorder: Any) -> None:
    recorder.reply = lambda r: Response("<html>captive portal</html>", content_type="text/html")
    with pytest.raises(OpenAIError, match="expected JSON but got text/html"):
        client.models.list()


def test_the_key_never_appears_in_reprs_or_errors(client: Client, recorder: Any) -> None:
    recorder.reply = lambda r: Response(b'{"error": {"message": "Incorrect API key provided"}}', status=401)
    with pytest.raises(AuthenticationError) as info:
        client.models.list()
    texts = [repr(client), str(client.__dict__), repr(client._requester), str(info.value), repr(info.value),
             repr(info.value.__dict__)]
    assert not any(CANARY_KEY in text for text in texts)


def test_errors_pickle_for_multiprocessing() -> None:
    error = status_error(429, b'{"error": {"message": "slow down"}}', {})
    assert str(pickle.loads(pickle.dumps(error))).startswith("429")
