"""The `mosaic-telemetry` command line (also `python -m mosaicstack_telemetry`).

One private module per command (`_track`, `_flush`, `_predict`, `_serve`, `_doctor`,
`_config`, `_hook`, `_hook_install`), each built on the SDK's public API only. Exit codes: 0 ok;
1 a runtime problem (delivery incomplete, doctor found a problem, the server extra missing);
2 invalid usage or input (bad options, a bad event, an incomplete config). `hook claude-code`
always exits 0. Nothing printed, in any mode, contains the API key, except the fresh key of a
local server that `serve` makes and prints on purpose.
"""

from mosaicstack_telemetry.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
