"""Loopback fakes of Brevo, SendGrid Marketing Campaigns and Kit, in the style of tests/servers.py.

Each fake keeps drafts in memory, answers as the service's API reference says, and validates
every request body against the service's spec in tests/specs/ (OpenAPI 3.0 for Brevo and Kit,
Swagger 2.0 for SendGrid). Faults (429, 500, stalls, resets) come from tests.servers.Fault.
Where a spec is known to be wrong, the fake says so and patches it explicitly:

* Kit's file is a third-party extract of a generated spec that lists every example field as
  ``required``; the fake requires what Kit's reference describes as needed for a draft
  (see ``kit_broadcast_schema``).
* SendGrid's spec gives template ids as UUIDs; dynamic templates' ids are ``d-`` and 32 hex
  digits, as the fake hands out.
"""

from __future__ import annotations

import copy
import functools
import itertools
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import yaml
from jsonschema import Draft4Validator
from openapi_schema_validator import OAS30Validator

from tests.servers import SPECS, FakeService, _closed, _validator, load_spec

Answer = tuple[int, dict[str, str], Any]


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _page(query: dict[str, list[str]], name: str, default: int) -> int:
    return int(query.get(name, [str(default)])[0])


# ---- Brevo -----------------------------------------------------------------------------------

class FakeBrevo(FakeService):
    """Brevo API v3 email campaigns: https://developers.brevo.com/reference/create-email-campaign."""

    prefix = "/v3"

    def __init__(self, api_key: str = "xkeysib-secret-brevo-111", page_size: int = 2) -> None:
        super().__init__()
        self.api_key, self.page_size = api_key, page_size
        spec = load_spec("brevo-email-campaigns.json")
        schemas = spec["components"]["schemas"]
        self.create_validator = _validator(OAS30Validator, spec, _closed(schemas["createEmailCampaign"]))
        self.update_validator = _validator(OAS30Validator, spec, _closed(schemas["updateEmailCampaign"]))
        self.test_validator = _validator(OAS30Validator, spec, _closed(schemas["sendTestEmail"]))
        self.unknown_contacts: set[str] = set()  # addresses sendTest refuses, as Brevo does for non-contacts
        self.ids = itertools.count(1)

    @staticmethod
    def error(status: int, code: str, message: str, **extra: Any) -> Answer:
        return status, {}, {"code": code, "message": message, **extra}

    def route(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
              body: Any) -> Answer:
        if headers.get("api-key") != self.api_key:
            return self.error(401, "unauthorized", "Key not found")
        if method == "GET" and path == "/emailCampaigns":
            limit, offset = _page(query, "limit", 50), _page(query, "offset", 0)
            if not 0 <= limit <= 100:
                return self.error(400, "out_of_range", "limit should be between 0 and 100")
            status = query.get("status", [None])[0]
            found = sorted((c for c in self.drafts.values() if status in (None, c["status"])),
                           key=lambda c: -int(c["id"]) if query.get("sort", ["desc"])[0] == "desc" else int(c["id"]))
            chunk = found[offset: offset + min(limit, self.page_size)]
            if query.get("excludeHtmlContent") == ["true"]:
                chunk = [{**c, "htmlContent": ""} for c in chunk]
            return 200, {}, {"count": len(found), "campaigns": chunk}
        if method == "POST" and path == "/emailCampaigns":
            if problem := self.validate(self.create_validator, body, "POST /emailCampaigns"):
                return self.error(400, "invalid_parameter", problem)
            if not body.get("subject") or not body.get("htmlContent"):
                return self.error(400, "missing_parameter", "subject and htmlContent are mandatory")
            number = next(self.ids)
            self.drafts[str(number)] = {**body, "id": number, "type": "classic", "status": "draft",
                                        "createdAt": _now(), "modifiedAt": _now()}
            return 201, {}, {"id": number}
        match = re_match(r"/emailCampaigns/(\d+)(/sendTest)?", path)
        if match is None:
            return self.error(404, "document_not_found", "Not found")
        campaign = self.drafts.get(match[0])
        if campaign is None:
            return self.error(404, "document_not_found", "Campaign ID not found")
        if method == "GET" and not match[1]:
            return 200, {}, campaign
        if method == "PUT" and not match[1]:
            if problem := self.validate(self.update_validator, body, f"PUT {path}"):
                return self.error(400, "invalid_parameter", problem)
            if campaign["status"] != "draft":
                return self.error(400, "campaign_sent", "Campaign has already been sent")
            campaign.update({**body, "modifiedAt": _now()})
            return 204, {}, None
        if method == "POST" and match[1]:
            if problem := self.validate(self.test_validator, body, f"POST {path}"):
                return self.error(400, "invalid_parameter", problem)
            unknown = [e for e in body.get("emailTo") or [] if e in self.unknown_contacts]
            if unknown:
                return self.error(400, "invalid_parameter", "Test email could not be sent to the following email "
                                  "addresses", unexistingEmails=unknown)
            self.tests_sent.append((match[0], body["emailTo"]))
            return 204, {}, None
        return self.error(405, "method_not_allowed", f"{method} Method is not allowed on this path")


