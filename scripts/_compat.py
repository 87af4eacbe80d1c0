"""The compatibility gate: the working contract against the last released one.

    scripts/compat [--released PATH] [--contract PATH] [--no-optic]

Two independent judges of what breaks a client, as two linters judge the contract's style:

- Optic (`@useoptic/optic`, pinned in scripts/npm/optic/, installed from the npm registry into a
  cache outside the repository), whose breaking-change rules cover operations, status codes,
  types, enums and required properties;
- the rules below, for what Optic lets pass: a removed request field that
  `additionalProperties: false` now rejects (a rename is a removal and an addition), a narrowed
  request bound, length, size or pattern, and the version policy.

Every change prints a changelog line. A breaking change fails unless `info.version` takes a new
major version; a change that adds something needs at least a new minor version; any change at
all needs a higher version. Exit 0 when the gate passes, 1 when it fails, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "openapi" / "telemetry-v1.yaml"
RELEASED = ROOT / "openapi" / "released" / "telemetry-v1.yaml"
OPTIC_DIR = ROOT / "scripts" / "npm" / "optic"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Request keywords whose value may only widen, and which way is wider.
LOWER_IS_WIDER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
HIGHER_IS_WIDER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")


@dataclass(frozen=True)
class Finding:
    kind: str  # "breaking", "addition" or "change"
    text: str


# --- changelog: every difference, one line each ----------------------------------------------


def _pointer(parts: tuple[str, ...]) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def diff(old: Any, new: Any, at: tuple[str, ...] = ()) -> Iterator[tuple[str, tuple[str, ...]]]:
    """("added" | "removed" | "changed", path) for each difference, at the shallowest node."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in old:
            if key not in new:
                yield "removed", (*at, str(key))
            else:
                yield from diff(old[key], new[key], (*at, str(key)))
        for key in new:
            if key not in old:
                yield "added", (*at, str(key))
    elif old != new:
        yield "changed", at


def changelog(old: dict[str, Any], new: dict[str, Any]) -> list[Finding]:
    lines = []
    for what, path in diff(old, new):
        documentary = path[-1] in ("description", "summary", "examples", "example", "tags")
        kind = "addition" if what == "added" and not documentary else "change"
        lines.append(Finding(kind, f"{what} {_pointer(path)}"))
    return lines


# --- breaking changes, judged on each operation's resolved schemas ---------------------------


