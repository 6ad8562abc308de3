"""The request layer: requests + numpy only (no IPython, pandas or widgets).

    from oai_magics.client import Client
    client = Client()                      # OPENAI_API_KEY, OPENAI_BASE_URL, ...
    client.chat.completions.create(model="gpt-5.4-mini", messages=[...], stream=True)
"""

from .client import DEFAULT_BASE_URL, Client
from .records import RequestRecord
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    APIUserAbortError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    KeyFormatError,
    NotFoundError,
    NotRecordedError,
    OpenAIError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from .pagination import Page
from .resources.embeddings import EmbeddingResult
from .retries import RetryPolicy
from .sse import ServerSentEvent, SSEDecoder
from .streaming import Stream

__all__ = [
    "Client", "DEFAULT_BASE_URL", "Page", "Stream", "EmbeddingResult", "RequestRecord", "RetryPolicy",
    "ServerSentEvent", "SSEDecoder",
    "OpenAIError", "APIError", "APIStatusError", "BadRequestError", "AuthenticationError",
    "PermissionDeniedError", "NotFoundError", "ConflictError", "UnprocessableEntityError",
    "RateLimitError", "InternalServerError", "APIResponseValidationError", "APIConnectionError", "APITimeoutError",
    "APIUserAbortError", "NotRecordedError", "KeyFormatError",
]
