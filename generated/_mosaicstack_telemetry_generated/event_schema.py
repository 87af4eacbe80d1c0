# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
"""The contract's `TaskCompletionEvent` as JSON Schema, and `validate(data)` raising
`JsonSchemaValueException` where `data` breaks it (fastjsonschema's generated code)."""
# ruff: noqa

#: components.schemas.TaskCompletionEvent of the contract, every reference inlined.
SCHEMA = {
    "type": "object",
    "description": "One completed AI coding task (event schema version 1.0). An optional field left out takes\nits `default`; clients leave out optional fields at their default, except those marked\n`x-always-send`.\n",
    "additionalProperties": False,
    "required": [
        "instance_id",
        "task_duration_ms",
        "task_type",
        "complexity",
        "harness",
        "model",
        "provider",
        "estimated_input_tokens",
        "estimated_output_tokens",
        "actual_input_tokens",
        "actual_output_tokens",
        "estimated_cost_usd_micros",
        "actual_cost_usd_micros",
        "quality_gate_passed",
        "context_compactions",
        "context_rotations",
        "context_utilization_final",
        "outcome",
        "retry_count",
    ],
    "properties": {
        "instance_id": {
            "type": "string",
            "format": "uuid",
            "description": "Mosaic Stack installation identifier; must be the instance bound to the API key.",
        },
        "event_id": {
            "type": "string",
            "format": "uuid",
            "description": "Unique event identifier (UUIDv4); the server assigns one when it is absent. Used to de-duplicate re-sent events.",
        },
        "schema_version": {
            "type": "string",
            "default": "1.0",
            "description": "Event schema version. Always sent, so a server whose default moves on still reads the event as the version it was written in.",
            "x-always-send": True,
        },
        "timestamp": {
            "type": "string",
            "format": "date-time",
            "description": "When the task completed (RFC 3339 with a UTC offset); the server uses the time of receipt when it is absent.",
        },
        "task_duration_ms": {
            "type": "integer",
            "minimum": 0,
            "maximum": 86400000,
            "description": "Task wall-clock time in milliseconds.",
        },
        "task_type": {
            "type": "string",
            "description": "Type of work performed.",
            "enum": [
                "planning",
                "implementation",
                "code_review",
                "testing",
                "debugging",
                "refactoring",
                "documentation",
                "configuration",
                "security_audit",
                "unknown",
            ],
            "x-enum-varnames": [
                "PLANNING",
                "IMPLEMENTATION",
                "CODE_REVIEW",
                "TESTING",
                "DEBUGGING",
                "REFACTORING",
                "DOCUMENTATION",
                "CONFIGURATION",
                "SECURITY_AUDIT",
                "UNKNOWN",
            ],
            "x-enum-descriptions": [
                "Architecture design, task breakdown",
                "Writing new code",
                "Reviewing existing code",
                "Writing or running tests",
                "Investigating and fixing bugs",
                "Restructuring existing code",
                "Writing docs, comments, READMEs",
                "Config files, CI/CD, infrastructure",
                "Security review, vulnerability analysis",
                "Unclassified task type (fallback)",
            ],
        },
        "complexity": {
            "type": "string",
            "description": "Task complexity level.",
            "enum": ["low", "medium", "high", "critical"],
            "x-enum-varnames": ["LOW", "MEDIUM", "HIGH", "CRITICAL"],
            "x-enum-descriptions": [
                "Simple fixes, typos, config changes",
                "Standard features, moderate logic",
                "Complex features, multi-file changes",
                "Major refactoring, architectural changes",
            ],
        },
        "harness": {
            "type": "string",
            "description": "Coding tool or execution environment.",
            "enum": [
                "claude_code",
                "opencode",
                "kilo_code",
                "aider",
                "api_direct",
                "ollama_local",
                "custom",
                "unknown",
            ],
            "x-enum-varnames": [
                "CLAUDE_CODE",
                "OPENCODE",
                "KILO_CODE",
                "AIDER",
                "API_DIRECT",
                "OLLAMA_LOCAL",
                "CUSTOM",
                "UNKNOWN",
            ],
            "x-enum-descriptions": [
                "Anthropic Claude Code CLI",
                "OpenCode CLI",
                "Kilo Code VS Code extension",
                "Aider AI pair programming",
                "Direct API calls (no harness)",
                "Ollama local inference",
                "Custom or unrecognized harness",
                "Harness not reported",
            ],
        },
        "model": {
            "type": "string",
            "minLength": 1,
            "maxLength": 100,
            "description": "Model identifier.",
        },
        "provider": {
            "type": "string",
            "description": "LLM provider.",
            "enum": [
                "anthropic",
                "openai",
                "openrouter",
                "ollama",
                "google",
                "mistral",
                "custom",
                "unknown",
            ],
            "x-enum-varnames": [
                "ANTHROPIC",
                "OPENAI",
                "OPENROUTER",
                "OLLAMA",
                "GOOGLE",
                "MISTRAL",
                "CUSTOM",
                "UNKNOWN",
            ],
            "x-enum-descriptions": [
                "Anthropic (Claude models)",
                "OpenAI (GPT models)",
                "OpenRouter (multi-provider routing)",
                "Ollama (local/self-hosted)",
                "Google (Gemini models)",
                "Mistral AI",
                "Custom or unrecognized provider",
                "Provider not reported",
            ],
        },
        "estimated_input_tokens": {
            "type": "integer",
            "minimum": 0,
            "maximum": 10000000,
            "description": "Pre-task input token estimate.",
        },
        "estimated_output_tokens": {
            "type": "integer",
            "minimum": 0,
            "maximum": 10000000,
            "description": "Pre-task output token estimate.",
        },
        "actual_input_tokens": {
            "type": "integer",
            "minimum": 0,
            "maximum": 10000000,
            "description": "Actual input tokens consumed.",
        },
        "actual_output_tokens": {
            "type": "integer",
            "minimum": 0,
            "maximum": 10000000,
            "description": "Actual output tokens generated.",
        },
        "estimated_cost_usd_micros": {
            "type": "integer",
            "minimum": 0,
            "maximum": 100000000,
            "description": "Estimated cost in microdollars (1 USD = 1,000,000).",
        },
        "actual_cost_usd_micros": {
            "type": "integer",
            "minimum": 0,
            "maximum": 100000000,
            "description": "Actual cost in microdollars (1 USD = 1,000,000).",
        },
        "quality_gate_passed": {
            "type": "boolean",
            "description": "Whether all quality gates passed.",
        },
        "quality_gates_run": {
            "type": "array",
            "items": {
                "type": "string",
                "description": "A quality gate run on the task's result.",
                "enum": ["build", "lint", "test", "coverage", "typecheck", "security"],
                "x-enum-varnames": [
                    "BUILD",
                    "LINT",
                    "TEST",
                    "COVERAGE",
                    "TYPECHECK",
                    "SECURITY",
                ],
                "x-enum-descriptions": [
                    "Code compiles/builds",
                    "Linter passes",
                    "Tests pass",
                    "Coverage meets threshold",
                    "Type checker passes",
                    "Security scan passes",
                ],
            },
            "default": [],
            "description": "Gates executed.",
        },
        "quality_gates_failed": {
            "type": "array",
            "items": {
                "type": "string",
                "description": "A quality gate run on the task's result.",
                "enum": ["build", "lint", "test", "coverage", "typecheck", "security"],
                "x-enum-varnames": [
                    "BUILD",
                    "LINT",
                    "TEST",
                    "COVERAGE",
                    "TYPECHECK",
                    "SECURITY",
                ],
                "x-enum-descriptions": [
                    "Code compiles/builds",
                    "Linter passes",
                    "Tests pass",
                    "Coverage meets threshold",
                    "Type checker passes",
                    "Security scan passes",
                ],
            },
            "default": [],
            "description": "Gates that failed.",
        },
        "context_compactions": {
            "type": "integer",
            "minimum": 0,
            "maximum": 100,
            "description": "Context compaction events during the task.",
        },
        "context_rotations": {
            "type": "integer",
            "minimum": 0,
            "maximum": 50,
            "description": "Agent session rotations during the task.",
        },
        "context_utilization_final": {
            "type": "number",
            "minimum": 0.0,
            "maximum": 1.0,
            "description": "Final context usage ratio.",
        },
        "outcome": {
            "type": "string",
            "description": "Final task result.",
            "enum": ["success", "failure", "partial", "timeout"],
            "x-enum-varnames": ["SUCCESS", "FAILURE", "PARTIAL", "TIMEOUT"],
            "x-enum-descriptions": [
                "Task completed, all quality gates passed",
                "Task failed after all retries",
                "Task partially completed",
                "Task exceeded time or token budget",
            ],
        },
        "retry_count": {
            "type": "integer",
            "minimum": 0,
            "maximum": 20,
            "description": "Retries before the final outcome.",
        },
        "language": {
            "type": ["string", "null"],
            "maxLength": 30,
            "default": None,
            "description": "Primary programming language.",
        },
        "repo_size_category": {
            "anyOf": [
                {
                    "type": "string",
                    "description": "Repository size bucket, by approximate lines of code.",
                    "enum": ["tiny", "small", "medium", "large", "huge"],
                    "x-enum-varnames": ["TINY", "SMALL", "MEDIUM", "LARGE", "HUGE"],
                    "x-enum-descriptions": [
                        "< 1,000 LOC: scripts, single-file projects",
                        "1,000-10,000 LOC: small libraries, tools",
                        "10,000-100,000 LOC: standard applications",
                        "100,000-1,000,000 LOC: large applications, monorepos",
                        "> 1,000,000 LOC: enterprise codebases",
                    ],
                },
                {"type": "null"},
            ],
            "default": None,
            "description": "Repository size bucket.",
        },
    },
}

