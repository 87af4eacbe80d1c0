"""Reading the code blocks of a Markdown page, and running its Python blocks as a reader would."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PROD_URL = "https://tel-api.mosaicstack.dev"
PLACEHOLDER_KEY = "your-64-char-hex-api-key"
KEY = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
INSTANCE = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"  # the instance id the pages use

_FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```$", re.M | re.S)
_TITLE = re.compile(r'title="([^"]+)"')


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    lang: str
    title: str  # a `title="x.py"` attribute: a file the reader saves, not typed in a session
    code: str
    output: str | None  # the ```text block after "prints", when the page shows the output

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    found: list[Block] = []
    matches = list(_FENCE.finditer(text))
    for i, match in enumerate(matches):
        lang, attrs, code = match.group(1), match.group(2), match.group(3)
        if lang != "python":
            continue
        output = None
        if i + 1 < len(matches) and matches[i + 1].group(1) == "text":
            between = text[match.end() : matches[i + 1].start()].strip()
            if between == "prints":
                output = matches[i + 1].group(3)
        title = _TITLE.search(attrs)
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(path.name, line, lang, title.group(1) if title else "", code, output))
    return found


def pages_with_python() -> dict[str, list[Block]]:
    pages = {p.name: blocks(p) for p in sorted(DOCS.glob("*.md"))}
    return {name: found for name, found in pages.items() if found}


def localize(code: str, url: str, key: str | None = KEY) -> str:
    """What a reader changes to run an example: the server URL and the placeholder key."""
    code = code.replace(PROD_URL, url)
    return code.replace(PLACEHOLDER_KEY, key) if key is not None else code


def run_session(block: Block, code: str, namespace: dict[str, Any]) -> str:
    """Run a block in the page's namespace (top-level await as in the asyncio REPL); return
    what it printed."""
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    compiled = compile(code, f"<docs/{block.name}>", "exec", flags=flags)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = eval(compiled, namespace)  # an example of our own docs, nothing else
        if inspect.iscoroutine(result):
            asyncio.run(result)
    return out.getvalue()
