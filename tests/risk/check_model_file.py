#!/usr/bin/python3
"""Checks the shipped learned model's header against schemas/risk_model.schema.json with an
independent validator (python3-jsonschema), and its weight table's size and checksum.

Usage: check_model_file.py SCHEMA MODEL
"""
import json
import struct
import sys

import jsonschema


def main():
    schema_path, model_path = sys.argv[1], sys.argv[2]
    with open(schema_path, encoding="utf-8") as handle:
        schema = json.load(handle)
    with open(model_path, "rb") as handle:
        data = handle.read()
    if data[:8] != b"TANDEMRM":
        print(f"{model_path}: bad magic")
        return 1
    (n,) = struct.unpack("<I", data[8:12])
    header = json.loads(data[12:12 + n].decode("utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(header), key=lambda e: list(e.path))
    for e in errors:
        print(f"{model_path}: header /{'/'.join(str(p) for p in e.path)}: {e.message}")
    body = data[12 + n:]
    expected = (1 << header["hash_bits"]) * len(header["heads"])
    if header["format"] >= 2:
        expected += (1 << header["hash_bits"]) * 4  # the float32 idf table
    if len(body) != expected:
        print(f"{model_path}: weight table has {len(body)} bytes, expected {expected}")
        return 1
    h = 1469598103934665603
    for byte in body:
        h ^= byte
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    if f"{h:016x}" != header["weights_fnv1a64"]:
        print(f"{model_path}: weight checksum mismatch")
        return 1
    if errors:
        return 1
    print(f"{model_path}: {header['name']}@{header['version']}, {len(header['heads'])} heads: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
