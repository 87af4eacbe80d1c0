"""The contract's enums, hand-written so they are the SDK's public types.

The generated pydantic models import these (see `type-overrides` in pyproject.toml) instead of
generating their own; a test proves their members equal the contract's. The seven enums of the
event are closed: the SDK sends only what the contract lists. The enums of the answers
(`x-open-enum` in the contract) are open: a newer server may send a value this SDK does not
know, which is kept as it is instead of failing the whole answer. `MedianStats` is here for the
same reason (the one other shape the generated models import): it is not an enum.
"""

from __future__ import annotations

from enum import Enum

# The CLI reads the enums on every run, where importing typing is a few percent of it: type
# checkers see the names below (they take any name TYPE_CHECKING as true), the run does not.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Annotated, Any


class _StrEnum(str, Enum):
    """A `str` enum whose `str()` and f-string are its value on every Python version.

    Python 3.11 changed `format()` of mixed-in enums; the server and users' f-strings must see
    `"testing"`, never `"TaskType.TESTING"`.
    """

    def __str__(self) -> str:
        return self.value  # type: ignore[no-any-return]

    def __format__(self, format_spec: str) -> str:
        return format(self.value, format_spec)


class TaskType(_StrEnum):
    """Type of work performed."""

    PLANNING = "planning"  # Architecture design, task breakdown
    IMPLEMENTATION = "implementation"  # Writing new code
    CODE_REVIEW = "code_review"  # Reviewing existing code
    TESTING = "testing"  # Writing or running tests
    DEBUGGING = "debugging"  # Investigating and fixing bugs
    REFACTORING = "refactoring"  # Restructuring existing code
    DOCUMENTATION = "documentation"  # Writing docs, comments, READMEs
    CONFIGURATION = "configuration"  # Config files, CI/CD, infrastructure
    SECURITY_AUDIT = "security_audit"  # Security review, vulnerability analysis
    UNKNOWN = "unknown"  # Unclassified task type (fallback)


class Complexity(_StrEnum):
    """Task complexity level."""

    LOW = "low"  # Simple fixes, typos, config changes
    MEDIUM = "medium"  # Standard features, moderate logic
    HIGH = "high"  # Complex features, multi-file changes
    CRITICAL = "critical"  # Major refactoring, architectural changes


class Harness(_StrEnum):
    """Coding tool or execution environment."""

    CLAUDE_CODE = "claude_code"  # Anthropic Claude Code CLI
    OPENCODE = "opencode"  # OpenCode CLI
    KILO_CODE = "kilo_code"  # Kilo Code VS Code extension
    AIDER = "aider"  # Aider AI pair programming
    API_DIRECT = "api_direct"  # Direct API calls (no harness)
    OLLAMA_LOCAL = "ollama_local"  # Ollama local inference
    CUSTOM = "custom"  # Custom or unrecognized harness
    UNKNOWN = "unknown"  # Harness not reported


class Provider(_StrEnum):
    """LLM provider."""

    ANTHROPIC = "anthropic"  # Anthropic (Claude models)
    OPENAI = "openai"  # OpenAI (GPT models)
    OPENROUTER = "openrouter"  # OpenRouter (multi-provider routing)
    OLLAMA = "ollama"  # Ollama (local/self-hosted)
    GOOGLE = "google"  # Google (Gemini models)
    MISTRAL = "mistral"  # Mistral AI
    CUSTOM = "custom"  # Custom or unrecognized provider
    UNKNOWN = "unknown"  # Provider not reported


class Outcome(_StrEnum):
    """Final task result."""

    SUCCESS = "success"  # Task completed, all quality gates passed
    FAILURE = "failure"  # Task failed after all retries
    PARTIAL = "partial"  # Task partially completed
    TIMEOUT = "timeout"  # Task exceeded time or token budget


class QualityGate(_StrEnum):
    """A quality gate run on the task's result."""

    BUILD = "build"  # Code compiles/builds
    LINT = "lint"  # Linter passes
    TEST = "test"  # Tests pass
    COVERAGE = "coverage"  # Coverage meets threshold
    TYPECHECK = "typecheck"  # Type checker passes
    SECURITY = "security"  # Security scan passes


class RepoSizeCategory(_StrEnum):
    """Repository size bucket, by approximate lines of code."""

    TINY = "tiny"  # < 1,000: scripts, single-file projects
    SMALL = "small"  # 1,000-10,000: small libraries, tools
    MEDIUM = "medium"  # 10,000-100,000: standard applications
    LARGE = "large"  # 100,000-1,000,000: large applications, monorepos
    HUGE = "huge"  # > 1,000,000: enterprise codebases


class _OpenStrEnum(_StrEnum):
    """A `_StrEnum` that keeps a value it does not know as an extra, nameless member.

    `Confidence("very_high")` is a `Confidence` whose value (and `str()`) is `"very_high"` and
    whose `known` is False; pydantic calls `_missing_` too, so a model keeps it instead of
    failing. Such members are not listed by iteration and are not singletons (compare with ==).
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = None  # type: ignore[assignment]  # no member has this value
        member._value_ = value
        return member

    @property
    def known(self) -> bool:
        """Whether this SDK knows the value (False: a newer server sent it)."""
        return self._name_ is not None


class EventStatus(_OpenStrEnum):
    """What the server did with one event of a batch (open: unknown values are delivered)."""

    ACCEPTED = "accepted"  # Stored
    REJECTED = "rejected"  # Not stored; code and error say why
    DUPLICATE = "duplicate"  # Already stored for this instance; the first copy was kept


class RejectionCode(_OpenStrEnum):
    """Why the server rejected an event, for machines (open)."""

    INVALID_EVENT = "invalid_event"  # The event breaks TaskCompletionEvent
    INSTANCE_MISMATCH = "instance_mismatch"  # instance_id is not the key's instance


class Confidence(_OpenStrEnum):
    """How far a prediction can be trusted (open: unknown values rank as `LOW`)."""

    HIGH = "high"  # 100+ samples, exact dimension match
    MEDIUM = "medium"  # 30-99 samples, exact dimension match
    LOW = "low"  # Fewer than 30 samples, or a fallback was used
    NONE = "none"  # No data; prediction is None

    @property
    def effective(self) -> Confidence:
        """The level to act on: itself when known, else `LOW`, the lowest confidence a
        prediction can have (a value this SDK cannot interpret never earns more trust)."""
        return self if self.known else Confidence.LOW


def _require_median(value: dict[str, int]) -> dict[str, int]:
    if "median" not in value:
        raise ValueError("median is required")
    return value


class _RequireMedian:
    """pydantic metadata: the map must hold `median`. (Not `AfterValidator`, so importing the
    enums does not import pydantic: the CLI and the pytest plugin use them without it.)"""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(_require_median, handler(source))


if TYPE_CHECKING:
    #: `cost_usd_micros` / `duration_ms`: a dict of integer statistics whose `median` is always
    #: there (`data.cost_usd_micros["median"]`), whatever other statistics a server adds.
    MedianStats = Annotated[dict[str, int], _RequireMedian()]


def __getattr__(name: str) -> object:
    # `MedianStats` is made when the generated models import it: it needs typing.Annotated.
    if name == "MedianStats":
        from typing import Annotated

        value = globals()[name] = Annotated[dict[str, int], _RequireMedian()]
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
