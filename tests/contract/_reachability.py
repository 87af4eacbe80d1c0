"""Where every part of the contract must be reachable by hand-written code, checked from the
contract itself (issue 13, item 4): no copied table of fields or values.

`problems(contract, cli_help)` returns one message per gap, each naming the file to change:

- every `TaskCompletionEvent` field has a row in docs/wire.md's field table, naming its
  `EventBuilder` setter (which really sets that field), its `mosaic-telemetry track` option
  (which `--help` really lists) and its place in the server's store (a column, or `raw`);
- every value of every enum of the contract has a hand-written member in `_enums.py`, and every
  enum is a type-override (so the generated models use it);
- nothing hand-written names a field the contract no longer has.

The tests run it on the working contract (no gap) and on changed copies (issue 13's table).
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
from enum import Enum
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WIRE_DOC = ROOT / "docs" / "wire.md"
BUILDER = "src/mosaicstack_telemetry/_builder.py"
ENUMS = "src/mosaicstack_telemetry/_enums.py"
STORE = "src/mosaicstack_telemetry/server/_store.py"
CLI = "the `track` command of the CLI (`mosaic-telemetry track --help`)"
DOC = "docs/wire.md (the table under 'Every event field')"
SPEC = "shared/spec/sdk-reference.md and its copy in tests/reference/test_reference_sdk.py"

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover  # Python 3.10
    import tomli as tomllib


def field_table(text: str | None = None) -> dict[str, dict[str, str]]:
    """docs/wire.md's table of event fields: field -> {builder, cli, store}."""
    text = WIRE_DOC.read_text(encoding="utf-8") if text is None else text
    section = text.split("## Every event field", 1)[-1]
    rows: dict[str, dict[str, str]] = {}
    for line in section.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 4 or set(cells[0]) <= set("-: "):
            if rows and not line.startswith("|"):
                break  # the table ended
            continue
        if cells[0] == "Field":
            continue
        rows[cells[0]] = {"builder": cells[1], "cli": cells[2], "store": cells[3]}
    return rows


def builder_assignments() -> dict[str, set[str]]:
    """EventBuilder method -> the event fields it sets (from `_builder.py`'s source)."""
    from mosaicstack_telemetry import _builder

    tree = ast.parse(inspect.getsource(_builder))
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "EventBuilder":
            for method in node.body:
                if isinstance(method, ast.FunctionDef):
                    keys = {
                        target.slice.value
                        for stmt in ast.walk(method)
                        if isinstance(stmt, ast.Assign)
                        for target in stmt.targets
                        if isinstance(target, ast.Subscript)
                        and isinstance(target.slice, ast.Constant)
                        and isinstance(target.slice.value, str)
                    }
                    found[method.name] = keys
    return found


_SETTER = re.compile(r"(?:EventBuilder)?\.?(?P<name>\w*)\((?P<kw>\w+=)?\)")


def _check_setter(field: str, cell: str, assigns: dict[str, set[str]]) -> str | None:
    from mosaicstack_telemetry import EventBuilder

    match = _SETTER.fullmatch(cell)
    if match is None:
        return (
            f"{field}: '{cell}' in {DOC} is not a setter such as `model()` or `tokens(actual_in=)`"
        )
    name = match.group("name") or "__init__"
    if name not in assigns:
        return f"{field}: EventBuilder has no method {name}() ({BUILDER}), as {DOC} says"
    if field not in assigns[name]:
        return f"{field}: EventBuilder.{name}() does not set {field!r} ({BUILDER})"
    keyword = (match.group("kw") or "").rstrip("=")
    if keyword and keyword not in inspect.signature(getattr(EventBuilder, name)).parameters:
        return f"{field}: EventBuilder.{name}() has no parameter {keyword!r} ({BUILDER})"
    return None


def _enum_classes() -> dict[str, type[Enum]]:
    from mosaicstack_telemetry import _enums

    return {
        name: cls
        for name, cls in vars(_enums).items()
        if isinstance(cls, type) and issubclass(cls, Enum) and not name.startswith("_")
    }


