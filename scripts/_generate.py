"""Regenerate generated/ from openapi/telemetry-v1.yaml, or check that it is up to date.

Both generators write into a fresh temporary folder; the result then replaces generated/
(or, with --check, is compared with it). Generating from scratch every time is what makes the
output byte-for-byte deterministic: nothing stale can survive in generated/.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = "openapi/telemetry-v1.yaml"
PACKAGE = "_mosaicstack_telemetry_generated"
TARGET = ROOT / "generated" / PACKAGE
HEADER = "# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit."
INIT = f'''{HEADER}
"""Code generated from the OpenAPI contract; private to mosaicstack_telemetry.

models: the event models, pydantic v2 (datamodel-code-generator); the SDK imports them.
prediction_models: the prediction models and the error body, loaded on first use.
client: the low-level httpx client (openapi-python-client).
event_schema: the event's JSON Schema and a validator of it in plain Python (fastjsonschema).
"""
'''


def _bin(name: str) -> str:
    """A tool from the same environment as this interpreter (the project's venv)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        sys.exit(f"{name} is not installed in {path.parent}: run scripts/install")
    return str(path)


def _run(cmd: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit(f"failed: {' '.join(cmd)}")


def open_enums_as_strings(contract: Path, dest: Path) -> Path:
    """The contract for openapi-python-client: every `x-open-enum` schema as a plain string.

    An open enum is a set of response values a newer server may extend. datamodel-code-generator
    maps them to hand-written open enums (type-overrides); openapi-python-client has no such
    option and its Literal checks would fail a whole answer over one new value, so it is given
    these schemas without their `enum`. Request enums are untouched (and stay strict).
    """
    import yaml

    doc = yaml.safe_load(contract.read_text(encoding="utf-8"))
    for schema in doc["components"]["schemas"].values():
        if schema.get("x-open-enum"):
            for key in ("enum", "x-enum-varnames", "x-enum-descriptions"):
                schema.pop(key, None)
    dest.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return dest


#: fastjsonschema's generated code imports its exception classes from fastjsonschema, whose
#: import costs more than the whole validator; the module defines them instead, so it imports
#: nothing but `re` and fastjsonschema stays a generation-time tool.
_FJS_IMPORT = "from fastjsonschema import JsonSchemaValueException, JsonSchemaValuesException"
_FJS_EXCEPTIONS = '''

class JsonSchemaValueException(ValueError):
    """Where the data breaks the schema (the same fields as fastjsonschema's exception)."""

    def __init__(self, message, value=None, name=None, definition=None, rule=None):
        super().__init__(message)
        self.message, self.value, self.name = message, value, name
        self.definition, self.rule = definition, rule


class JsonSchemaValuesException(JsonSchemaValueException):
    """Several failures at once (not raised by this schema's validator)."""
'''


#: fastjsonschema accepts a `decimal.Decimal` wherever JSON has a number; importing decimal
#: costs more than the whole validator. The one caller, `_eventjson`, vouches for `int` and
#: `float` values alone and leaves anything else to the model, so here a Decimal is no number.
_FJS_DECIMAL = "from decimal import Decimal\n"
_NO_DECIMAL = """

class Decimal:
    \"\"\"Stands in for decimal.Decimal in the number checks: no value is one (see
    scripts/_generate.py); `_eventjson` leaves a Decimal to the model to judge.\"\"\"

"""


def _inline_refs(node: object, schemas: dict[str, Any]) -> object:
    """`node` with every `#/components/schemas/X` reference replaced by X itself."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return _inline_refs(schemas[ref.rsplit("/", 1)[1]], schemas)
        return {k: _inline_refs(v, schemas) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_refs(v, schemas) for v in node]
    return node


def event_schema(contract: Path, dest: Path) -> None:
    """The event's JSON Schema from the contract (references inlined) and its validator.

    `mosaic-telemetry track` validates an event against this before it writes the spool, without
    pydantic (whose import alone costs more than the whole command may take; issue 16). The
    validator is fastjsonschema's generated code: it fills in no defaults (`use_default=False`),
    checks the `uuid` and `date-time` formats, and raises plain messages (the caller asks the
    model for its own when an event is invalid).
    """
    import fastjsonschema
    import yaml

    doc = yaml.safe_load(contract.read_text(encoding="utf-8"))
    schemas = doc["components"]["schemas"]
    schema = _inline_refs(schemas["TaskCompletionEvent"], schemas)
    assert isinstance(schema, dict)
    code = fastjsonschema.compile_to_code(schema, use_default=False, detailed_exceptions=False)
    if _FJS_IMPORT not in code:
        sys.exit(
            "fastjsonschema's generated code changed: update _FJS_IMPORT in scripts/_generate.py"
        )
    code = code.replace(_FJS_IMPORT, _FJS_EXCEPTIONS)
    if _FJS_DECIMAL not in code:
        sys.exit(
            "fastjsonschema's generated code changed: update _FJS_DECIMAL in scripts/_generate.py"
        )
    code = code.replace(_FJS_DECIMAL, _NO_DECIMAL)
    dest.write_text(
        f'''{HEADER}
"""The contract's `TaskCompletionEvent` as JSON Schema, and `validate(data)` raising
`JsonSchemaValueException` where `data` breaks it (fastjsonschema's generated code)."""
# ruff: noqa

#: components.schemas.TaskCompletionEvent of the contract, every reference inlined.
SCHEMA = {schema!r}

{code}'''
    )


#: Each generated models module and the schemas it is made for (roots: with every schema they
#: reference). Importing the SDK defines only `models`: a program that only tracks events never
#: pays for the prediction classes (issue 16). `ErrorResponse` goes with the predictions: no
#: code of the SDK reads an error body through it (the transport reads error bodies with the
#: generated client), so nothing on the events path needs it.
MODEL_MODULES: dict[str, tuple[str, ...]] = {
    "models": ("BatchEventRequest", "BatchEventResponse"),
    "prediction_models": ("PredictionBatchRequest", "PredictionBatchResponse", "ErrorResponse"),
}


def _refs(node: object) -> set[str]:
    """The names of the `#/components/schemas/X` that `node` references, directly."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def _closure(roots: tuple[str, ...], schemas: dict[str, Any]) -> set[str]:
    """`roots` and every schema they reference, however deep."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(_refs(schemas[name]))
    return seen


def model_contracts(contract: Path, dest: Path) -> dict[str, Path]:
    """One copy of the contract per module of `MODEL_MODULES`, its schemas only those it needs.

    datamodel-codegen makes a class for every schema of its input and has no option to choose
    some (its `paths` scope would put the error body in both modules); given each copy, it
    writes each module from the one contract with the same settings (an enum is a type-override,
    so a module that references one imports it). A schema no module reaches stops the
    generation: it would be silently missing.
    """
    import yaml

    doc = yaml.safe_load(contract.read_text(encoding="utf-8"))
    schemas: dict[str, Any] = doc["components"]["schemas"]
    copies: dict[str, Path] = {}
    reached: set[str] = set()
    for module, roots in MODEL_MODULES.items():
        names = _closure(roots, schemas)
        reached |= names
        part = {
            "openapi": doc["openapi"],
            "info": doc["info"],
            # In the contract's order, so the classes come in the order they always have.
            "components": {"schemas": {k: v for k, v in schemas.items() if k in names}},
        }
        copies[module] = dest / f"{module}.yaml"
        copies[module].write_text(
            yaml.safe_dump(part, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
    missing = [name for name in schemas if name not in reached]
    if missing:
        sys.exit(
            f"no generated module reaches components.schemas {', '.join(missing)}: add it, or a"
            " schema that references it, to MODEL_MODULES in scripts/_generate.py"
        )
    return copies


def _one_class_per_name(out: Path) -> None:
    """Stop when two models modules define a class of the same name: a schema both reach that
    is not a type-override would be two different classes, and the SDK re-exports one."""
    owner: dict[str, str] = {}
    for module in MODEL_MODULES:
        text = (out / f"{module}.py").read_text(encoding="utf-8")
        for name in re.findall(r"^class (\w+)\b", text, flags=re.MULTILINE):
            if name in owner:
                sys.exit(
                    f"both {owner[name]}.py and {module}.py define {name}: change MODEL_MODULES"
                    " in scripts/_generate.py so that one module reaches it"
                )
            owner[name] = module


def generate(out: Path) -> None:
    """Write the whole generated package into `out` (which must not exist)."""
    env = dict(os.environ)
    # Post-hooks call `ruff` by name: make it the pinned one from this environment.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    out.mkdir(parents=True)
    (out / "__init__.py").write_text(INIT)
    (out / "py.typed").write_text(HEADER + "\n")
    # A copy of the contract ships in the package, for the local server's /openapi.json.
    (out / "telemetry-v1.yaml").write_text(f"{HEADER}\n{(ROOT / CONTRACT).read_text()}")
    # Its settings live in pyproject.toml, [tool.datamodel-codegen].
    for module, part in model_contracts(ROOT / CONTRACT, out.parent).items():
        _run(
            [
                _bin("datamodel-codegen"),
                "--input",
                str(part),
                "--output",
                str(out / f"{module}.py"),
            ],
            env,
        )
    _one_class_per_name(out)
    _run(
        [
            _bin("openapi-python-client"),
            "generate",
            "--path",
            str(open_enums_as_strings(ROOT / CONTRACT, out.parent / "openapi-python-client.yaml")),
            "--config",
            "scripts/openapi-python-client.yaml",
            "--custom-template-path",
            "scripts/openapi-python-client-templates",
            "--meta",
            "none",
            "--output-path",
            str(out / "client"),
            "--fail-on-warning",
        ],
        env,
    )
    event_schema(ROOT / CONTRACT, out / "event_schema.py")
    _run(
        [
            _bin("ruff"),
            "format",
            "--isolated",
            "--target-version",
            "py310",
            "--quiet",
            str(out / "event_schema.py"),
        ],
        env,
    )
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".typed", ".yaml"}:
            text = path.read_text()
            if not text.startswith(HEADER):
                path.write_text(f"{HEADER}\n{text}")
        elif path.is_dir() and path.name == "__pycache__":
            shutil.rmtree(path)


def _files(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def check(fresh: Path) -> int:
    """Print a unified diff of generated/ against a fresh generation; 1 if they differ."""
    old = _files(TARGET) if TARGET.exists() else {}
    new = _files(fresh)
    diff: list[str] = []
    for name in sorted(old.keys() | new.keys()):
        a, b = old.get(name, ""), new.get(name, "")
        if a != b:
            diff.extend(
                difflib.unified_diff(
                    a.splitlines(keepends=True),
                    b.splitlines(keepends=True),
                    f"generated/{PACKAGE}/{name}" if name in old else "/dev/null",
                    f"regenerated/{PACKAGE}/{name}" if name in new else "/dev/null",
                )
            )
    if diff:
        sys.stdout.writelines(diff)
        print(
            f"\ngenerated/ is stale: {CONTRACT} (or a generator setting) changed since it was"
            " generated. Run scripts/generate and commit generated/ with the contract.",
            file=sys.stderr,
        )
        return 1
    print("generated/ is up to date with the contract.")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report drift (exit 1)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mosaic-generate-") as tmp:
        fresh = Path(tmp) / PACKAGE
        generate(fresh)
        if args.check:
            return check(fresh)
        if TARGET.exists():
            shutil.rmtree(TARGET)
        TARGET.parent.mkdir(exist_ok=True)
        shutil.copytree(fresh, TARGET)
    print(f"regenerated generated/{PACKAGE} from {CONTRACT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
