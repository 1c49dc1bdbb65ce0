"""Cut the services' OpenAPI (and Swagger 2.0) files down to the operations the exporter calls.

The full files (up to 3 MB) live in ../shared/specs, which a clone of this repository does
not have; the tests need only the request-body schemas of a few operations, so this script keeps
those paths and everything they reference (``#/components/...`` in OpenAPI 3,
``#/definitions/...``, ``#/parameters/...``, ``#/responses/...`` in Swagger 2.0), unchanged.
Run it again after updating the originals:

    python tests/specs/extract.py ../shared/specs

Brevo's YAML has a literal TAB inside a description (line 6902) that strict YAML parsers refuse,
and example dates such as 2017-06-31 that PyYAML would turn into (invalid) dates: it is read
with TABs replaced by spaces and without YAML's implicit timestamps (../shared/specs/SOURCES.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
WANTED = {
    # output file: (source file, {path: [methods]})
    "mailchimp-campaigns.json": ("mailchimp-ballerina-openapi.json", {
        "/campaigns": ["get", "post"],
        "/campaigns/{campaignId}": ["patch"],
        "/campaigns/{campaignId}/content": ["put"],
        "/campaigns/{campaignId}/actions/test": ["post"],
    }),
    "buttondown-emails.json": ("buttondown-openapi.json", {
        "/emails": ["get", "post"],
        "/emails/{id}": ["patch"],
        "/emails/{id}/send-draft": ["post"],
    }),
    "brevo-email-campaigns.json": ("brevo-swagger_definition_v3.yml", {
        "/emailCampaigns": ["get", "post"],
        "/emailCampaigns/{campaignId}": ["get", "put"],
        "/emailCampaigns/{campaignId}/sendTest": ["post"],
    }),
    "sendgrid-marketing.json": ("sendgrid-oai.json", {
        "/marketing/singlesends": ["get", "post"],
        "/marketing/singlesends/{id}": ["parameters", "get", "patch"],
        "/marketing/test/send_email": ["post"],
        "/templates": ["get", "post"],
        "/templates/{template_id}/versions": ["parameters", "post"],
        "/templates/{template_id}/versions/{version_id}": ["parameters", "patch"],
    }),
}
# Top-level keys copied as they are (OpenAPI 3 and Swagger 2.0), in this order.
HEADER = ("openapi", "swagger", "info", "servers", "host", "basePath", "schemes", "securityDefinitions")


class _NoDates(yaml.SafeLoader):
    """PyYAML's safe loader without implicit timestamps: example dates stay strings."""


_NoDates.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(source: Path) -> dict[str, Any]:
    text = source.read_text("utf-8")
    if source.suffix in (".yml", ".yaml"):
        data: dict[str, Any] = yaml.load(text.replace("\t", "  "), Loader=_NoDates)  # noqa: S506 (safe loader)
        return data
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def pointer(spec: dict[str, Any], ref: str) -> tuple[str, ...]:
    """``#/components/schemas/Campaign`` -> ("components", "schemas", "Campaign"); JSON Pointer escapes undone."""
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in ref[2:].split("/"))


def resolve(spec: dict[str, Any], parts: tuple[str, ...]) -> Any:
    node: Any = spec
    for part in parts:
        node = node[part]
    return node


def references(node: Any, spec: dict[str, Any], found: set[tuple[str, ...]]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            parts = pointer(spec, ref)
            if parts not in found:
                found.add(parts)
                references(resolve(spec, parts), spec, found)
        for value in node.values():
            references(value, spec, found)
    elif isinstance(node, list):
        for value in node:
            references(value, spec, found)


def extract(source: Path, paths: dict[str, list[str]]) -> dict[str, Any]:
    spec = load(source)
    kept = {path: {m: spec["paths"][path][m] for m in methods} for path, methods in paths.items()}
    found: set[tuple[str, ...]] = set()
    references(kept, spec, found)
    info = dict(spec["info"])
    info["x-extracted-from"] = f"{source.name} (see ../shared/specs/SOURCES.md); only the paths used by the exporter"
    # The document's header as it was, then the kept paths; nothing else (tags, webhooks, docs' own extensions).
    out: dict[str, Any] = {key: spec[key] for key in HEADER if key in spec}
    out["info"] = info
    out["paths"] = kept
    for parts in sorted(found):
        section = out.setdefault(parts[0], {})
        for part in parts[1:-1]:
            section = section.setdefault(part, {})
        section[parts[-1]] = resolve(spec, parts)
    if "components" in spec:  # how to authenticate, kept whole
        out.setdefault("components", {})["securitySchemes"] = spec["components"].get("securitySchemes", {})
    return out


def main(folder: str, only: list[str]) -> None:
    for output, (source, paths) in WANTED.items():
        if only and output not in only:
            continue
        data = extract(Path(folder) / source, paths)
        (HERE / output).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", "utf-8")
        print(f"wrote {output}: {len(data['paths'])} paths")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(HERE.parent.parent.parent / "shared" / "specs"), sys.argv[2:])
