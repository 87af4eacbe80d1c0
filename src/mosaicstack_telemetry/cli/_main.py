"""The parser and the dispatch of `mosaic-telemetry`: one module per command beside this one."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from mosaicstack_telemetry.cli import (
    _config,
    _doctor,
    _flush,
    _hook,
    _hook_install,
    _predict,
    _serve,
    _settings,
    _track,
)
from mosaicstack_telemetry.cli._output import SDK_LOGGER, Parser, UsageError, err, setup_logging


def build_parser() -> argparse.ArgumentParser:
    from mosaicstack_telemetry import __version__

    common = Parser(add_help=False)
    _settings.add_config_options(common)
    common.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)"
    )
    parser = Parser(
        prog="mosaic-telemetry",
        description="Record AI coding task telemetry, deliver it, and read predictions.",
        epilog="exit codes: 0 ok, 1 runtime problem, 2 invalid usage or input "
        "(`hook claude-code` always exits 0)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in (_track, _flush, _predict, _serve, _doctor, _config):
        module.add_parser(sub, common)
    hook = sub.add_parser(
        "hook",
        help="harness hooks: `hook claude-code` (run by Claude Code), `hook install claude-code`",
        description="Harness integrations.",
    )
    hook_sub = hook.add_subparsers(dest="hook_command", metavar="HOOK", parser_class=Parser)
    _hook.add_parser(hook_sub, common)
    _hook_install.add_parser(hook_sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit code (the console script exits with it)."""
    args_list = sys.argv[1:] if argv is None else list(argv)
    if args_list[:1] == ["serve"]:
        return _serve.run(args_list[1:])
    is_hook = args_list[:2] == ["hook", "claude-code"]
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:
        if is_hook:  # even a bad hook command line must not break the harness
            return 0
        raise SystemExit(exc.code) from None
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    setup_logging(getattr(args, "verbose", 0))
    start = time.monotonic()
    try:
        code: int = args.func(args)
    except UsageError as exc:
        err(f"mosaic-telemetry {args.command}: {exc}")
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        err(f"mosaic-telemetry {args.command}: unexpected error: {type(exc).__name__}: {exc}")
        return 1
    logging.getLogger(SDK_LOGGER).debug("%s took %.3f s", args.command, time.monotonic() - start)
    return code
