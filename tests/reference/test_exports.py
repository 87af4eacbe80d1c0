"""`mosaicstack_telemetry.__all__` is exactly the reference's names plus the documented additions.

After httpx's tests/test_exported_members.py: every name in `__all__` is importable, and every
public attribute of the package is in `__all__`, so nothing is exported by accident and nothing
documented is missing. The reference's names are copied here (checked against the reference
when it is present) so the test reads without it.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import mosaicstack_telemetry

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_PATH = ROOT.parent / "shared" / "spec" / "sdk-reference.md"

# Every `mosaicstack_telemetry.X` the reference documents, in its order.
REFERENCE_NAMES = [
    "TelemetryClient",
    "TelemetryConfig",
    "EventBuilder",
    "TaskCompletionEvent",
    "PredictionQuery",
    "PredictionResponse",
    "PredictionData",
    "TokenDistribution",
    "CorrectionFactors",
    "QualityPrediction",
    "PredictionMetadata",
    "BatchEventRequest",
    "BatchEventResponse",
    "BatchEventResult",
    "TaskType",
    "Complexity",
    "Harness",
    "Provider",
    "Outcome",
    "QualityGate",
    "RepoSizeCategory",
    "TelemetryError",
    "EventQueue",
    "PredictionCache",
]
# Beyond the reference, each documented: the types of `stats()` and `flush()` (README, "Beyond
# the reference"), what `on_error` receives, the open enums of the answers (contract 1.1), and
# `EventSpool` (a short-lived process's way into the spool), and the version the reference states
# ("SDK version: 0.1.0").
ADDITIONS = [
    "TelemetryStats",
    "FlushResult",
    "DeliveryError",
    "Confidence",
    "EventStatus",
    "RejectionCode",
    "EventSpool",  # events into the spool without a client (docs/lifecycle.md, issue 16)
    "__version__",
]
PACKAGES = ("mosaicstack_telemetry", "_mosaicstack_telemetry_generated")


def test_reference_names_equal_the_reference() -> None:
    if not REFERENCE_PATH.exists():
        pytest.skip(f"the SDK reference is not at {REFERENCE_PATH}")
    text = REFERENCE_PATH.read_text(encoding="utf-8")
    documented = re.findall(r"^`mosaicstack_telemetry\.(\w+)`$", text, flags=re.MULTILINE)
    assert documented == REFERENCE_NAMES


def test_all_is_the_reference_names_plus_the_documented_additions() -> None:
    exported = mosaicstack_telemetry.__all__
    assert len(exported) == len(set(exported)), "a name is exported twice"
    assert set(exported) == {*REFERENCE_NAMES, *ADDITIONS}


@pytest.mark.parametrize("name", mosaicstack_telemetry.__all__)
def test_every_exported_name_is_importable(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from mosaicstack_telemetry import {name}", namespace)
    value = namespace[name]
    assert value is getattr(mosaicstack_telemetry, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert value.__name__ == name  # no alias under another name
        assert value.__module__.startswith(PACKAGES)


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from mosaicstack_telemetry import *", namespace)
    namespace.pop("__builtins__")
    assert set(namespace) == set(mosaicstack_telemetry.__all__)


def test_every_public_attribute_is_exported() -> None:
    # As httpx does: anything public on the package is in __all__ (submodules aside: importing
    # `mosaicstack_telemetry.server` or the pytest plugin sets them as attributes). The names
    # load on first use, so load them all first; dir() lists them before that.
    assert set(mosaicstack_telemetry.__all__) <= set(dir(mosaicstack_telemetry))
    for name in mosaicstack_telemetry.__all__:
        getattr(mosaicstack_telemetry, name)
    public = {
        name
        for name, value in vars(mosaicstack_telemetry).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(mosaicstack_telemetry.__all__) - {"__version__"}


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        _ = mosaicstack_telemetry.NoSuchThing  # type: ignore[attr-defined]


def test_the_package_loads_its_names_on_first_use() -> None:
    # The pytest plugin and the server import the package: that alone must not load the SDK.
    # The client itself loads httpx only when it first sends (its wire is made on first use).
    code = (
        "import sys, mosaicstack_telemetry as m\n"
        "heavy = ('pydantic', 'httpx', 'mosaicstack_telemetry._client', "
        "'_mosaicstack_telemetry_generated.models')\n"
        "print(sorted(h for h in heavy if h in sys.modules))\n"
        "m.TelemetryClient\n"
        "print(sorted(h for h in heavy if h in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    before, after = done.stdout.splitlines()
    assert before == "[]"
    assert after == str(
        sorted(
            [
                "pydantic",
                "mosaicstack_telemetry._client",
                "_mosaicstack_telemetry_generated.models",
            ]
        )
    )


def test_every_public_class_and_function_of_the_package_is_exported() -> None:
    for name in mosaicstack_telemetry.__all__:
        getattr(mosaicstack_telemetry, name)
    defined_here = {
        name
        for name, value in vars(mosaicstack_telemetry).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__.startswith(PACKAGES)
    }
    assert defined_here <= set(mosaicstack_telemetry.__all__)
    assert defined_here == {*REFERENCE_NAMES, *ADDITIONS} - {"__version__"}


def test_additions_are_documented() -> None:
    version = mosaicstack_telemetry.__version__
    # The reference: "SDK version: 0.1.0 (stable: `0.1.0`, dev: `0.1.0.devYYYYMMDDHHMMSS`)".
    assert re.fullmatch(r"0\.1\.0(\.dev\d{14})?", version), version
    # The user documentation is docs/ (the README points into it).
    pages = sorted((ROOT / "docs").glob("*.md"))
    assert pages, "no docs/ beside the tests"
    docs = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    for name in ADDITIONS:
        if name != "__version__":
            assert f"`{name}" in docs, f"{name} is exported but not documented in docs/"