def re_match(pattern: str, path: str) -> list[str] | None:
    """The groups of ``pattern`` matched against the whole path ("" for a group that did not take part)."""
    found = re.fullmatch(pattern, path)
    return None if found is None else [group or "" for group in found.groups()]


# ---- SendGrid --------------------------------------------------------------------------------

def _swagger(spec: dict[str, Any], schema: dict[str, Any]) -> Draft4Validator:
    """A JSON Schema draft 4 validator (Swagger 2.0 schemas) whose ``#/definitions`` resolve in ``spec``."""
    return Draft4Validator({**schema, "definitions": spec["definitions"]})


def _body_schema(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    parameters = spec["paths"][path][method]["parameters"]
    schema: dict[str, Any] = next(p["schema"] for p in parameters if p.get("in") == "body")
    return {k: v for k, v in schema.items() if k != "example"}


class FakeSendGrid(FakeService):
    """SendGrid v3 Single Sends, test sends and dynamic templates (Swagger 2.0 spec, sendgrid-oai)."""

    prefix = "/v3"

    def __init__(self, api_key: str = "SG.secret-sendgrid-222", page_size: int = 2) -> None:
        super().__init__()
        self.api_key, self.page_size = api_key, page_size
        spec = load_spec("sendgrid-marketing.json")
        definitions = spec["definitions"]
        self.singlesend_validator = _swagger(spec, _closed(definitions["singlesend_request"]))
        self.test_validator = _swagger(spec, _closed(_body_schema(spec, "/marketing/test/send_email", "post")))
        self.template_validator = _swagger(spec, _closed(_body_schema(spec, "/templates", "post")))
        self.version_validator = _swagger(spec, _closed(definitions["transactional_template_version_create"]))
        self.templates: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, dict[str, Any]] = {}  # version id -> version with its content

    @staticmethod
    def error(status: int, message: str, field: str | None = None) -> Answer:
        return status, {}, {"errors": [{"field": field, "message": message}]}

    def _list(self, items: list[dict[str, Any]], path: str, query: dict[str, list[str]], default: int) -> Answer:
        size = min(_page(query, "page_size", default), self.page_size)
        start = int(query.get("page_token", ["0"])[0])
        chunk = items[start: start + size]
        metadata: dict[str, Any] = {"self": f"{self.base_url}/v3{path}", "count": len(items)}
        if start + size < len(items):
            extra = "&generations=dynamic" if path == "/templates" else ""
            metadata["next"] = f"{self.base_url}/v3{path}?page_size={size}&page_token={start + size}{extra}"
        return 200, {}, {"result": chunk, "_metadata": metadata}

    def route(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
              body: Any) -> Answer:
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return self.error(401, "authorization required")
        if path == "/marketing/singlesends" and method == "GET":
            short = [{k: s.get(k) for k in ("id", "name", "status", "categories", "send_at", "created_at",
                                            "updated_at")} | {"is_abtest": False, "abtest": None}
                     for s in reversed(list(self.drafts.values()))]
            return self._list(short, path, query, 10)
        if path == "/marketing/singlesends" and method == "POST":
            if problem := self.validate(self.singlesend_validator, body, "POST /marketing/singlesends"):
                return self.error(400, problem)
            single_id = str(uuid.uuid4())
            self.drafts[single_id] = {**body, "id": single_id, "status": "draft", "created_at": _now(),
                                      "updated_at": _now()}
            return 201, {}, self.drafts[single_id]
        match = re_match(r"/marketing/singlesends/([^/]+)", path)
        if match is not None:
            single_send = self.drafts.get(match[0])
            if single_send is None:
                return self.error(404, "resource not found", "id")
            if method == "PATCH":
                if problem := self.validate(self.singlesend_validator, body, f"PATCH {path}"):
                    return self.error(400, problem)
                if single_send["status"] != "draft":
                    return self.error(400, "a scheduled or sent single send cannot be updated", "status")
                single_send.update({**body, "updated_at": _now()})
                return 202, {}, single_send
            if method == "GET":
                return 200, {}, single_send
        if path == "/marketing/test/send_email" and method == "POST":
            if problem := self.validate(self.test_validator, body, "POST /marketing/test/send_email"):
                return self.error(400, problem)
            template = self.templates.get(body["template_id"])
            active = [v for v in (template or {}).get("versions", []) if v["active"] == 1]
            if template is None or template["generation"] != "dynamic" or not active:
                return self.error(400, "template_id must be a dynamic template with an active version", "template_id")
            if not body.get("sender_id") and not body.get("from_address"):
                return self.error(400, "sender_id or from_address is required", "sender_id")
            self.tests_sent.append((body["template_id"], body["emails"]))
            return 202, {}, {}
        return self.route_templates(method, path, query, body)

    def route_templates(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Answer:
        if path == "/templates" and method == "GET":
            if "page_size" not in query:
                return self.error(400, "page_size is required", "page_size")
            generations = query.get("generations", ["legacy"])[0].split(",")
            found = [t for t in self.templates.values() if t["generation"] in generations]
            return self._list(found, path, query, 200)
        if path == "/templates" and method == "POST":
            if problem := self.validate(self.template_validator, body, "POST /templates"):
                return self.error(400, problem)
            template_id = f"d-{uuid.uuid4().hex}"
            self.templates[template_id] = {"id": template_id, "name": body["name"],
                                           "generation": body.get("generation", "legacy"),
                                           "updated_at": "2026-11-29 12:00:00", "versions": []}
            return 201, {}, self.templates[template_id]
        match = re_match(r"/templates/([^/]+)/versions(?:/([^/]+))?", path)
        template = self.templates.get(match[0]) if match else None
        if match is None or template is None:
            return self.error(404, "resource not found", "template_id")
        if problem := self.validate(self.version_validator, body, f"{method} {path}"):
            return self.error(400, problem)
        if method == "POST" and not match[1]:
            version = {**body, "id": str(uuid.uuid4()), "template_id": template["id"], "updated_at": _now()}
            if not template["versions"]:
                version["active"] = 1  # "The first version created for a template will automatically be set to Active"
        elif method == "PATCH" and match[1] in self.versions:
            version = {**self.versions[match[1]], **body, "updated_at": _now()}
        else:
            return self.error(404, "version not found", "version_id")
        if version.get("active") == 1:
            for other in template["versions"]:
                other["active"] = 0
        self.versions[version["id"]] = version
        lean = {k: version.get(k) for k in ("id", "template_id", "active", "name", "subject", "updated_at",
                                            "generate_plain_content", "editor")}
        template["versions"] = [v for v in template["versions"] if v["id"] != version["id"]] + [lean]
        return (201 if method == "POST" else 200), {}, version


# ---- Kit -------------------------------------------------------------------------------------

@functools.cache
def kit_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load((SPECS / "kit-convertkit-broadcasts-api-openapi.yml").read_text("utf-8"))
    return spec


# What a draft needs, per Kit's reference: the generated spec marks every field of its example
# as required (PUT even email_template_id and thumbnail_url). published_at only matters for a
# public post, and subscriber_filter "if nothing is provided, will default to all of your
# subscribers" (its own description), so neither is required here.
KIT_REQUIRED = ["content", "description", "public", "preview_text", "subject"]


def kit_broadcast_schema(spec: dict[str, Any], method: str) -> dict[str, Any]:
    operation = spec["paths"]["/v4/broadcasts" if method == "post" else "/v4/broadcasts/{id}"][method]
    schema = copy.deepcopy(operation["requestBody"]["content"]["application/json"]["schema"])
    schema["required"] = KIT_REQUIRED
    return _closed(schema)


class FakeKit(FakeService):
    """Kit API v4 broadcasts (https://developers.kit.com/api-reference/broadcasts/create-a-broadcast)."""

    prefix = "/v4"

    def __init__(self, api_key: str = "kit_secret_key_333", page_size: int = 2) -> None:
        super().__init__()
        self.api_key, self.page_size = api_key, page_size
        spec = kit_spec()
        self.create_validator = OAS30Validator(kit_broadcast_schema(spec, "post"))
        self.update_validator = OAS30Validator(kit_broadcast_schema(spec, "put"))
        self.ids = itertools.count(101)

    @staticmethod
    def error(status: int, *messages: str) -> Answer:
        return status, {}, {"errors": list(messages)}

    def stored(self, body: dict[str, Any], broadcast_id: int, created: str) -> dict[str, Any]:
        return {"id": broadcast_id, "publication_id": broadcast_id, "created_at": created, "published_at": None,
                "public_url": None, "status": "draft", "email_template": {"id": body.get("email_template_id", 1),
                                                                          "name": "Text Only"},
                **{k: v for k, v in body.items() if k != "email_template_id"},
                "subscriber_filter": body.get("subscriber_filter") or [{"all": [{"type": "all_subscribers"}]}]}

    def route(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
              body: Any) -> Answer:
        if headers.get("x-kit-api-key") != self.api_key:
            return self.error(401, "The access token is invalid")
        if path == "/broadcasts" and method == "GET":
            size = min(_page(query, "per_page", 500), self.page_size)
            start = int(query.get("after", ["0"])[0])
            everything = list(reversed(list(self.drafts.values())))
            chunk = everything[start: start + size]
            more = start + size < len(everything)
            pagination = {"has_previous_page": start > 0, "has_next_page": more, "start_cursor": str(start),
                          "end_cursor": str(start + size), "per_page": size}
            return 200, {}, {"broadcasts": chunk, "pagination": pagination}
        if path == "/broadcasts" and method == "POST":
            if problem := self.validate(self.create_validator, body, "POST /broadcasts"):
                return self.error(422, problem)
            broadcast_id = next(self.ids)
            self.drafts[str(broadcast_id)] = self.stored(body, broadcast_id, _now())
            return 201, {}, {"broadcast": self.drafts[str(broadcast_id)]}
        match = re_match(r"/broadcasts/(\d+)", path)
        broadcast = self.drafts.get(match[0]) if match else None
        if broadcast is None:
            return self.error(404, "Not Found")
        if method == "PUT":
            if problem := self.validate(self.update_validator, body, f"PUT {path}"):
                return self.error(422, problem)
            if broadcast["status"] != "draft":
                return self.error(422, "Broadcast is already sending.")
            self.drafts[str(broadcast["id"])] = self.stored(body, broadcast["id"], broadcast["created_at"])
            return 200, {}, {"broadcast": self.drafts[str(broadcast["id"])]}
        if method == "GET":
            return 200, {}, {"broadcast": broadcast}
        return self.error(405, "Method not allowed")
