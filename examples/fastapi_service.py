"""A FastAPI service that records each completed task (the integration guide's Example 1).

Run it with the MOSAIC_TELEMETRY_* variables set, from this directory: `uvicorn
fastapi_service:app`. The config comes from the environment only, so with nothing but
`MOSAIC_TELEMETRY_ENABLED=false` set the service runs and sends nothing (the guide's version
reads `os.environ["MOSAIC_TELEMETRY_API_KEY"]` itself, which fails when the variable is unset).
tests/examples/ runs it against the local server, and with the kill switch alone.
"""

from contextlib import asynccontextmanager

from fastapi import FastAPI

from mosaicstack_telemetry import (
    Complexity,
    EventBuilder,
    Harness,
    Outcome,
    Provider,
    QualityGate,
    TaskType,
    TelemetryClient,
    TelemetryConfig,
)

# Initialize telemetry once at startup: MOSAIC_TELEMETRY_SERVER_URL, _API_KEY, _INSTANCE_ID.
config = TelemetryConfig()

telemetry = TelemetryClient(config)


@asynccontextmanager
async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
    """Start telemetry on app startup, flush on shutdown."""
    await telemetry.start_async()
    yield
    await telemetry.stop_async()


app = FastAPI(lifespan=lifespan)


@app.post("/tasks/complete")
async def complete_task(
    task_type: str,
    model: str,
    provider: str,
    complexity: str,
    actual_input_tokens: int,
    actual_output_tokens: int,
    actual_cost_usd_micros: int,
    duration_ms: int,
    outcome: str,
) -> dict[str, str]:
    """Record a completed AI coding task."""
    event = (
        EventBuilder(instance_id=config.instance_id)
        .task_type(TaskType(task_type))
        .model(model)
        .provider(Provider(provider))
        .harness_type(Harness.CLAUDE_CODE)
        .complexity_level(Complexity(complexity))
        .outcome_value(Outcome(outcome))
        .duration_ms(duration_ms)
        .tokens(
            estimated_in=0,
            estimated_out=0,
            actual_in=actual_input_tokens,
            actual_out=actual_output_tokens,
        )
        .cost(estimated=0, actual=actual_cost_usd_micros)
        .quality(passed=outcome == "success", gates_run=[QualityGate.BUILD, QualityGate.TEST])
        .context(compactions=0, rotations=0, utilization=0.0)
        .build()
    )

    telemetry.track(event)  # Non-blocking, never throws

    return {"status": "tracked"}