class Judge:
    """Walks the request and response schemas of each operation in both documents at once."""

    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.found: list[Finding] = []

    def breaking(self, text: str) -> None:
        self.found.append(Finding("breaking", text))

    @staticmethod
    def resolve(doc: dict[str, Any], node: Any, seen: frozenset[str] = frozenset()) -> Any:
        while isinstance(node, dict) and "$ref" in node and node["$ref"] not in seen:
            seen = seen | {node["$ref"]}
            target: Any = doc
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return node

    @staticmethod
    def types(schema: dict[str, Any]) -> set[str]:
        kind = schema.get("type")
        return set(kind) if isinstance(kind, list) else ({kind} if kind else set())

    def schema(self, old: Any, new: Any, where: str, request: bool, depth: int = 0) -> None:
        if depth > 12 or not isinstance(old, dict) or not isinstance(new, dict):
            return
        old, new = self.resolve(self.old, old), self.resolve(self.new, new)
        side = "request" if request else "response"
        told, tnew = self.types(old), self.types(new)
        if told and tnew and ((told - tnew) if request else (tnew - told)):
            self.breaking(f"{side} {where}: type {sorted(told)} -> {sorted(tnew)}")
        if "enum" in old:
            gone = [v for v in old["enum"] if v not in new.get("enum", old["enum"])]
            if gone:
                self.breaking(f"{side} {where}: values removed: {gone}")
        if request:
            self.narrowed(old, new, where)
        oprops, nprops = old.get("properties", {}), new.get("properties", {})
        closed = new.get("additionalProperties") is False
        for name, prop in oprops.items():
            if name in nprops:
                self.schema(prop, nprops[name], f"{where}.{name}", request, depth + 1)
            elif not request:
                self.breaking(f"response {where}.{name}: removed (or renamed)")
            elif closed:
                self.breaking(
                    f"request {where}.{name}: removed (or renamed); clients that send it are "
                    "now rejected (additionalProperties: false)"
                )
        oreq, nreq = set(old.get("required", ())), set(new.get("required", ()))
        for name in sorted(nreq - oreq if request else oreq - nreq):
            what = "now required" if request else "no longer required (may be absent)"
            self.breaking(f"{side} {where}.{name}: {what}")
        if request and old.get("additionalProperties") is not False and closed:
            self.breaking(f"request {where}: unknown properties now rejected")
        self.schema(old.get("items"), new.get("items"), f"{where}[]", request, depth + 1)
        ap_old, ap_new = old.get("additionalProperties"), new.get("additionalProperties")
        self.schema(ap_old, ap_new, f"{where}{{*}}", request, depth + 1)
        for key in ("anyOf", "oneOf", "allOf"):
            obranches, nbranches = old.get(key, []), new.get(key, [])
            if request and key != "allOf" and len(nbranches) < len(obranches):
                self.breaking(
                    f"request {where}: {key} lost {len(obranches) - len(nbranches)} branches"
                )
            for i, (a, b) in enumerate(zip(obranches, nbranches, strict=False)):
                self.schema(a, b, f"{where}<{key}{i}>", request, depth + 1)

    def narrowed(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        for key in LOWER_IS_WIDER + HIGHER_IS_WIDER:
            if key not in new or old.get(key) == new[key]:
                continue
            before = old.get(key)
            wider = key in LOWER_IS_WIDER
            if before is None or (new[key] > before if wider else new[key] < before):
                self.breaking(f"request {where}: {key} {before} -> {new[key]}")
        for key in ("pattern", "format", "const"):
            if key in new and old.get(key) != new[key]:
                self.breaking(f"request {where}: {key} {old.get(key)!r} -> {new[key]!r}")

    def operations(self) -> None:
        for path, oitem in self.old.get("paths", {}).items():
            nitem = self.new.get("paths", {}).get(path, {})
            for method in (m for m in METHODS if m in oitem):
                where = f"{method.upper()} {path}"
                if method not in nitem:
                    self.breaking(f"{where}: operation removed")
                    continue
                self.operation(oitem[method], nitem[method], where)

    def operation(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        if old.get("security", self.old.get("security")) == [] and new.get(
            "security", self.new.get("security")
        ) not in ([], None):
            self.breaking(f"{where}: now requires authentication")
        obody = self.resolve(self.old, old.get("requestBody", {})).get("content", {})
        nbody = self.resolve(self.new, new.get("requestBody", {})).get("content", {})
        for media, content in obody.items():
            if media not in nbody:
                self.breaking(f"{where}: request media type {media} no longer accepted")
            else:
                self.schema(content.get("schema"), nbody[media].get("schema"), where, True)
        for status, oresp in old.get("responses", {}).items():
            nresp = new.get("responses", {}).get(status)
            if nresp is None:
                self.breaking(f"{where}: response {status} removed")
                continue
            ocontent = self.resolve(self.old, oresp).get("content", {})
            ncontent = self.resolve(self.new, nresp).get("content", {})
            for media, content in ocontent.items():
                if media in ncontent:
                    label = f"{where} {status}"
                    self.schema(content.get("schema"), ncontent[media].get("schema"), label, False)
                else:
                    self.breaking(f"{where}: response {status} no longer {media}")


# --- Optic -----------------------------------------------------------------------------------


def _optic_bin() -> Path:
    """Optic, installed once per lock file into a cache outside the repository."""
    lock = (OPTIC_DIR / "package-lock.json").read_bytes()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    home = base / "mosaicstack-telemetry" / f"optic-{hashlib.sha256(lock).hexdigest()[:12]}"
    binary = home / "node_modules" / ".bin" / "optic"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None:
        sys.exit(
            "scripts/compat needs Node.js 20+ (npm) to run Optic, the OpenAPI diff tool: "
            "install Node.js, or pass --no-optic to run only this script's own rules"
        )
    home.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(OPTIC_DIR / name, home / name)
    print(f"==> installing Optic into {home} (once)", file=sys.stderr)
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=home,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not binary.exists():
        sys.exit(f"could not install Optic from the npm registry:\n{done.stdout}{done.stderr}")
    return binary


def optic(released: Path, contract: Path) -> tuple[bool, str]:
    """(passed, its report): Optic's breaking-change checks of `contract` against `released`."""
    env = {**os.environ, "OPTIC_TELEMETRY_LEVEL": "off", "NO_COLOR": "1"}  # no analytics
    done = subprocess.run(
        [str(_optic_bin()), "diff", str(released), str(contract), "--check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    report = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
    return done.returncode == 0, report


# --- the gate --------------------------------------------------------------------------------


def version(doc: dict[str, Any]) -> tuple[int, int, int]:
    text = str(doc.get("info", {}).get("version", ""))
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", text)
    if match is None:
        sys.exit(f"info.version {text!r} is not MAJOR.MINOR.PATCH")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def gate(released: Path, contract: Path, use_optic: bool = True) -> int:
    old = yaml.load(released.read_text(encoding="utf-8"), Loader=LOADER)  # noqa: S506  # safe
    new = yaml.load(contract.read_text(encoding="utf-8"), Loader=LOADER)  # noqa: S506  # safe
    before, after = version(old), version(new)
    shown = ".".join(map(str, after))
    if old == new:
        print(f"The contract is the released {shown}: nothing to check.")
        return 0
    body_old = {**old, "info": {**old["info"], "version": None}}
    body_new = {**new, "info": {**new["info"], "version": None}}
    lines = changelog(body_old, body_new)
    judge = Judge(old, new)
    judge.operations()
    print(f"Changes since the released {'.'.join(map(str, before))} (now {shown}):")
    for line in lines:
        print(f"  [{line.kind}] {line.text}")
    for finding in judge.found:
        print(f"  [breaking] {finding.text}")
    broken = bool(judge.found)
    if use_optic:
        passed, report = optic(released, contract)
        if passed:  # its summary; its changelog repeats the one above
            summary = [line for line in report.splitlines() if "Checks:" in line]
            print("Optic: " + (summary[0].strip(" ✔") if summary else "passed"))
        else:
            print("Optic found breaking changes:")
            print("\n".join(f"  {line}" for line in report.strip().splitlines()))
        broken = broken or not passed
    failures = []
    if not lines and before != after:
        pass  # only the version moved
    elif after <= before:
        failures.append(f"info.version must move: the contract changed, it is still {shown}")
    if broken and after[0] <= before[0]:
        failures.append(
            f"breaking changes need a new major version: {shown} after "
            f"{'.'.join(map(str, before))} (or keep the change compatible)"
        )
    elif any(line.kind == "addition" for line in lines) and after[:2] <= before[:2]:
        failures.append(f"additions need at least a new minor version (not {shown})")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    if failures:
        return 1
    print(f"Compatibility gate passed: {shown} after {'.'.join(map(str, before))}.")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--released", type=Path, default=RELEASED)
    parser.add_argument("--contract", type=Path, default=CONTRACT)
    parser.add_argument("--no-optic", action="store_true", help="only this script's own rules")
    args = parser.parse_args()
    return gate(args.released, args.contract, use_optic=not args.no_optic)


if __name__ == "__main__":
    sys.exit(main())
