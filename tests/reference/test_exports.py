"""`mosaicstack_telemetry.__all__` is exactly the reference's names plus the documented additions.

After httpx's tests/test_exported_members.py: every name in `__all__` is importable, and every
public attribute of the package is in `__all__`, so nothing is exported by accident and nothing
documented is missing. The reference's names are copied here (checked against the reference
when it is present) so the test reads without it.
"""

from __future__ import annotations

import inspect
import logging
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

import mosaicstack_telemetry
from mosaicstack_telemetry import _log as _logmod

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


# The line issue 16 measures: what a program that only tracks events imports.
IMPORT_LINE = (
    "from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig, "
    "TaskCompletionEvent"
)
PREDICTION_MODULES = (
    "_mosaicstack_telemetry_generated.prediction_models",
    "mosaicstack_telemetry._predictionmodels",
)
_LOADED = (
    "import sys\n"
    f"def loaded(): return sorted(m for m in {PREDICTION_MODULES!r} if m in sys.modules)\n"
)


def _run(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _LOADED + code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_tracking_events_never_loads_the_prediction_models() -> None:
    """Issue 16: the import line defines only the event's models, and a client that sends
    events (to the local server, through the whole delivery core) defines no prediction class."""
    key, instance = "0123456789abcdef" * 4, "12345678-1234-4234-8234-123456789abc"
    code = (
        f"{IMPORT_LINE}\n"
        "print(loaded(), '_mosaicstack_telemetry_generated.models' in sys.modules)\n"
        "from mosaicstack_telemetry.server import start_server\n"
        f"with start_server(keys={{{key!r}: {instance!r}}}) as server:\n"
        "    config = TelemetryConfig(\n"
        f"        server_url=server.url, api_key={key!r}, instance_id={instance!r}\n"
        "    )\n"
        "    with TelemetryClient(config) as client:\n"
        f"        client.track(EventBuilder(instance_id={instance!r}).model('m').build())\n"
        "        sent = client.flush(timeout=60).sent\n"
        "print(loaded(), sent, 'mosaicstack_telemetry._delivery' in sys.modules)\n"
    )
    at_import, after_sending = _run(code)
    assert at_import == "[] True"  # the event's models, and no prediction model
    assert after_sending == "[] 1 True"  # one event delivered through the delivery core


def test_tracking_defers_the_stats_snapshots_to_the_first_read() -> None:
    """Issue 16: `TelemetryStats` and `FlushResult` (two frozen dataclasses, ~1.5 ms) load with
    the first snapshot, not with the import line or a first tracked event."""
    instance = "12345678-1234-4234-8234-123456789abc"
    code = (
        f"{IMPORT_LINE}\n"
        "stats = 'mosaicstack_telemetry._stats'\n"
        f"config = TelemetryConfig(server_url='http://127.0.0.1:9', api_key='ab' * 32, "
        f"instance_id={instance!r})\n"
        "client = TelemetryClient(config)\n"
        "client.track(EventBuilder(config.instance_id).model('m').build())\n"
        "print(stats in sys.modules)\n"
        "from mosaicstack_telemetry import TelemetryStats\n"
        "snapshot = client.stats()\n"
        "print(type(snapshot) is TelemetryStats, snapshot.queued)\n"
    )
    assert _run(code) == ["False", "True 1"]


@pytest.mark.parametrize(
    ("ask", "name"),
    [
        ("from mosaicstack_telemetry import PredictionResponse as asked", "PredictionResponse"),
        (
            "import mosaicstack_telemetry; asked = mosaicstack_telemetry.TokenDistribution",
            "TokenDistribution",
        ),
        # The public signatures name them through the package: their annotations resolve.
        (
            "import typing; from mosaicstack_telemetry import TelemetryClient\n"
            "asked = typing.get_type_hints(TelemetryClient.get_prediction)['query']",
            "PredictionQuery",
        ),
        (
            "import typing; from mosaicstack_telemetry import PredictionCache\n"
            "asked = typing.get_type_hints(PredictionCache.put)['response']",
            "PredictionResponse",
        ),
    ],
)
def test_asking_for_a_prediction_class_loads_the_very_same_class(ask: str, name: str) -> None:
    code = (
        f"{IMPORT_LINE}\n"
        "print(loaded())\n"
        f"{ask}\n"
        "print(loaded(), asked.__name__)\n"
        "import mosaicstack_telemetry, mosaicstack_telemetry._predictionmodels as hand\n"
        "generated = sys.modules['_mosaicstack_telemetry_generated.prediction_models']\n"
        "same = asked is getattr(generated, asked.__name__) is getattr(hand, asked.__name__)\n"
        "same = same and asked is getattr(mosaicstack_telemetry, asked.__name__)\n"
        "print(same)\n"
    )
    before, after, same = _run(code)
    assert before == "[]"
    assert after == f"{sorted(PREDICTION_MODULES)} {name}"  # loaded by asking, and only then
    assert same == "True"  # the generated class itself, whichever way it is reached


def test_nested_prediction_objects_are_the_public_classes() -> None:
    """A parsed answer's parts are instances of the public names (one class per name)."""
    from mosaicstack_telemetry import PredictionMetadata, PredictionResponse

    answer = PredictionResponse.model_validate(
        {
            "prediction": None,
            "metadata": {"sample_size": 0, "fallback_level": -1, "confidence": "none"},
        }
    )
    assert type(answer.metadata) is PredictionMetadata


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


# The SDK's logger is made on first use (issue 16): importing the SDK, making a client and
# tracking load no `logging`, and what the SDK logs later still reaches the host's handlers.
INSTANCE_ID_LOG = "12345678-1234-4234-8234-123456789abc"


def test_tracking_loads_no_logging_and_a_later_warning_reaches_the_host() -> None:
    out = _run(
        textwrap.dedent(
            f"""
        import sys
        from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig
        config = TelemetryConfig(
            server_url="http://127.0.0.1:9", api_key="ab" * 32, instance_id="{INSTANCE_ID_LOG}"
        )
        client = TelemetryClient(config)
        client.track(EventBuilder(config.instance_id).model("m").build())
        print("logging" in sys.modules)

        import logging
        records = []
        class Keep(logging.Handler):
            def emit(self, record):
                records.append(record.getMessage())
        logging.getLogger("mosaicstack_telemetry").addHandler(Keep())
        client.track("not an event")  # counted, and logged at ERROR
        print(records)
        print([type(h).__name__ for h in logging.getLogger("mosaicstack_telemetry").handlers])
        print(dict(client.stats().dropped))
        """
        )
    )
    assert out[0] == "False"
    assert out[1] == "['Event dropped: track() takes a TaskCompletionEvent, not str']"
    # The host's handler, then the library's NullHandler added when the SDK first logged.
    assert out[2] == "['Keep', 'NullHandler']"
    assert out[3] == "{'invalid_event': 1}"


def test_threads_logging_at_once_make_one_logger_with_one_null_handler() -> None:
    out = _run(
        textwrap.dedent(
            """
        import threading
        from mosaicstack_telemetry import _log
        barrier = threading.Barrier(8)
        seen = []
        def first_use():
            barrier.wait()
            seen.append(_log.get_logger())
        threads = [threading.Thread(target=first_use) for _ in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        import logging
        real = logging.getLogger("mosaicstack_telemetry")
        print(all(s is real for s in seen), [type(h).__name__ for h in real.handlers])
        log = _log.logger
        print(log.name, log.isEnabledFor(logging.WARNING), repr(log))
        """
        )
    )
    assert out[0] == "True ['NullHandler']"
    assert out[1] == (
        "mosaicstack_telemetry True <the mosaicstack_telemetry logger, made on first use>"
    )


def test_the_levels_are_logging_s() -> None:
    assert (_logmod.DEBUG, _logmod.INFO, _logmod.WARNING, _logmod.ERROR) == (
        logging.DEBUG,
        logging.INFO,
        logging.WARNING,
        logging.ERROR,
    )
    assert _logmod.get_logger() is logging.getLogger(_logmod.NAME)
