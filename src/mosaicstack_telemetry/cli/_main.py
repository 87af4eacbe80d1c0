"""The parser and the dispatch of `mosaic-telemetry`: one module per command beside this one.

A run imports only the module of its command (`build_parser(command)`): a hook runs `track`
after every turn of its harness, and each command module's imports are its own cost.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from mosaicstack_telemetry.cli import _settings
from mosaicstack_telemetry.cli._output import Parser, UsageError, err, setup_logging

#: Each command and the modules that define it, in the order of `--help`.
COMMANDS = {
    "track": ("_track",),
    "flush": ("_flush",),
    "predict": ("_predict",),
    "serve": ("_serve",),
    "doctor": ("_doctor",),
    "config": ("_config",),
    "hook": ("_hook", "_hook_install"),
}
#: Each `hook` subcommand and its module: `hook claude-code` runs after every turn of Claude
#: Code and imports only its own.
HOOK_COMMANDS = {"claude-code": "_hook", "install": "_hook_install"}


def _module(name: str) -> object:
    # The import statement, not importlib.import_module: `-X importtime` sees only the former.
    return getattr(__import__("mosaicstack_telemetry.cli", None, None, [name]), name)


def build_parser(
    command: str | None = None, hook_command: str | None = None
) -> argparse.ArgumentParser:
    """The whole parser; with `command`, only that command's subparser (what parsing a command
    line of that command needs: the top level names no command but the one it dispatches to);
    with `hook_command` too, only that one of `hook`'s."""
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
    for name, modules in COMMANDS.items():
        if command is not None and name != command:
            continue
        if name != "hook":
            _module(modules[0]).add_parser(sub, common)  # type: ignore[attr-defined]
            continue
        hook = sub.add_parser(
            "hook",
            help="harness hooks: `hook claude-code` (run by Claude Code), "
            "`hook install claude-code`",
            description="Harness integrations.",
        )
        hook_sub = hook.add_subparsers(dest="hook_command", metavar="HOOK", parser_class=Parser)
        for module in modules:
            if hook_command in HOOK_COMMANDS and HOOK_COMMANDS[hook_command] != module:
                continue
            _module(module).add_parser(hook_sub, common)  # type: ignore[attr-defined]
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit code (the console script exits with it)."""
    if argv is None:  # the program itself, not a call from a host's code
        from mosaicstack_telemetry.cli._deferred import defer_inspect

        defer_inspect()
    args_list = sys.argv[1:] if argv is None else list(argv)
    if args_list[:1] == ["serve"]:
        from mosaicstack_telemetry.cli import _serve

        return _serve.run(args_list[1:])
    is_hook = args_list[:2] == ["hook", "claude-code"]
    command = args_list[0] if args_list and args_list[0] in COMMANDS else None
    parser = build_parser(command, args_list[1] if command == "hook" and args_list[1:] else None)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:
        if is_hook:  # even a bad hook command line must not break the harness
            return 0
        raise SystemExit(exc.code) from None
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    verbose = getattr(args, "verbose", 0)
    # `track`, `flush` and the hook set logging up only on their paths that can log (a client,
    # prices): before them, only the config logs, and only about a MOSAIC_TELEMETRY_ENABLED it
    # reads.
    quiet = (command in ("track", "flush") or is_hook) and not os.environ.get(
        _settings.ENV_ENABLED, ""
    ).strip()
    setup_logging(verbose, defer=quiet)
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
    if verbose > 1:
        import logging

        from mosaicstack_telemetry.cli._output import SDK_LOGGER

        elapsed = time.monotonic() - start
        logging.getLogger(SDK_LOGGER).debug("%s took %.3f s", args.command, elapsed)
    return code
