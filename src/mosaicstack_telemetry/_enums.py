"""The seven enums of the event schema, hand-written so they are the SDK's public types.

The generated pydantic models import these (see `type-overrides` in pyproject.toml) instead of
generating their own; a test proves their values equal the contract's.
"""

from __future__ import annotations

from enum import Enum


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
