"""Validates the shipped risk rule files against schemas/risk_rules.schema.json with an
independent validator (python3-jsonschema), so the C++ loader's valijson is not the only judge."""
import json
import pathlib
import sys

import jsonschema


def main() -> int:
    schema = json.loads(pathlib.Path(sys.argv[1]).read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    files = sorted(pathlib.Path(sys.argv[2]).glob("*.json"))
    if not files:
        print("no rule files found", file=sys.stderr)
        return 1
    failed = 0
    ids = {}
    for f in files:
        doc = json.loads(f.read_text(encoding="utf-8"))
        for error in validator.iter_errors(doc):
            failed += 1
            print(f"{f.name}: {'/'.join(map(str, error.path))}: {error.message}", file=sys.stderr)
        for rule in doc.get("rules", []):
            if rule["id"] in ids:
                failed += 1
                print(f"{f.name}: duplicate id {rule['id']} (also in {ids[rule['id']]})", file=sys.stderr)
            ids[rule["id"]] = f.name
    print(f"{len(files)} rule files, {len(ids)} rules, {failed} problems")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
