"""Independent check: every shipped instrument definition passes schemas/instrument.schema.json
under python3-jsonschema (a second validator besides valijson). Exit 77 (skipped) without it."""
import json
import pathlib
import sys

try:
    import jsonschema
except ImportError:
    print("python3-jsonschema is not installed: skipping")
    sys.exit(77)

schema = json.loads(pathlib.Path(sys.argv[1]).read_text())
jsonschema.Draft7Validator.check_schema(schema)
validator = jsonschema.Draft7Validator(schema)
failed = False
files = sorted(pathlib.Path(sys.argv[2]).glob("*.json"))
for path in files:
    for error in validator.iter_errors(json.loads(path.read_text())):
        failed = True
        print(f"{path.name}: /{'/'.join(str(p) for p in error.absolute_path)}: {error.message}")
names = {p.stem for p in files}
if names != {"phq9", "gad7", "cssrs_screener", "wai_sr"}:
    failed = True
    print(f"unexpected set of built-in instruments: {sorted(names)}")
sys.exit(1 if failed else 0)