def type_overrides() -> dict[str, str]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        config = tomllib.load(f)
    overrides: dict[str, str] = config["tool"]["datamodel-codegen"]["type-overrides"]
    return overrides


def problems(contract: dict[str, Any], cli_help: str, doc: str | None = None) -> list[str]:
    """Every gap between the contract and the hand-written code, with the place to fix it."""
    from mosaicstack_telemetry.server._store import COLUMNS, RAW_ONLY

    schemas = contract["components"]["schemas"]
    event = schemas["TaskCompletionEvent"]
    fields = list(event["properties"])
    table = field_table(doc)
    assigns = builder_assignments()
    found: list[str] = []

    for field in fields:
        row = table.get(field)
        if row is None:
            found.append(
                f"{field}: a field of the contract with no row in {DOC}; give it an EventBuilder "
                f"setter ({BUILDER}), an option of {CLI}, a store column or a RAW_ONLY entry "
                f"({STORE}), then its row"
            )
            continue
        fixed = row["builder"] == "fixed"
        if fixed and not event["properties"][field].get("x-always-send"):
            found.append(f"{field}: only an x-always-send field can be 'fixed' in {DOC}")
        if not fixed and (why := _check_setter(field, row["builder"], assigns)):
            found.append(why)
        if row["cli"] != "fixed" and not re.search(rf"{re.escape(row['cli'])}\b", cli_help):
            found.append(f"{field}: {CLI} has no option {row['cli']}, as {DOC} says")
        if row["store"] == "column" and field not in COLUMNS:
            found.append(f"{field}: {DOC} says it has a store column; COLUMNS ({STORE}) has none")
        elif row["store"] == "raw" and field not in RAW_ONLY:
            found.append(f"{field}: {DOC} says it is kept in raw; it is not in RAW_ONLY ({STORE})")
        elif row["store"] not in ("column", "raw"):
            found.append(f"{field}: the store cell of {DOC} must be 'column' or 'raw'")
        if field not in COLUMNS and field not in RAW_ONLY:
            found.append(f"{field}: neither a store column nor in RAW_ONLY ({STORE})")

    for name in table:
        if name not in fields:
            found.append(f"{name}: {DOC} lists a field the contract does not have")
    for method, keys in sorted(assigns.items()):
        for key in sorted(keys - set(fields)):
            found.append(
                f"{key}: EventBuilder.{method}() sets a field the contract does not have "
                f"({BUILDER})"
            )
    for column in (*COLUMNS, *RAW_ONLY):
        if column not in fields:
            found.append(
                f"{column}: the server's store names a field the contract does not have ({STORE})"
            )

    classes = _enum_classes()
    overrides = type_overrides()
    for name, schema in schemas.items():
        if "enum" not in schema:
            continue
        cls = classes.get(name)
        if cls is None:
            found.append(f"{name}: an enum of the contract with no class in {ENUMS}")
            continue
        members = {m.name: m.value for m in cls}
        for varname, value in zip(schema["x-enum-varnames"], schema["enum"], strict=True):
            if members.get(varname) != value:
                found.append(
                    f"{name}.{varname} = {value!r}: no such hand-written member; add it to "
                    f"{ENUMS}"
                    + ("" if schema.get("x-open-enum") else f", then to the {name} table of {SPEC}")
                )
        for varname in sorted(set(members) - set(schema["x-enum-varnames"])):
            found.append(f"{name}.{varname}: a member of {ENUMS} the contract does not have")
        if overrides.get(name) != f"mosaicstack_telemetry._enums.{name}":
            found.append(
                f"{name}: not in [tool.datamodel-codegen.type-overrides] of pyproject.toml"
            )
        if schema.get("x-open-enum"):
            try:
                cls("a-value-from-a-newer-server")
            except ValueError:
                found.append(f"{name}: an x-open-enum must be an _OpenStrEnum in {ENUMS}")
    return found
