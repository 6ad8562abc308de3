"""Make the test data in this folder from the upstream documents: run by hand to refresh it.

    python tests/data/refresh.py --specs DIR --reference FILE

`--specs` is a folder holding the official OpenAPI specs (files named as in `SOURCES`), and
`--reference` the text of the openai.ex 0.6.2 documentation. The tests never read those
originals: they read what this script writes next to itself.

- `openapi/<era>.json`: each spec trimmed to the paths oai_magics speaks (`PATHS`) and the
  schemas those paths and the tests name (`SCHEMAS`) reach through `$ref`, transitively.
- `reference_functions.txt`: every function the reference documents, with its signatures.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any, Iterator

import yaml

HERE = Path(__file__).resolve().parent

# era -> (upstream file name, commit, date)
SOURCES = {
    "2022": ("openapi-2022-03-15-7973a7b.yaml", "7973a7b", "2022-03-15"),
    "2023-06": ("openapi-2023-06-19-a27cad2.yaml", "a27cad2", "2023-06-19"),
    "2023": ("openapi-2023-12-22-3d9e0ae.yaml", "3d9e0ae", "2023-12-22"),
    "2026": ("openapi-2026-08-21-f85dbe2.yaml", "f85dbe2", "2026-08-21"),
}

# Every API area the client has a method for: a path is kept when it is one of these or below one.
PATHS = (
    "/models", "/engines", "/chat/completions", "/completions", "/edits", "/embeddings",
    "/audio/speech", "/audio/transcriptions", "/audio/translations", "/images", "/moderations",
    "/files", "/fine-tunes", "/assistants", "/threads", "/responses", "/conversations", "/batches",
)

# Schemas the tests check objects against by name (stream events, error bodies), besides those
# the kept paths reach.
SCHEMAS = re.compile(
    r"^(ErrorResponse|Error|CreateChatCompletionStreamResponse|CreateCompletionResponse"
    r"|ThreadObject|RunObject|RunStepObject|MessageObject|MessageDeltaObject|RunStepDeltaObject"
    r"|AssistantStreamEvent|ResponseStreamEvent|Response|ConversationItem|Batch)$"
    r"|^Response\w*Event$"
)


def keep_path(template: str) -> bool:
    if "?" in template:  # the 2026 spec repeats some paths with `?beta=true`
        return False
    return any(template == root or template.startswith(root + "/") for root in PATHS)


def refs(node: Any) -> Iterator[str]:
    """Every `$ref` below a node."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def trim(doc: dict) -> dict:
    """The spec with only the kept paths and the components they reach."""
    paths = {template: item for template, item in doc["paths"].items() if keep_path(template)}
    components = doc.get("components", {})
    wanted: set[tuple[str, str]] = {("schemas", name) for name in components.get("schemas", {}) if SCHEMAS.search(name)}
    pending = list(refs(paths)) + [f"#/components/{kind}/{name}" for kind, name in wanted]
    wanted = set()
    while pending:
        parts = pending.pop().lstrip("#/").split("/")
        if len(parts) != 3 or parts[0] != "components" or (parts[1], parts[2]) in wanted:
            continue
        wanted.add((parts[1], parts[2]))
        pending += refs(components[parts[1]][parts[2]])
    kept: dict[str, dict] = {}
    for kind, name in sorted(wanted):
        kept.setdefault(kind, {})[name] = components[kind][name]
    return {"openapi": doc["openapi"], "info": doc.get("info", {}), "paths": paths, "components": kept}


def reference_signatures(text: str) -> dict[str, list[str]]:
    """{function name: [its documented signatures]} from the openai.ex documentation."""
    found: dict[str, list[str]] = {}
    for signature in re.findall(r"Link to this function\n\n([a-z_]+\([^\n]*\))", text):
        name = signature.split("(", 1)[0]
        if signature not in found.setdefault(name, []):
            found[name].append(signature)
    for name in re.findall(r"^\s*OpenAI\.([a-z_]+)\(", text, flags=re.M):
        found.setdefault(name, [])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=Path, required=True, help="folder with the upstream OpenAPI YAML files")
    parser.add_argument("--reference", type=Path, required=True, help="the openai.ex 0.6.2 documentation as text")
    args = parser.parse_args()
    for era, (name, commit, date) in SOURCES.items():
        with open(args.specs / name, "rb") as handle:
            doc = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        trimmed = json.loads(json.dumps(trim(doc), default=str))
        trimmed["info"]["x-trimmed-from"] = {"file": name, "commit": commit, "date": date}
        out = HERE / "openapi" / f"{era}.json"
        out.write_text(json.dumps(trimmed, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"{out.relative_to(HERE)}: {len(trimmed['paths'])} paths, "
              f"{sum(map(len, trimmed['components'].values()))} components, {out.stat().st_size // 1024} KiB")
    signatures = reference_signatures(args.reference.read_text(encoding="utf-8"))
    lines = ["# The functions of openai.ex 0.6.2 (each with its documented signatures), made by refresh.py."]
    lines += [" | ".join([name, *sigs]) for name, sigs in sorted(signatures.items())]
    (HERE / "reference_functions.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"reference_functions.txt: {len(signatures)} functions")


if __name__ == "__main__":
    main()
