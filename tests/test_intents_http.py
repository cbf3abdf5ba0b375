"""The HTTP provider against a stub chat-completions server started here (no network)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from storylab.intents import HTTPProvider, IntentStore, ProviderError, Supervisor
from storylab.runtime import GenerationRequest, Session, SocialContext


class _Stub(BaseHTTPRequestHandler):
    replies: ClassVar[list] = []  # (status, body or list of SSE data lines)
    seen: ClassVar[list] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((self.path, body, self.headers.get("Authorization")))
        status, reply = type(self).replies.pop(0)
        self.send_response(status)
        if isinstance(reply, list):
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for item in reply:
                data = item if isinstance(item, str) else json.dumps(item)
                self.wfile.write(f"data: {data}\n\n".encode())
            return
        payload = reply.encode() if isinstance(reply, str) else json.dumps(reply).encode()
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Stub.replies, _Stub.seen = [], []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def _request():
    return GenerationRequest(
        "dialogue", None, "bo: greet", ("turn ann: hi",), (), None, "bo",
        SocialContext("friend", "calm", 0.5), "immediate",
    )  # fmt: skip


def _delta(text):
    return {"choices": [{"delta": {"content": text}}]}


def test_a_streamed_reply_arrives_in_chunks_with_the_context_as_system_message(server):
    _Stub.replies = [(200, [_delta("Well "), _delta("met."), "[DONE]"])]
    provider = HTTPProvider(server, model="m1", headers={"Authorization": "Bearer t"})
    assert list(provider.stream(_request())) == ["Well ", "met."]
    path, body, auth = _Stub.seen[0]
    assert path == "/v1/chat/completions" and auth == "Bearer t"
    assert body["model"] == "m1" and body["stream"] is True
    assert body["messages"] == [
        {"role": "system", "content": "turn ann: hi"},
        {"role": "user", "content": "bo: greet"},
    ]


def test_a_whole_reply_and_its_options(server):
    _Stub.replies = [(200, {"choices": [{"message": {"content": "Hello."}}]})]
    provider = HTTPProvider(server + "/chat/completions", stream=False, max_tokens=20)
    assert list(provider.stream(_request())) == ["Hello."]
    body = _Stub.seen[0][1]
    assert body["stream"] is False and body["max_tokens"] == 20 and "temperature" not in body


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ((500, "model exploded"), "HTTP 500.*model exploded"),
        ((200, "not json"), "not JSON"),
        ((200, {"choices": []}), r"expected choices\[0\].message.content"),
    ],
)
def test_server_errors_name_the_endpoint(server, reply, message):
    _Stub.replies = [reply]
    with pytest.raises(ProviderError, match=message) as err:
        HTTPProvider(server, stream=False).generate(_request())
    assert "/v1/chat/completions" in str(err.value)


def test_a_bad_stream_event_and_an_unreachable_server(server):
    _Stub.replies = [(200, [_delta("a"), "{broken"])]
    with pytest.raises(ProviderError, match="bad event"):
        list(HTTPProvider(server).stream(_request()))
    dead = HTTPProvider("http://127.0.0.1:9/v1", timeout=2)
    with pytest.raises(ProviderError, match="cannot reach"):
        list(dead.stream(_request()))
    with pytest.raises(ValueError, match="http"):
        HTTPProvider("file:///etc/passwd")


def test_the_supervisor_records_each_streamed_chunk_and_applies_the_reply(server, tmp_path):
    _Stub.replies = [(200, [_delta("Fine "), _delta("day."), "[DONE]"])]
    with IntentStore(tmp_path / "play.db") as store:
        store.sessions.create(Session("inn", relationships={"bo": {"affinity": 0.1}}))
        intent = store.create_intent("inn", "story_constraint", {"description": "greet"})
        Supervisor(store, HTTPProvider(server), poll=0.005).run(once=True, timeout=30)
        assert store.result(intent.id).texts == ["Fine day."]
        chunks = [e.data["text"] for e in store.events(intent.id) if e.kind == "chunk"]
        assert chunks == ["Fine ", "day."]
        system = _Stub.seen[0][1]["messages"][0]["content"]
        assert "character bo: tier" in system and "intent description: greet" in system
