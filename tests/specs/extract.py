"""Cut the Mailchimp and Buttondown OpenAPI files down to the operations the exporter calls.

The full files (3 MB and 1 MB) live in ../shared/specs, which a clone of this repository does
not have; the tests need only the request-body schemas of a few operations, so this script keeps
those paths and every schema they reference, unchanged. Run it again after updating the
originals:

    python tests/specs/extract.py ../shared/specs
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

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
}


def references(node: Any, schemas: dict[str, Any], found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in found:
                found.add(name)
                references(schemas[name], schemas, found)
        for value in node.values():
            references(value, schemas, found)
    elif isinstance(node, list):
        for value in node:
            references(value, schemas, found)


def extract(source: Path, paths: dict[str, list[str]]) -> dict[str, Any]:
    spec = json.loads(source.read_text("utf-8"))
    schemas = spec["components"]["schemas"]
    kept = {path: {m: spec["paths"][path][m] for m in methods} for path, methods in paths.items()}
    found: set[str] = set()
    references(kept, schemas, found)
    info = dict(spec["info"])
    info["x-extracted-from"] = f"{source.name} (see ../shared/specs/SOURCES.md); only the paths used by the exporter"
    return {"openapi": spec["openapi"], "info": info, "servers": spec.get("servers", []), "paths": kept,
            "components": {"schemas": {name: schemas[name] for name in sorted(found)},
                           "securitySchemes": spec["components"].get("securitySchemes", {})}}


def main(folder: str) -> None:
    for output, (source, paths) in WANTED.items():
        data = extract(Path(folder) / source, paths)
        (HERE / output).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", "utf-8")
        print(f"wrote {output}: {len(data['paths'])} paths, {len(data['components']['schemas'])} schemas")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(HERE.parent.parent.parent / "shared" / "specs"))