VERSION = "2.22.3"


class Decimal:
    """Stands in for decimal.Decimal in the number checks: no value is one (see
    scripts/_generate.py); `_eventjson` leaves a Decimal to the model to judge."""


import re


class JsonSchemaValueException(ValueError):
    """Where the data breaks the schema (the same fields as fastjsonschema's exception)."""

    def __init__(self, message, value=None, name=None, definition=None, rule=None):
        super().__init__(message)
        self.message, self.value, self.name = message, value, name
        self.definition, self.rule = definition, rule


class JsonSchemaValuesException(JsonSchemaValueException):
    """Several failures at once (not raised by this schema's validator)."""


REGEX_PATTERNS = {
    "uuid_re_pattern": re.compile(
        "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\\Z"
    ),
    "date-time_re_pattern": re.compile(
        "^(?:\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|02-(?:0[1-9]|1\\d|2[0-8]))|(?:\\d\\d(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)(t|T)(?:[01]\\d|2[0-3]):[0-5]\\d:(?:[0-5]\\d|60)(?:\\.\\d+)?(?:[+-](?:[01]\\d|2[0-3]):[0-5]\\d|[+-](?:[01]\\d|2[0-3])[0-5]\\d|z|Z)\\Z"
    ),
}

NoneType = type(None)


