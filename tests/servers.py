"""Loopback fakes of the mailing services: real HTTP servers on 127.0.0.1 that keep drafts in memory.

Each fake validates every request body against the service's OpenAPI schema (tests/specs/),
records what it was sent, and can be told to misbehave: answer 429 or 500, stall past the
client's timeout, or drop the connection after it has done the work.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import itertools
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator, OAS31Validator

SPECS = Path(__file__).resolve().parent / "specs"
RESET = object()  # a handler's answer meaning: drop the connection without replying


@dataclass
class Fault:
    """Misbehave on matching requests, ``times`` times."""

    method: str
    path: str  # regular expression matched against the path
    times: int = 1
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    reset_after_handling: bool = False  # do the work, then drop the connection instead of answering
    status_after_handling: int | None = None  # do the work, then answer with this error status
    raw: bytes | None = None  # the body exactly as given (HTML, broken gzip), instead of ``body`` as JSON
    trickle: float = 0.0  # seconds between the bytes of the whole answer, status line and headers included


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


class FakeService:
    """Routes, state and spec validation for one service; subclasses fill in ``route``."""

    prefix = ""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.errors: list[str] = []  # spec violations, asserted empty by tests
        self.faults: list[Fault] = []
        self.drafts: dict[str, dict[str, Any]] = {}
        self.tests_sent: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()
        self.base_url = ""

    def validate(self, validator: Any, body: Any, what: str) -> str | None:
        try:
            validator.validate(body)
        except ValidationError as error:
            problem = f"{what}: {error.message} at {list(error.absolute_path)}"
            self.errors.append(problem)
            return problem
        return None

    def dispatch(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
                 body: Any) -> tuple[Any, Fault | None]:
        with self.lock:
            self.requests.append(Recorded(method, path, query, headers, body))
            fault = next((f for f in self.faults if f.method == method and re.fullmatch(f.path, path) and f.times > 0),
                         None)
            if fault:
                fault.times -= 1
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and fault.status is not None:
            return (fault.status, fault.headers, fault.body), fault
        if not path.startswith(self.prefix):
            return (404, {}, {"detail": "not found"}), fault
        with self.lock:
            answer = self.route(method, path[len(self.prefix):], query, headers, body)
        if fault and fault.status_after_handling:
            error = {"detail": "upstream timeout", "message": "upstream timeout"}
            return (fault.status_after_handling, {}, error), fault
        return answer, fault

    def route(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
              body: Any) -> tuple[int, dict[str, str], Any]:
        raise NotImplementedError


def _validator(cls: Any, spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A validator for one schema whose ``#/components/...`` references resolve inside ``spec``."""
    return cls({**schema, "components": spec["components"]})


