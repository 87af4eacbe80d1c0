"""The SDK's logger is made on first use (issue 16): importing the SDK, making a client and
tracking load no `logging`, and what the SDK logs later still reaches the host's handlers."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

from mosaicstack_telemetry import _log

INSTANCE = "12345678-1234-4234-8234-123456789abc"


def _run(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_tracking_loads_no_logging_and_a_later_warning_reaches_the_host() -> None:
    out = _run(
        f"""
        import sys
        from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig
        config = TelemetryConfig(
            server_url="http://127.0.0.1:9", api_key="ab" * 32, instance_id="{INSTANCE}"
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
    assert out[0] == "False"
    assert out[1] == "['Event dropped: track() takes a TaskCompletionEvent, not str']"
    # The host's handler, then the library's NullHandler added when the SDK first logged.
    assert out[2] == "['Keep', 'NullHandler']"
    assert out[3] == "{'invalid_event': 1}"


def test_threads_logging_at_once_make_one_logger_with_one_null_handler() -> None:
    out = _run(
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
        print(_log.logger.name, _log.logger.isEnabledFor(logging.WARNING), repr(_log.logger))
        """
    )
    assert out[0] == "True ['NullHandler']"
    assert out[1] == (
        "mosaicstack_telemetry True <the mosaicstack_telemetry logger, made on first use>"
    )


def test_the_levels_are_logging_s() -> None:
    assert (_log.DEBUG, _log.INFO, _log.WARNING, _log.ERROR) == (
        logging.DEBUG,
        logging.INFO,
        logging.WARNING,
        logging.ERROR,
    )
    assert _log.get_logger() is logging.getLogger(_log.NAME)