def validate(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = (
            set(
                [
                    "instance_id",
                    "task_duration_ms",
                    "task_type",
                    "complexity",
                    "harness",
                    "model",
                    "provider",
                    "estimated_input_tokens",
                    "estimated_output_tokens",
                    "actual_input_tokens",
                    "actual_output_tokens",
                    "estimated_cost_usd_micros",
                    "actual_cost_usd_micros",
                    "quality_gate_passed",
                    "context_compactions",
                    "context_rotations",
                    "context_utilization_final",
                    "outcome",
                    "retry_count",
                ]
            )
            - data.keys()
        )
        if data__missing_keys:
            raise JsonSchemaValueException(
                "" + (name_prefix or "data") + " must contain "
            )
        data_keys = set(data.keys())
        if "instance_id" in data_keys:
            data_keys.remove("instance_id")
            data__instanceid = data["instance_id"]
            if not isinstance(data__instanceid, (str)):
                raise JsonSchemaValueException(
                    "" + (name_prefix or "data") + ".instance_id must be string"
                )
            if isinstance(data__instanceid, str):
                if not REGEX_PATTERNS["uuid_re_pattern"].match(data__instanceid):
                    raise JsonSchemaValueException(
                        "" + (name_prefix or "data") + ".instance_id must be uuid"
                    )
        if "event_id" in data_keys:
            data_keys.remove("event_id")
            data__eventid = data["event_id"]
            if not isinstance(data__eventid, (str)):
                raise JsonSchemaValueException(
                    "" + (name_prefix or "data") + ".event_id must be string"
                )
            if isinstance(data__eventid, str):
                if not REGEX_PATTERNS["uuid_re_pattern"].match(data__eventid):
                    raise JsonSchemaValueException(
                        "" + (name_prefix or "data") + ".event_id must be uuid"
                    )
        if "schema_version" in data_keys:
            data_keys.remove("schema_version")
            data__schemaversion = data["schema_version"]
            if not isinstance(data__schemaversion, (str)):
                raise JsonSchemaValueException(
                    "" + (name_prefix or "data") + ".schema_version must be string"
                )
        if "timestamp" in data_keys:
            data_keys.remove("timestamp")
            data__timestamp = data["timestamp"]
            if not isinstance(data__timestamp, (str)):
                raise JsonSchemaValueException(
                    "" + (name_prefix or "data") + ".timestamp must be string"
                )
            if isinstance(data__timestamp, str):
                if not REGEX_PATTERNS["date-time_re_pattern"].match(data__timestamp):
                    raise JsonSchemaValueException(
                        "" + (name_prefix or "data") + ".timestamp must be date-time"
                    )
        if "task_duration_ms" in data_keys:
            data_keys.remove("task_duration_ms")
            data__taskdurationms = data["task_duration_ms"]
            if (
                not isinstance(data__taskdurationms, (int))
                and not (
                    isinstance(data__taskdurationms, float)
                    and data__taskdurationms.is_integer()
                )
                or isinstance(data__taskdurationms, bool)
            ):
                raise JsonSchemaValueException(
                    "" + (name_prefix or "data") + ".task_duration_ms must be integer"
                )
            if isinstance(
                data__taskdurationms, (int, float, Decimal)
            ) and not isinstance(data__taskdurationms, bool):
                if data__taskdurationms < 0:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".task_duration_ms must be bigger than or equal to 0"
                    )
                if data__taskdurationms > 86400000:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".task_duration_ms must be smaller than or equal to 86400000"
                    )
        if "task_type" in data_keys:
            data_keys.remove("task_type")
            data__tasktype = data["task_type"]
            if not isinstance(data__tasktype, (str)):
                raise JsonSchemaValueException(
                    "" + (name_prefix or "data") + ".task_type must be string"
                )
            if not (
                isinstance(data__tasktype, str)
                and data__tasktype == "planning"
                or isinstance(data__tasktype, str)
                and data__tasktype == "implementation"
                or isinstance(data__tasktype, str)
                and data__tasktype == "code_review"
                or isinstance(data__tasktype, str)
                and data__tasktype == "testing"
                or isinstance(data__tasktype, str)
                and data__tasktype == "debugging"
                or isinstance(data__tasktype, str)
                and data__tasktype == "refactoring"
                or isinstance(data__tasktype, str)
                and data__tasktype == "documentation"
                or isinstance(data__tasktype, str)
                and data__tasktype == "configuration"
                or isinstance(data__tasktype, str)
                and data__tasktype == "security_audit"
                or isinstance(data__tasktype, str)
                and data__tasktype == "unknown"
            ):
                raise JsonSchemaValueException(
                    ""
                    + (name_prefix or "data")
                    + ".task_type must be one of ['planning', 'implementation', 'code_review', 'testing', 'debugging', 'refactoring', 'documentation', 'configuration', 'security_audit', 'unknown']"
                )
        if "complexity" in data_keys:
            data_keys.remove("complexity")
            data__complexity = data["complexity"]
            if not isinstance(data__complexity, (str)):
                raise JsonSchemaValueException(
                    "" + (name_prefix or "data") + ".complexity must be string"
                )
            if not (
                isinstance(data__complexity, str)
                and data__complexity == "low"
                or isinstance(data__complexity, str)
                and data__complexity == "medium"
                or isinstance(data__complexity, str)
                and data__complexity == "high"
                or isinstance(data__complexity, str)
                and data__complexity == "critical"
            ):
                raise JsonSchemaValueException(
                    ""
                    + (name_prefix or "data")
                    + ".complexity must be one of ['low', 'medium', 'high', 'critical']"
                )
        if "harness" in data_keys:
            data_keys.remove("harness")
            data__harness = data["harness"]
            if not isinstance(data__harness, (str)):
                raise JsonSchemaValueException(
                    "" + (name_prefix or "data") + ".harness must be string"
                )
            if not (
                isinstance(data__harness, str)
                and data__harness == "claude_code"
                or isinstance(data__harness, str)
                and data__harness == "opencode"
                or isinstance(data__harness, str)
                and data__harness == "kilo_code"
                or isinstance(data__harness, str)
                and data__harness == "aider"
                or isinstance(data__harness, str)
                and data__harness == "api_direct"
                or isinstance(data__harness, str)
                and data__harness == "ollama_local"
                or isinstance(data__harness, str)
                and data__harness == "custom"
                or isinstance(data__harness, str)
                and data__harness == "unknown"
            ):
                raise JsonSchemaValueException(
                    ""
                    + (name_prefix or "data")
                    + ".harness must be one of ['claude_code', 'opencode', 'kilo_code', 'aider', 'api_direct', 'ollama_local', 'custom', 'unknown']"
                )
        if "model" in data_keys:
            data_keys.remove("model")
            data__model = data["model"]
            if not isinstance(data__model, (str)):
                raise JsonSchemaValueException(
                    "" + (name_prefix or "data") + ".model must be string"
                )
            if isinstance(data__model, str):
                data__model_len = len(data__model)
                if data__model_len < 1:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".model must be longer than or equal to 1 characters"
                    )
                if data__model_len > 100:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".model must be shorter than or equal to 100 characters"
                    )
        if "provider" in data_keys:
            data_keys.remove("provider")
            data__provider = data["provider"]
            if not isinstance(data__provider, (str)):
                raise JsonSchemaValueException(
                    "" + (name_prefix or "data") + ".provider must be string"
                )
            if not (
                isinstance(data__provider, str)
                and data__provider == "anthropic"
                or isinstance(data__provider, str)
                and data__provider == "openai"
                or isinstance(data__provider, str)
                and data__provider == "openrouter"
                or isinstance(data__provider, str)
                and data__provider == "ollama"
                or isinstance(data__provider, str)
                and data__provider == "google"
                or isinstance(data__provider, str)
                and data__provider == "mistral"
                or isinstance(data__provider, str)
                and data__provider == "custom"
                or isinstance(data__provider, str)
                and data__provider == "unknown"
            ):
                raise JsonSchemaValueException(
                    ""
                    + (name_prefix or "data")
                    + ".provider must be one of ['anthropic', 'openai', 'openrouter', 'ollama', 'google', 'mistral', 'custom', 'unknown']"
                )
        if "estimated_input_tokens" in data_keys:
            data_keys.remove("estimated_input_tokens")
            data__estimatedinputtokens = data["estimated_input_tokens"]
            if (
                not isinstance(data__estimatedinputtokens, (int))
                and not (
                    isinstance(data__estimatedinputtokens, float)
                    and data__estimatedinputtokens.is_integer()
                )
                or isinstance(data__estimatedinputtokens, bool)
            ):
                raise JsonSchemaValueException(
                    ""
                    + (name_prefix or "data")
                    + ".estimated_input_tokens must be integer"
                )
            if isinstance(
                data__estimatedinputtokens, (int, float, Decimal)
            ) and not isinstance(data__estimatedinputtokens, bool):
                if data__estimatedinputtokens < 0:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".estimated_input_tokens must be bigger than or equal to 0"
                    )
                if data__estimatedinputtokens > 10000000:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".estimated_input_tokens must be smaller than or equal to 10000000"
                    )
        if "estimated_output_tokens" in data_keys:
            data_keys.remove("estimated_output_tokens")
            data__estimatedoutputtokens = data["estimated_output_tokens"]
            if (
                not isinstance(data__estimatedoutputtokens, (int))
                and not (
                    isinstance(data__estimatedoutputtokens, float)
                    and data__estimatedoutputtokens.is_integer()
                )
                or isinstance(data__estimatedoutputtokens, bool)
            ):
                raise JsonSchemaValueException(
                    ""
                    + (name_prefix or "data")
                    + ".estimated_output_tokens must be integer"
                )
            if isinstance(
                data__estimatedoutputtokens, (int, float, Decimal)
            ) and not isinstance(data__estimatedoutputtokens, bool):
                if data__estimatedoutputtokens < 0:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".estimated_output_tokens must be bigger than or equal to 0"
                    )
                if data__estimatedoutputtokens > 10000000:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".estimated_output_tokens must be smaller than or equal to 10000000"
                    )
        if "actual_input_tokens" in data_keys:
            data_keys.remove("actual_input_tokens")
            data__actualinputtokens = data["actual_input_tokens"]
            if (
                not isinstance(data__actualinputtokens, (int))
                and not (
                    isinstance(data__actualinputtokens, float)
                    and data__actualinputtokens.is_integer()
                )
                or isinstance(data__actualinputtokens, bool)
            ):
                raise JsonSchemaValueException(
                    ""
                    + (name_prefix or "data")
                    + ".actual_input_tokens must be integer"
                )
            if isinstance(
                data__actualinputtokens, (int, float, Decimal)
            ) and not isinstance(data__actualinputtokens, bool):
                if data__actualinputtokens < 0:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".actual_input_tokens must be bigger than or equal to 0"
                    )
                if data__actualinputtokens > 10000000:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".actual_input_tokens must be smaller than or equal to 10000000"
                    )
        if "actual_output_tokens" in data_keys:
            data_keys.remove("actual_output_tokens")
            data__actualoutputtokens = data["actual_output_tokens"]
            if (
                not isinstance(data__actualoutputtokens, (int))
                and not (
                    isinstance(data__actualoutputtokens, float)
                    and data__actualoutputtokens.is_integer()
                )
                or isinstance(data__actualoutputtokens, bool)
            ):
                raise JsonSchemaValueException(
                    ""
                    + (name_prefix or "data")
                    + ".actual_output_tokens must be integer"
                )
            if isinstance(
                data__actualoutputtokens, (int, float, Decimal)
            ) and not isinstance(data__actualoutputtokens, bool):
                if data__actualoutputtokens < 0:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".actual_output_tokens must be bigger than or equal to 0"
                    )
                if data__actualoutputtokens > 10000000:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".actual_output_tokens must be smaller than or equal to 10000000"
                    )
        if "estimated_cost_usd_micros" in data_keys:
            data_keys.remove("estimated_cost_usd_micros")
            data__estimatedcostusdmicros = data["estimated_cost_usd_micros"]
            if (
                not isinstance(data__estimatedcostusdmicros, (int))
                and not (
                    isinstance(data__estimatedcostusdmicros, float)
                    and data__estimatedcostusdmicros.is_integer()
                )
                or isinstance(data__estimatedcostusdmicros, bool)
            ):
                raise JsonSchemaValueException(
                    ""
                    + (name_prefix or "data")
                    + ".estimated_cost_usd_micros must be integer"
                )
            if isinstance(
                data__estimatedcostusdmicros, (int, float, Decimal)
            ) and not isinstance(data__estimatedcostusdmicros, bool):
                if data__estimatedcostusdmicros < 0:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".estimated_cost_usd_micros must be bigger than or equal to 0"
                    )
                if data__estimatedcostusdmicros > 100000000:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".estimated_cost_usd_micros must be smaller than or equal to 100000000"
                    )
        if "actual_cost_usd_micros" in data_keys:
            data_keys.remove("actual_cost_usd_micros")
            data__actualcostusdmicros = data["actual_cost_usd_micros"]
            if (
                not isinstance(data__actualcostusdmicros, (int))
                and not (
                    isinstance(data__actualcostusdmicros, float)
                    and data__actualcostusdmicros.is_integer()
                )
                or isinstance(data__actualcostusdmicros, bool)
            ):
                raise JsonSchemaValueException(
                    ""
                    + (name_prefix or "data")
                    + ".actual_cost_usd_micros must be integer"
                )
            if isinstance(
                data__actualcostusdmicros, (int, float, Decimal)
            ) and not isinstance(data__actualcostusdmicros, bool):
                if data__actualcostusdmicros < 0:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".actual_cost_usd_micros must be bigger than or equal to 0"
                    )
                if data__actualcostusdmicros > 100000000:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".actual_cost_usd_micros must be smaller than or equal to 100000000"
                    )
        if "quality_gate_passed" in data_keys:
            data_keys.remove("quality_gate_passed")
            data__qualitygatepassed = data["quality_gate_passed"]
            if not isinstance(data__qualitygatepassed, (bool)):
                raise JsonSchemaValueException(
                    ""
                    + (name_prefix or "data")
                    + ".quality_gate_passed must be boolean"
                )
        if "quality_gates_run" in data_keys:
            data_keys.remove("quality_gates_run")
            data__qualitygatesrun = data["quality_gates_run"]
            if not isinstance(data__qualitygatesrun, (list, tuple)):
                raise JsonSchemaValueException(
                    "" + (name_prefix or "data") + ".quality_gates_run must be array"
                )
            data__qualitygatesrun_is_list = isinstance(
                data__qualitygatesrun, (list, tuple)
            )
            if data__qualitygatesrun_is_list:
                data__qualitygatesrun_len = len(data__qualitygatesrun)
                for data__qualitygatesrun_x, data__qualitygatesrun_item in enumerate(
                    data__qualitygatesrun
                ):
                    if not isinstance(data__qualitygatesrun_item, (str)):
                        raise JsonSchemaValueException(
                            ""
                            + (name_prefix or "data")
                            + ".quality_gates_run[{data__qualitygatesrun_x}]".format(
                                **locals()
                            )
                            + " must be string"
                        )
                    if not (
                        isinstance(data__qualitygatesrun_item, str)
                        and data__qualitygatesrun_item == "build"
                        or isinstance(data__qualitygatesrun_item, str)
                        and data__qualitygatesrun_item == "lint"
                        or isinstance(data__qualitygatesrun_item, str)
                        and data__qualitygatesrun_item == "test"
                        or isinstance(data__qualitygatesrun_item, str)
                        and data__qualitygatesrun_item == "coverage"
                        or isinstance(data__qualitygatesrun_item, str)
                        and data__qualitygatesrun_item == "typecheck"
                        or isinstance(data__qualitygatesrun_item, str)
                        and data__qualitygatesrun_item == "security"
                    ):
                        raise JsonSchemaValueException(
                            ""
                            + (name_prefix or "data")
                            + ".quality_gates_run[{data__qualitygatesrun_x}]".format(
                                **locals()
                            )
                            + " must be one of ['build', 'lint', 'test', 'coverage', 'typecheck', 'security']"
                        )
        if "quality_gates_failed" in data_keys:
            data_keys.remove("quality_gates_failed")
            data__qualitygatesfailed = data["quality_gates_failed"]
            if not isinstance(data__qualitygatesfailed, (list, tuple)):
                raise JsonSchemaValueException(
                    "" + (name_prefix or "data") + ".quality_gates_failed must be array"
                )
            data__qualitygatesfailed_is_list = isinstance(
                data__qualitygatesfailed, (list, tuple)
            )
            if data__qualitygatesfailed_is_list:
                data__qualitygatesfailed_len = len(data__qualitygatesfailed)
                for (
                    data__qualitygatesfailed_x,
                    data__qualitygatesfailed_item,
                ) in enumerate(data__qualitygatesfailed):
                    if not isinstance(data__qualitygatesfailed_item, (str)):
                        raise JsonSchemaValueException(
                            ""
                            + (name_prefix or "data")
                            + ".quality_gates_failed[{data__qualitygatesfailed_x}]".format(
                                **locals()
                            )
                            + " must be string"
                        )
                    if not (
                        isinstance(data__qualitygatesfailed_item, str)
                        and data__qualitygatesfailed_item == "build"
                        or isinstance(data__qualitygatesfailed_item, str)
                        and data__qualitygatesfailed_item == "lint"
                        or isinstance(data__qualitygatesfailed_item, str)
                        and data__qualitygatesfailed_item == "test"
                        or isinstance(data__qualitygatesfailed_item, str)
                        and data__qualitygatesfailed_item == "coverage"
                        or isinstance(data__qualitygatesfailed_item, str)
                        and data__qualitygatesfailed_item == "typecheck"
                        or isinstance(data__qualitygatesfailed_item, str)
                        and data__qualitygatesfailed_item == "security"
                    ):
                        raise JsonSchemaValueException(
                            ""
                            + (name_prefix or "data")
                            + ".quality_gates_failed[{data__qualitygatesfailed_x}]".format(
                                **locals()
                            )
                            + " must be one of ['build', 'lint', 'test', 'coverage', 'typecheck', 'security']"
                        )
        if "context_compactions" in data_keys:
            data_keys.remove("context_compactions")
            data__contextcompactions = data["context_compactions"]
            if (
                not isinstance(data__contextcompactions, (int))
                and not (
                    isinstance(data__contextcompactions, float)
                    and data__contextcompactions.is_integer()
                )
                or isinstance(data__contextcompactions, bool)
            ):
                raise JsonSchemaValueException(
                    ""
                    + (name_prefix or "data")
                    + ".context_compactions must be integer"
                )
            if isinstance(
                data__contextcompactions, (int, float, Decimal)
            ) and not isinstance(data__contextcompactions, bool):
                if data__contextcompactions < 0:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".context_compactions must be bigger than or equal to 0"
                    )
                if data__contextcompactions > 100:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".context_compactions must be smaller than or equal to 100"
                    )
        if "context_rotations" in data_keys:
            data_keys.remove("context_rotations")
            data__contextrotations = data["context_rotations"]
            if (
                not isinstance(data__contextrotations, (int))
                and not (
                    isinstance(data__contextrotations, float)
                    and data__contextrotations.is_integer()
                )
                or isinstance(data__contextrotations, bool)
            ):
                raise JsonSchemaValueException(
                    "" + (name_prefix or "data") + ".context_rotations must be integer"
                )
            if isinstance(
                data__contextrotations, (int, float, Decimal)
            ) and not isinstance(data__contextrotations, bool):
                if data__contextrotations < 0:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".context_rotations must be bigger than or equal to 0"
                    )
                if data__contextrotations > 50:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".context_rotations must be smaller than or equal to 50"
                    )
        if "context_utilization_final" in data_keys:
            data_keys.remove("context_utilization_final")
            data__contextutilizationfinal = data["context_utilization_final"]
            if not isinstance(
                data__contextutilizationfinal, (int, float, Decimal)
            ) or isinstance(data__contextutilizationfinal, bool):
                raise JsonSchemaValueException(
                    ""
                    + (name_prefix or "data")
                    + ".context_utilization_final must be number"
                )
            if isinstance(
                data__contextutilizationfinal, (int, float, Decimal)
            ) and not isinstance(data__contextutilizationfinal, bool):
                if data__contextutilizationfinal < 0.0:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".context_utilization_final must be bigger than or equal to 0.0"
                    )
                if data__contextutilizationfinal > 1.0:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".context_utilization_final must be smaller than or equal to 1.0"
                    )
        if "outcome" in data_keys:
            data_keys.remove("outcome")
            data__outcome = data["outcome"]
            if not isinstance(data__outcome, (str)):
                raise JsonSchemaValueException(
                    "" + (name_prefix or "data") + ".outcome must be string"
                )
            if not (
                isinstance(data__outcome, str)
                and data__outcome == "success"
                or isinstance(data__outcome, str)
                and data__outcome == "failure"
                or isinstance(data__outcome, str)
                and data__outcome == "partial"
                or isinstance(data__outcome, str)
                and data__outcome == "timeout"
            ):
                raise JsonSchemaValueException(
                    ""
                    + (name_prefix or "data")
                    + ".outcome must be one of ['success', 'failure', 'partial', 'timeout']"
                )
        if "retry_count" in data_keys:
            data_keys.remove("retry_count")
            data__retrycount = data["retry_count"]
            if (
                not isinstance(data__retrycount, (int))
                and not (
                    isinstance(data__retrycount, float)
                    and data__retrycount.is_integer()
                )
                or isinstance(data__retrycount, bool)
            ):
                raise JsonSchemaValueException(
                    "" + (name_prefix or "data") + ".retry_count must be integer"
                )
            if isinstance(data__retrycount, (int, float, Decimal)) and not isinstance(
                data__retrycount, bool
            ):
                if data__retrycount < 0:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".retry_count must be bigger than or equal to 0"
                    )
                if data__retrycount > 20:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".retry_count must be smaller than or equal to 20"
                    )
        if "language" in data_keys:
            data_keys.remove("language")
            data__language = data["language"]
            if not isinstance(data__language, (str, NoneType)):
                raise JsonSchemaValueException(
                    "" + (name_prefix or "data") + ".language must be string or null"
                )
            if isinstance(data__language, str):
                data__language_len = len(data__language)
                if data__language_len > 30:
                    raise JsonSchemaValueException(
                        ""
                        + (name_prefix or "data")
                        + ".language must be shorter than or equal to 30 characters"
                    )
        if "repo_size_category" in data_keys:
            data_keys.remove("repo_size_category")
            data__reposizecategory = data["repo_size_category"]
            data__reposizecategory_any_of_count1 = 0
            if not data__reposizecategory_any_of_count1:
                try:
                    if not isinstance(data__reposizecategory, (str)):
                        raise JsonSchemaValueException(
                            ""
                            + (name_prefix or "data")
                            + ".repo_size_category must be string"
                        )
                    if not (
                        isinstance(data__reposizecategory, str)
                        and data__reposizecategory == "tiny"
                        or isinstance(data__reposizecategory, str)
                        and data__reposizecategory == "small"
                        or isinstance(data__reposizecategory, str)
                        and data__reposizecategory == "medium"
                        or isinstance(data__reposizecategory, str)
                        and data__reposizecategory == "large"
                        or isinstance(data__reposizecategory, str)
                        and data__reposizecategory == "huge"
                    ):
                        raise JsonSchemaValueException(
                            ""
                            + (name_prefix or "data")
                            + ".repo_size_category must be one of ['tiny', 'small', 'medium', 'large', 'huge']"
                        )
                    data__reposizecategory_any_of_count1 += 1
                except (JsonSchemaValueException, JsonSchemaValuesException):
                    pass
            if not data__reposizecategory_any_of_count1:
                try:
                    if not isinstance(data__reposizecategory, (NoneType)):
                        raise JsonSchemaValueException(
                            ""
                            + (name_prefix or "data")
                            + ".repo_size_category must be null"
                        )
                    data__reposizecategory_any_of_count1 += 1
                except (JsonSchemaValueException, JsonSchemaValuesException):
                    pass
            if not data__reposizecategory_any_of_count1:
                raise JsonSchemaValueException(
                    ""
                    + (name_prefix or "data")
                    + ".repo_size_category cannot be validated by any definition"
                )
        if data_keys:
            raise JsonSchemaValueException(
                ""
                + (name_prefix or "data")
                + " must not contain "
                + str(data_keys)
                + " properties"
            )
    return data