def _closed(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with unknown top-level fields refused, so a misspelt field fails the test."""
    return {**schema, "additionalProperties": False}


# ---- listmonk --------------------------------------------------------------------------------

@functools.cache
def load_spec(name: str) -> dict[str, Any]:
    """A spec file from tests/specs, parsed once per session (the YAML one takes a while)."""
    text = (SPECS / name).read_text("utf-8")
    spec: dict[str, Any] = yaml.safe_load(text) if name.endswith(".yaml") else json.loads(text)
    return spec


def listmonk_spec() -> dict[str, Any]:
    return load_spec("listmonk-collections.yaml")


def listmonk_campaign_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """CampaignRequest as the Go handler accepts it.

    The spec's CampaignRequest omits fields the handler reads (../shared/specs/SOURCES.md):
    body, altbody, template_id, headers (models/campaigns.go, cmd/campaigns.go); the test handler
    also reads "subscribers". Its ``send_at`` is mis-indented into an object holding headers and
    template_id; the handler takes a timestamp. We add those fields here, explicitly.
    """
    schema = copy.deepcopy(spec["components"]["schemas"]["CampaignRequest"])
    props = schema["properties"]
    props["send_at"] = {"type": "string", "nullable": True}
    props["body"] = {"type": "string"}
    props["altbody"] = {"type": "string"}
    props["template_id"] = {"type": "integer"}
    props["headers"] = {"type": "array", "items": {"type": "object"}}
    props["lists"] = {"type": "array", "items": {"type": "integer"}, "minItems": 1}
    schema["required"] = ["name", "subject", "lists", "content_type", "type", "body"]
    return _closed(schema)


class FakeListmonk(FakeService):
    prefix = "/api"

    def __init__(self, username: str = "api-user", token: str = "lm-secret-token-123") -> None:
        super().__init__()
        self.username, self.token = username, token
        spec = listmonk_spec()
        campaign = listmonk_campaign_schema(spec)
        self.campaign_validator = _validator(OAS30Validator, spec, campaign)
        test = copy.deepcopy(campaign)
        test["properties"]["subscribers"] = {"type": "array", "items": {"type": "string"}, "minItems": 1}
        test["required"] = [*test["required"], "subscribers"]
        self.test_validator = _validator(OAS30Validator, spec, test)
        self.ids = itertools.count(1)

    def route(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
              body: Any) -> tuple[int, dict[str, str], Any]:
        if headers.get("authorization") != f"token {self.username}:{self.token}":
            return 403, {}, {"message": "Invalid API credentials"}
        if method == "GET" and path == "/campaigns":
            tags = query.get("tags", [])
            results = [c for c in self.drafts.values() if not tags or set(tags) & set(c["tags"])]
            return 200, {}, {"data": {"results": results, "total": len(results), "page": 1, "per_page": 0}}
        if method == "POST" and path == "/campaigns":
            if problem := self.validate(self.campaign_validator, body, "POST /campaigns"):
                return 400, {}, {"message": problem}
            campaign_id = next(self.ids)
            lists = [{"id": i, "name": f"list {i}"} for i in body["lists"]]
            self.drafts[str(campaign_id)] = {**body, "id": campaign_id, "uuid": f"uuid-{campaign_id}",
                                             "status": "draft", "lists": lists}
            return 200, {}, {"data": self.drafts[str(campaign_id)]}
        match = re.fullmatch(r"/campaigns/(\d+)(/test)?", path)
        if match and match.group(1) not in self.drafts:
            return 404, {}, {"message": "Campaign not found."}
        if match and method == "PUT" and not match.group(2):
            if problem := self.validate(self.campaign_validator, body, f"PUT {path}"):
                return 400, {}, {"message": problem}
            campaign = self.drafts[match.group(1)]
            campaign.update({**body, "lists": [{"id": i, "name": f"list {i}"} for i in body["lists"]]})
            return 200, {}, {"data": campaign}
        if match and method == "POST" and match.group(2):
            if problem := self.validate(self.test_validator, body, f"POST {path}"):
                return 400, {}, {"message": problem}
            self.tests_sent.append((match.group(1), body["subscribers"]))
            return 200, {}, {"data": True}
        return 405, {}, {"message": "method not allowed"}


# ---- Buttondown ------------------------------------------------------------------------------

class FakeButtondown(FakeService):
    prefix = "/v1"

    def __init__(self, api_key: str = "bd-secret-key-456", page_size: int = 2) -> None:
        super().__init__()
        self.api_key, self.page_size = api_key, page_size
        spec = load_spec("buttondown-emails.json")
        schemas = spec["components"]["schemas"]
        self.create_validator = _validator(OAS31Validator, spec, {"$ref": "#/components/schemas/EmailInput"})
        self.update_validator = _validator(OAS31Validator, spec, {"$ref": "#/components/schemas/EmailUpdateInput"})
        self.test_validator = _validator(OAS31Validator, spec, schemas["SendDraftInput"])
        self.ids = itertools.count(1)

    def route(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
              body: Any) -> tuple[int, dict[str, str], Any]:
        if headers.get("authorization") != f"Token {self.api_key}":
            return 401, {}, {"detail": "Invalid token."}
        if method == "GET" and path == "/emails":
            status = query.get("status", [])
            emails = [e for e in self.drafts.values() if not status or e["status"] in status]
            page = int(query.get("page", ["1"])[0])
            chunk = emails[(page - 1) * self.page_size: page * self.page_size]
            more = page * self.page_size < len(emails)
            nxt = f"{self.base_url}/v1/emails?status=draft&page={page + 1}" if more else None
            return 200, {}, {"results": chunk, "count": len(emails), "next": nxt, "previous": None}
        if method == "POST" and path == "/emails":
            if problem := self.validate(self.create_validator, body, "POST /emails"):
                return 422, {}, {"detail": problem}
            email_id = f"00000000-0000-4000-8000-{next(self.ids):012d}"
            self.drafts[email_id] = {**body, "id": email_id, "absolute_url": f"https://buttondown.example/archive/{email_id}"}
            return 201, {}, self.drafts[email_id]
        match = re.fullmatch(r"/emails/([^/]+)(/send-draft)?", path)
        if match and match.group(1) not in self.drafts:
            return 404, {}, {"detail": "Not found."}
        if match and method == "PATCH" and not match.group(2):
            if problem := self.validate(self.update_validator, body, f"PATCH {path}"):
                return 422, {}, {"detail": problem}
            self.drafts[match.group(1)].update(body)
            return 200, {}, self.drafts[match.group(1)]
        if match and method == "POST" and match.group(2):
            if problem := self.validate(self.test_validator, body, f"POST {path}"):
                return 422, {}, {"detail": problem}
            self.tests_sent.append((match.group(1), body["recipients"]))
            return 200, {}, None
        return 405, {}, {"detail": "Method not allowed."}


# ---- Mailchimp -------------------------------------------------------------------------------

class FakeMailchimp(FakeService):
    prefix = "/3.0"

    def __init__(self, api_key: str = "mc-secret-key-789-us21", list_id: str = "a1b2c3") -> None:
        super().__init__()
        self.api_key, self.list_id = api_key, list_id
        spec = load_spec("mailchimp-campaigns.json")
        schemas = spec["components"]["schemas"]
        self.create_validator = _validator(OAS30Validator, spec, _closed(schemas["Campaign"]))
        self.update_validator = _validator(OAS30Validator, spec, _closed(schemas["Campaign2"]))
        self.content_validator = _validator(OAS30Validator, spec, _closed(schemas["CampaignContent1"]))
        self.test_validator = _validator(OAS30Validator, spec, _closed(schemas["ActionsTestBody"]))
        self.ids = itertools.count(1)
        # Every example of the API is ten hex digits; the docs promise no format, so tests vary it.
        self.id_for: Callable[[int], str] = lambda number: f"{number:010x}"

    def problem(self, status: int, title: str, detail: str) -> tuple[int, dict[str, str], Any]:
        return status, {"Content-Type": "application/problem+json"}, {
            "type": "https://mailchimp.com/developer/marketing/docs/errors/", "title": title, "status": status,
            "detail": detail, "instance": "fake"}

    def route(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
              body: Any) -> tuple[int, dict[str, str], Any]:
        auth = headers.get("authorization", "")
        if not auth.startswith("Basic ") or base64.b64decode(auth[6:]).decode().split(":", 1)[-1] != self.api_key:
            return self.problem(401, "API Key Invalid", "Your API key may be invalid, or you've attempted to access "
                                "the wrong datacenter.")
        if method == "GET" and path == "/campaigns":
            status = query.get("status", [None])[0]
            found = [c for c in self.drafts.values() if status in (None, c["status"])]
            return 200, {}, {"campaigns": found, "total_items": len(found)}
        if method == "POST" and path == "/campaigns":
            if problem := self.validate(self.create_validator, body, "POST /campaigns"):
                return self.problem(400, "Invalid Resource", problem)
            if body["recipients"]["list_id"] != self.list_id:
                return self.problem(400, "Invalid Resource", "The resource submitted could not be validated.")
            number = next(self.ids)
            campaign_id = self.id_for(number)
            self.drafts[campaign_id] = {**body, "id": campaign_id, "web_id": number, "status": "save",
                                        "archive_url": f"https://mailchi.mp/example/{campaign_id}", "content": {}}
            return 200, {}, self.drafts[campaign_id]
        match = re.fullmatch(r"/campaigns/([^/]+)(/content|/actions/test)?", path)
        if match and match.group(1) not in self.drafts:
            return self.problem(404, "Resource Not Found", "The requested resource could not be found.")
        if not match:
            return self.problem(404, "Resource Not Found", "The requested resource could not be found.")
        campaign = self.drafts[match.group(1)]
        if method == "PATCH" and not match.group(2):
            if problem := self.validate(self.update_validator, body, f"PATCH {path}"):
                return self.problem(400, "Invalid Resource", problem)
            campaign.update(body)
            return 200, {}, campaign
        if method == "PUT" and match.group(2) == "/content":
            if problem := self.validate(self.content_validator, body, f"PUT {path}"):
                return self.problem(400, "Invalid Resource", problem)
            campaign["content"] = body
            return 200, {}, {"html": body.get("html"), "plain_text": body.get("plain_text")}
        if method == "POST" and match.group(2) == "/actions/test":
            if problem := self.validate(self.test_validator, body, f"POST {path}"):
                return self.problem(400, "Invalid Resource", problem)
            self.tests_sent.append((match.group(1), body["test_emails"]))
            return 204, {}, None
        return self.problem(405, "Method Not Allowed", "The requested method and resource are not compatible.")


# ---- the server --------------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in self.headers.items()}
        (status, extra, data), fault = self.server.fake.dispatch(self.command, parts.path, parse_qs(parts.query),
                                                                 headers, body)
        if fault and fault.reset_after_handling:
            # RST instead of a reply: SO_LINGER with a zero timeout makes close() abort the connection.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        payload = b"" if data is None else json.dumps(data).encode()
        if fault and fault.raw is not None:
            payload = fault.raw
        if fault and fault.trickle:
            self._trickle(status, extra, payload, fault.trickle)
            return
        self.send_response(status)
        self.send_header("Content-Type", extra.pop("Content-Type", "application/json"))
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _trickle(self, status: int, extra: dict[str, str], payload: bytes, interval: float) -> None:
        """The whole answer one byte at a time: no read ever waits long, yet the answer never ends."""
        head = [f"HTTP/1.1 {status} Slow", f"Content-Type: {extra.pop('Content-Type', 'application/json')}",
                *(f"{k}: {v}" for k, v in extra.items()), f"Content-Length: {len(payload) + 10_000}", "", ""]
        data = "\r\n".join(head).encode() + payload + b" " * 10_000
        self.close_connection = True
        with contextlib.suppress(OSError):
            for byte in data:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(interval)
                if self.server.stopping:
                    return

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def finish(self) -> None:
        with contextlib.suppress(OSError):  # the connection was reset on purpose
            super().finish()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeService
    stopping = False


@contextmanager
def serve(fake: FakeService) -> Iterator[str]:
    """Run ``fake`` on a free port of 127.0.0.1; yields its base URL."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = fake
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name=f"fake-{type(fake).__name__}",
                              daemon=True)
    thread.start()
    try:
        yield fake.base_url
    finally:
        server.stopping = True  # ends trickling answers
        server.shutdown()
        server.server_close()
        thread.join(5)
