"""`inspect`, loaded when something first uses it: in the CLI's own process only.

`TelemetryConfig` is a dataclass (the reference says so), and `dataclasses` imports `inspect`,
which imports `ast`, `dis`, `tokenize` and more, only to write a docstring for a class that has
none. In a `mosaic-telemetry track` run that import was the largest single cost left, about a
fifth of the process (benchmarks/results.md, issue 16). So the console script puts a stand-in in
`sys.modules` before anything imports `inspect`: `import inspect` finds it, and the first
attribute anyone reads from it loads the real module, which then replaces it in `sys.modules`
and fills the stand-in, so code holding either sees the same functions. Nothing else changes:
a process that never reads from `inspect` never pays for it. (This is what PEP 810's explicit
`lazy import` does for a module's own imports; the standard library's
`importlib.util.LazyLoader` cannot do it here, since on these Pythons an `import` statement
reads the module's `__spec__`, which loads it.)

Only the CLI does this, only as the program (`main()` without arguments), and only when
`inspect` is not loaded yet: the SDK never touches the modules of the process it runs in. It
pays on Python 3.10 and 3.11; from 3.12 `dataclasses` reads every class's annotations through
`inspect.get_annotations`, so the stand-in turns into the real module with the first dataclass.
"""

from __future__ import annotations

import _thread
import sys
import types

_NAME = "inspect"
#: Two threads reading from the stand-in at once load the module once, and never take the real
#: module out of `sys.modules` (reentrant: an import hook reading it while it loads).
_loading = _thread.RLock()


class _StandIn(types.ModuleType):
    """`inspect` until its first use. `__spec__` and the other module attributes an import
    statement reads are set (to None) by `ModuleType`, so importing does not load it."""

    def __getattr__(self, name: str) -> object:
        return getattr(_load(self), name)


def _load(stand_in: _StandIn) -> types.ModuleType:
    with _loading:
        if sys.modules.get(_NAME) is stand_in:
            del sys.modules[_NAME]
        real = __import__(_NAME)
        stand_in.__dict__.update(real.__dict__)
    return real


def defer_inspect() -> None:
    """Put the stand-in in place, unless `inspect` is already loaded (a test, a host)."""
    if _NAME not in sys.modules:
        sys.modules[_NAME] = _StandIn(_NAME)
