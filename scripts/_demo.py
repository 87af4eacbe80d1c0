"""The README's main job: the public SDK against the embedded local server.

Starts the reference server on a free loopback port, sends a realistic workload through a sync
client (a daemon thread) and an async client (an asyncio task), plus two events a misconfigured
integration would send (another instance's id: the server rejects them, and says why), fetches
predictions for the combinations it sent, prints them as a table with what each column means,
and prints the address of the server's live page. In a terminal (stdin and stdout are TTYs) the
server then keeps running until Ctrl-C, so the page can be opened; otherwise (CI) it stops.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import sys
import threading
import time
import uuid
from collections import Counter

from mosaicstack_telemetry import (
    Complexity,
    EventBuilder,
    Harness,
    Outcome,
    PredictionQuery,
    Provider,
    QualityGate,
    RepoSizeCategory,
    TaskCompletionEvent,
    TaskType,
    TelemetryClient,
    TelemetryConfig,
)
from mosaicstack_telemetry.server import start_server

MODELS = [
    ("claude-sonnet-4-5-20250929", Provider.ANTHROPIC, Harness.CLAUDE_CODE, 3.0),
    ("claude-haiku-4-5-20251001", Provider.ANTHROPIC, Harness.CLAUDE_CODE, 1.0),
    ("gpt-5", Provider.OPENAI, Harness.AIDER, 2.5),
    ("gemini-2.5-pro", Provider.GOOGLE, Harness.OPENCODE, 2.0),
    ("qwen3-coder:30b", Provider.OLLAMA, Harness.OLLAMA_LOCAL, 0.0),
]
SCALE = {Complexity.LOW: 0.3, Complexity.MEDIUM: 1.0, Complexity.HIGH: 2.5, Complexity.CRITICAL: 5}
GATES = [QualityGate.BUILD, QualityGate.LINT, QualityGate.TEST, QualityGate.TYPECHECK]

#: The fallback level in words: how far the server widened the query to find events.
FALLBACK = {
    0: "0 exact",
    1: "1 any model",
    2: "2 any provider",
    3: "3 task type only",
    -1: "-1 no data",
}
LEGEND = """\
What the columns mean:
  n           the stored events the prediction is computed from
  confidence  high: 100+ events matched task type, model, provider and complexity exactly;
              medium: 30-99 matched exactly; low: fewer, or found only by falling back;
              none: no event of that task type at all, so no prediction
  in p50/p90  input tokens per task: the median, and what 9 tasks in 10 stayed under
  out p50     output tokens per task, median
  cost p50    cost per task in dollars, median; time p50: duration per task, median
  corr in     actual input tokens / estimated, over those events (1.00: estimates were right)
  pass        the share of those tasks whose quality gates passed
  fallback    how far the server widened the query to find events, dropping one dimension
              at a time: 0 exact: all four matched; 1 any model: same task type, provider and
              complexity, any model; 2 any provider: same task type and complexity;
              3 task type only: same task type, any complexity; -1 no data: nothing of that
              task type is stored"""


#: Where a team's work concentrates: most tasks are a few kinds on one or two models, so the
#: table shows every confidence level (high: 100+ samples, medium: 30-99, low: fewer).
FOCUS = [
    (0.40, TaskType.IMPLEMENTATION, MODELS[0], Complexity.MEDIUM),
    (0.15, TaskType.DEBUGGING, MODELS[2], Complexity.HIGH),
]
TASKS = [
    TaskType.IMPLEMENTATION,
    TaskType.DEBUGGING,
    TaskType.TESTING,
    TaskType.REFACTORING,
    TaskType.CODE_REVIEW,
]


def simulated_task(rng: random.Random, instance_id: str) -> TaskCompletionEvent:
    """One plausible AI coding task: tokens, cost and duration that depend on its shape."""
    draw, shape = rng.random(), None
    for weight, *focus in FOCUS:
        if draw < weight:
            shape = focus
            break
        draw -= weight
    if shape is None:
        shape = [rng.choice(TASKS), rng.choice(MODELS), rng.choice(list(Complexity))]
    task, (model, provider, harness, price), complexity = shape
    est_in = int(40_000 * SCALE[complexity] * rng.uniform(0.8, 1.2))
    est_out = int(est_in * 0.35)
    act_in = int(est_in * rng.lognormvariate(0.05, 0.25))
    act_out = int(est_out * rng.lognormvariate(-0.05, 0.3))
    failed = [g for g in GATES if rng.random() < 0.08]
    outcome = Outcome.SUCCESS if not failed else rng.choice([Outcome.PARTIAL, Outcome.FAILURE])
    # price: USD per million input tokens (output costs 5x): microdollars per token.
    cost = int(act_in * price + act_out * price * 5)
    return (
        EventBuilder(instance_id=instance_id)
        .task_type(task)
        .model(model)
        .provider(provider)
        .harness_type(harness)
        .complexity_level(complexity)
        .outcome_value(outcome)
        .duration_ms(int(act_out * rng.uniform(8, 14)))
        .tokens(estimated_in=est_in, estimated_out=est_out, actual_in=act_in, actual_out=act_out)
        .cost(estimated=int(cost * rng.uniform(0.7, 1.1)), actual=cost)
        .quality(passed=not failed, gates_run=GATES, gates_failed=failed)
        .context(
            compactions=rng.randint(0, 3),
            rotations=rng.randint(0, 1),
            utilization=round(rng.uniform(0.2, 0.95), 2),
        )
        .language(rng.choice(["python", "typescript", "go", "rust"]))
        .repo_size(rng.choice(list(RepoSizeCategory)))
        .build()
    )


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


async def async_part(config: TelemetryConfig, events: list[TaskCompletionEvent]) -> None:
    async with TelemetryClient(config) as client:
        for event in events:
            client.track(event)
            await asyncio.sleep(0)


def main() -> int:
    rng = random.Random(2026)
    api_key, instance_id = secrets.token_hex(32), str(uuid.uuid4())
    started = time.monotonic()
    with start_server(keys={api_key: instance_id}) as server:
        print(f"local server on {server.url}")
        config = TelemetryConfig(
            server_url=server.url,
            api_key=api_key,
            instance_id=instance_id,
            batch_size=50,
            submit_interval_seconds=0.5,
        )
        events = [simulated_task(rng, instance_id) for _ in range(400)]

        # Two events from a misconfigured integration: they carry another instance's id, which
        # the server rejects (the live page's request log shows why, event by event).
        strays = [simulated_task(rng, str(uuid.uuid4())) for _ in range(2)]
        with TelemetryClient(config) as client:  # a daemon thread sends in the background
            for event in events[:250]:
                client.track(event)
            for event in strays:
                client.track(event)
        sync_stats = client.stats()
        asyncio.run(async_part(config, events[250:]))  # an asyncio task sends these
        stored = server.event_count()
        print(
            f"sent {len(events)} events (250 from the sync client, 150 from the async one); "
            f"the server stored {stored}; it rejected {sync_stats.rejected} sent with another "
            "instance's id"
        )

        # Every combination sent, most frequent first, then two it never saw: a new model for
        # a known task (the server falls back, dropping the model) and nothing like it at all.
        counts = Counter((e.task_type, e.model, e.provider, e.complexity) for e in events)
        wanted = [
            PredictionQuery(task_type=t, model=m, provider=p, complexity=c)
            for (t, m, p, c), _ in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
        ]
        unseen = [
            PredictionQuery(
                task_type=TaskType.IMPLEMENTATION,
                model="claude-opus-4-1",
                provider=Provider.ANTHROPIC,
                complexity=Complexity.MEDIUM,
            ),
            PredictionQuery(
                task_type=TaskType.PLANNING,
                model="never-seen-model",
                provider=Provider.MISTRAL,
                complexity=Complexity.CRITICAL,
            ),
        ]
        wanted += unseen
        client.refresh_predictions_sync(wanted)

        rows = [
            [
                "task",
                "model",
                "complexity",
                "n",
                "confidence",
                "in p50",
                "in p90",
                "out p50",
                "cost p50",
                "time p50",
                "corr in",
                "pass",
                "fallback",
            ]
        ]
        shown = wanted[:10] + unseen
        for query in shown:
            response = client.get_prediction(query)
            if response is None:
                continue
            meta, data = response.metadata, response.prediction
            if data is None:
                rows.append(
                    [str(query.task_type), query.model, str(query.complexity), "0", meta.confidence]
                    + ["-"] * 7
                    + [FALLBACK.get(meta.fallback_level, str(meta.fallback_level))]
                )
                continue
            rows.append(
                [
                    str(query.task_type),
                    query.model,
                    str(query.complexity),
                    str(meta.sample_size),
                    meta.confidence,
                    f"{data.input_tokens.median:,}",
                    f"{data.input_tokens.p90:,}",
                    f"{data.output_tokens.median:,}",
                    f"${data.cost_usd_micros['median'] / 1e6:.4f}",
                    f"{data.duration_ms['median'] / 1000:.1f}s",
                    f"{data.correction_factors.input:.2f}",
                    f"{data.quality.gate_pass_rate:.0%}",
                    FALLBACK.get(meta.fallback_level, str(meta.fallback_level)),
                ]
            )
        print(
            f"\npredictions for {len(wanted)} combinations "
            f"(the 10 most frequent, then two never sent):\n"
        )
        print(table(rows))
        print(f"\n{LEGEND}")
        client.stop()  # the predictions reopened the client's connection pool: close it
        confidences = {r[4] for r in rows[1:]}
        ok = (
            stored == len(events)
            and sync_stats.sent == 250
            and sync_stats.rejected == len(strays)
            and confidences == {"high", "medium", "low", "none"}
        )
        print(f"\ndone in {time.monotonic() - started:.1f} s: {'OK' if ok else 'MISMATCH'}")
        keep_serving(f"{server.url}/")
    return 0 if ok else 1


def keep_serving(page: str) -> None:
    """In a terminal, serve until Ctrl-C so the live page can be opened; otherwise say where
    it was and return (the server stops with the block around this call)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print(
            f"\nthe server's live page was at {page} (run scripts/demo in a terminal to keep "
            "the server running and open it)"
        )
        return
    print(
        f"\nthe live page: {page}\n  open it in a browser: the events above, the requests "
        "(with the two rejected events and why), counts, and any prediction drawn.\n"
        "  The server runs until Ctrl-C.",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nstopped")


if __name__ == "__main__":
    sys.exit(main())
