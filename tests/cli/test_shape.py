"""The CLI's shape (issue 15): one small module per command, built on the public API only."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import mosaicstack_telemetry

CLI = Path(mosaicstack_telemetry.__file__).parent / "cli"
MODULES = sorted(CLI.glob("*.py"))
#: What the CLI may import from the package: the public names, its own modules, the server.
ALLOWED_PREFIXES = ("mosaicstack_telemetry.cli", "mosaicstack_telemetry.server")


def test_every_module_is_small() -> None:
    assert len(MODULES) >= 10
    for path in MODULES:
        lines = len(path.read_text().splitlines())
        assert lines <= 350, f"{path.name}: {lines} lines"


def test_only_public_names_of_the_sdk_are_used() -> None:
    public = set(mosaicstack_telemetry.__all__)
    for path in MODULES:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "mosaicstack_telemetry"
            ):
                module = node.module or ""
                if module.startswith(ALLOWED_PREFIXES):
                    assert not re.search(r"\.server\._[a-z]", module), (path.name, module)
                    continue
                assert module == "mosaicstack_telemetry", (path.name, module)
                for alias in node.names:
                    assert alias.name in public, (path.name, alias.name)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("mosaicstack_telemetry."):
                        assert alias.name.startswith(ALLOWED_PREFIXES), (path.name, alias.name)
            # No private attribute of an SDK object (client._get_sender(), spool._connect()...).
            dunder = node.attr.startswith("__") if isinstance(node, ast.Attribute) else True
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not dunder:
                owner = node.value
                assert isinstance(owner, ast.Name), (path.name, ast.unparse(node))
                assert owner.id in {"_settings", "self"}, (path.name, ast.unparse(node))


def test_no_private_module_is_named_anywhere() -> None:
    private = re.compile(r"mosaicstack_telemetry\._[a-z]")
    for path in MODULES:
        assert not private.search(path.read_text()), path.name


def test_the_console_script_runs_the_cli() -> None:
    import subprocess
    import sys

    script = Path(sys.executable).parent / "mosaic-telemetry"
    done = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"mosaic-telemetry {mosaicstack_telemetry.__version__}"
    done = subprocess.run(
        [str(script), "hook", "install", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "--project" in done.stdout
