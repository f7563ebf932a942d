#!/usr/bin/python3
"""Independent check of Tandem's JSON documents with python3-jsonschema (Draft 7).

Usage: validate_with_jsonschema.py SCHEMA_DIR CASES_DIR
SCHEMA_DIR holds schemas/ (every *.schema.json, cross-file $refs by absolute $id). Each
CASES_DIR/*.json is {"schema": "records/message", "document": {...}}. Prints one JSON line per
case, sorted by file name: {"file", "valid", "pointer", "reason"}, where pointer is the JSON
pointer of the deepest error (a missing or unexpected property's pointer names the property),
the same rule tandem::SchemaRegistry follows, so the two validators can be compared.
"""
import json
import pathlib
import re
import sys

import jsonschema

BASE = "https://tandem.invalid/schemas/"


def load_schemas(schema_dir):
    store = {}
    for path in sorted(pathlib.Path(schema_dir).rglob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        name = path.relative_to(schema_dir).as_posix()[: -len(".schema.json")]
        if schema.get("$id") != BASE + name + ".schema.json":
            raise SystemExit(f"{path}: $id must be {BASE}{name}.schema.json")
        jsonschema.Draft7Validator.check_schema(schema)
        store[schema["$id"]] = schema
    return store


def escape(token):
    return str(token).replace("~", "~0").replace("/", "~1")


def locate(error):
    """(depth, pointer) of an error, naming a missing or unexpected property itself."""
    path = list(error.absolute_path)
    if error.validator == "required":
        match = re.match(r"^'(.*)' is a required property$", error.message)
        if match:
            path.append(match.group(1))
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        extras = [key for key in error.instance if key not in known]
        if extras:
            path.append(extras[0])
    return len(path), "".join("/" + escape(token) for token in path)


def main():
    schema_dir, cases_dir = sys.argv[1], sys.argv[2]
    store = load_schemas(schema_dir)
    for case_path in sorted(pathlib.Path(cases_dir).glob("*.json")):
        case = json.loads(case_path.read_text(encoding="utf-8"))
        schema = store[BASE + case["schema"] + ".schema.json"]
        resolver = jsonschema.RefResolver(base_uri=schema["$id"], referrer=schema, store=store)
        validator = jsonschema.Draft7Validator(schema, resolver=resolver)
        best = None
        for error in validator.iter_errors(case["document"]):
            depth, pointer = locate(error)
            if best is None or depth > best[0]:
                best = (depth, pointer, error.message)
        result = {"file": case_path.name, "valid": best is None}
        if best is not None:
            result["pointer"] = best[1]
            result["reason"] = best[2]
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
