"""Every part of the contract is reachable by hand-written code (issue 13, item 4).

Driven by the contract (see `_reachability.py`): the working contract has no gap, and a changed
copy fails with messages that name the places to change.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.contract._reachability import field_table, problems

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = yaml.safe_load((ROOT / "openapi" / "telemetry-v1.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cli_help() -> str:
    """`mosaic-telemetry track --help`, as a user runs it (not the CLI's private modules)."""
    result = subprocess.run(
        [sys.executable, "-m", "mosaicstack_telemetry", "track", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_the_contract_is_reachable_everywhere(cli_help: str) -> None:
    found = problems(CONTRACT, cli_help)
    assert found == [], "the contract and the hand-written code differ:\n" + "\n".join(found)


def added(changed: dict[str, Any], cli_help: str, doc: str | None = None) -> list[str]:
    """What `changed` adds to the working contract's problems: the self-tests below judge the
    checker, and keep doing so (one message each) while a change of the contract is under way
    and the working contract has problems of its own."""
    before = problems(CONTRACT, cli_help)
    return [p for p in problems(changed, cli_help, doc) if p not in before]


def test_the_table_lists_every_field_once() -> None:
    table = field_table()
    assert list(table) == list(
        CONTRACT["components"]["schemas"]["TaskCompletionEvent"]["properties"]
    )


def _event(contract: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = contract["components"]["schemas"]["TaskCompletionEvent"]
    return event


def test_a_new_optional_field_names_every_place(cli_help: str) -> None:
    changed = copy.deepcopy(CONTRACT)
    _event(changed)["properties"]["probe_calls"] = {"type": "integer", "minimum": 0, "default": 0}
    (message,) = added(changed, cli_help)
    assert message.startswith("probe_calls: a field of the contract with no row in docs/wire.md")
    for place in ("_builder.py", "mosaic-telemetry track", "server/_store.py"):
        assert place in message


def test_a_renamed_field_names_every_place(cli_help: str) -> None:
    changed = copy.deepcopy(CONTRACT)
    event = _event(changed)
    event["properties"] = {
        ("model_id" if k == "model" else k): v for k, v in event["properties"].items()
    }
    event["required"] = ["model_id" if r == "model" else r for r in event["required"]]
    found = added(changed, cli_help)
    text = "\n".join(found)
    assert "model_id: a field of the contract with no row in docs/wire.md" in text
    assert "model: docs/wire.md" in text
    assert "lists a field the contract does not have" in text
    assert "model: EventBuilder.model() sets a field the contract does not have" in text
    assert "model: the server's store names a field the contract does not have" in text
    assert len(found) == 4, found


def test_a_removed_option_or_setter_is_found() -> None:
    doc = (ROOT / "docs" / "wire.md").read_text(encoding="utf-8")
    broken = doc.replace("`--repo-size`", "`--repository-size`").replace(
        "`tokens(actual_out=)`", "`tokens(output=)`"
    )
    found = added(CONTRACT, "usage: track --model MODEL", broken)
    assert any(
        "repo_size_category: the `track` command" in f and "--repository-size" in f for f in found
    )
    assert any(
        "actual_output_tokens: EventBuilder.tokens() has no parameter 'output'" in f for f in found
    )


@pytest.mark.parametrize(
    ("schema", "value", "varname", "spec"),
    [("Provider", "xai", "XAI", True), ("EventStatus", "superseded", "SUPERSEDED", False)],
)
def test_a_new_enum_value_names_enums_py(
    cli_help: str, schema: str, value: str, varname: str, spec: bool
) -> None:
    changed = copy.deepcopy(CONTRACT)
    component = changed["components"]["schemas"][schema]
    component["enum"].append(value)
    component["x-enum-varnames"].append(varname)
    component["x-enum-descriptions"].append("new")
    (message,) = added(changed, cli_help)
    assert message.startswith(f"{schema}.{varname} = {value!r}: no such hand-written member")
    assert "src/mosaicstack_telemetry/_enums.py" in message
    # A closed (request) enum is part of the SDK reference: its table changes too.
    assert ("shared/spec/sdk-reference.md" in message) is spec


def test_an_enum_without_a_type_override_is_found(
    cli_help: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.contract import _reachability

    before = problems(CONTRACT, cli_help)
    real = _reachability.type_overrides()
    monkeypatch.setattr(
        _reachability, "type_overrides", lambda: {k: v for k, v in real.items() if k != "Outcome"}
    )
    assert [p for p in problems(CONTRACT, cli_help) if p not in before] == [
        "Outcome: not in [tool.datamodel-codegen.type-overrides] of pyproject.toml"
    ]
