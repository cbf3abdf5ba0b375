"""Generation providers for intents: the runtime's offline one, and OpenAI-compatible HTTP.

Both follow the runtime's :class:`~storylab.runtime.GenerationProvider` protocol
(``generate(request) -> Generation``). A provider that also has ``stream(request)``
yields the content in chunks, which the supervisor records as events.
:class:`HTTPProvider` speaks the chat-completions API (``POST {url}/chat/completions``,
optionally streamed as server-sent events) that local model servers offer, with the
standard library only: no extra package is needed.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from storylab.runtime.blocks import (
    Generation,
    GenerationRequest,
    OfflineProvider,
)

__all__ = ["PROVIDERS", "HTTPProvider", "OfflineProvider", "ProviderError"]

_MAX_BYTES = 4_000_000  # the most a response may send


class ProviderError(RuntimeError):
    """A generation that failed: the endpoint, and what went wrong."""


class HTTPProvider:
    """An OpenAI-compatible chat-completions endpoint (a local server, typically).

    The request's segments (the context) go in the system message, its prompt in the user
    message.

    Parameters
    ----------
    url : str
        The API base (``http://localhost:8080/v1``) or the full ``.../chat/completions`` URL.
    model : str
        The model name the server expects.
    stream : bool
        Ask for server-sent events and yield each delta as a chunk.
    timeout : float
        Seconds to wait for the server on connect and on each read.
    max_tokens, temperature : optional
        Sent when given.
    headers : dict, optional
        Extra HTTP headers (an ``Authorization`` header for a server that wants one).
    """

    def __init__(
        self,
        url: str,
        model: str = "local",
        *,
        stream: bool = True,
        timeout: float = 60.0,
        max_tokens: int | None = None,
        temperature: float | None = None,
        headers: dict[str, str] | None = None,
    ):
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"HTTP provider url must start with http:// or https://: {url!r}")
        base = url.rstrip("/")
        self.url = base if base.endswith("/chat/completions") else base + "/chat/completions"
        self.model, self.streaming, self.timeout = model, stream, timeout
        self.max_tokens, self.temperature = max_tokens, temperature
        self.headers = dict(headers or {})

    def _body(self, request: GenerationRequest, stream: bool) -> bytes:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": "\n".join(request.segments)},
                {"role": "user", "content": request.prompt},
            ],
            "stream": stream,
        }
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        if self.temperature is not None:
            body["temperature"] = self.temperature
        return json.dumps(body).encode()

    def _open(self, request: GenerationRequest, stream: bool) -> Any:
        req = urllib.request.Request(
            self.url,
            data=self._body(request, stream),
            headers={"Content-Type": "application/json", **self.headers},
            method="POST",
        )
        try:
            return urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            detail = exc.read(500).decode("utf-8", "replace").strip()
            raise ProviderError(f"{self.url}: HTTP {exc.code} {exc.reason}: {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ProviderError(f"{self.url}: cannot reach the server ({reason})") from None

    def _content(self, data: Any, key: str) -> str:
        try:
            return data["choices"][0][key].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise ProviderError(
                f"{self.url}: expected choices[0].{key}.content in the response, "
                f"got {json.dumps(data)[:200]}"
            ) from None

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """The reply in chunks (the streamed deltas, or the whole reply when not streaming)."""
        if not self.streaming:
            yield self.generate(request).content or ""
            return
        seen = 0
        with self._open(request, True) as response:
            for raw in response:
                seen += len(raw)
                if seen > _MAX_BYTES:
                    raise ProviderError(f"{self.url}: response longer than {_MAX_BYTES} bytes")
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    return
                try:
                    data = json.loads(payload)
                except json.JSONDecodeError:
                    raise ProviderError(f"{self.url}: bad event {payload[:200]!r}") from None
                text = self._content(data, "delta")
                if text:
                    yield text

    def generate(self, request: GenerationRequest) -> Generation:
        """The whole reply (one non-streamed request)."""
        with self._open(request, False) as response:
            raw = response.read(_MAX_BYTES + 1)
        if len(raw) > _MAX_BYTES:
            raise ProviderError(f"{self.url}: response longer than {_MAX_BYTES} bytes")
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            raise ProviderError(f"{self.url}: the response is not JSON: {raw[:200]!r}") from None
        content = self._content(data, "message")
        return Generation(f"gen-{request.key()}", "done", request, content)


#: Provider names the CLI knows.
PROVIDERS = ("offline", "http")
