// A TypeScript client of the contract, as another ecosystem would write one: types from
// openapi-typescript, calls through openapi-fetch. test_typescript_consumer.py generates
// schema.d.ts, type-checks this file (tsc --noEmit), then runs it with node against the local
// server. The functions below the types are compile-time checks: they fail to type-check if
// the contract stops typing `median`, `confidence` or `status` exactly.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

declare const process: { env: Record<string, string | undefined>; exitCode?: number };

type Schemas = components["schemas"];
type Event = Schemas["TaskCompletionEvent"];

// --- compile-time checks ------------------------------------------------------------------

// `median` is declared, so it is a number, not `number | undefined` (noUncheckedIndexedAccess).
export function medianCost(data: Schemas["PredictionData"]): number {
  return data.cost_usd_micros.median;
}

// `confidence` is exactly the four levels, not any string.
export function level(meta: Schemas["PredictionMetadata"]): "high" | "medium" | "low" | "none" {
  return meta.confidence;
}

export const known: Schemas["EventStatus"][] = ["accepted", "rejected", "duplicate"];
// @ts-expect-error "bogus" is not an event status: the status is an enum, not a pattern
export const bogus: Schemas["EventStatus"] = "bogus";
// @ts-expect-error nor is "maybe" a confidence
export const vague: Schemas["Confidence"] = "maybe";

// --- the run ------------------------------------------------------------------------------

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const instance = env("INSTANCE");
const client = createClient<paths>({ baseUrl: env("BASE_URL") });
const auth = (key: string) => ({ Authorization: `Bearer ${key}` });

function event(changes: Partial<Event> = {}): Event {
  return {
    instance_id: instance,
    event_id: crypto.randomUUID(),
    task_duration_ms: 45000,
    task_type: "implementation",
    complexity: "medium",
    harness: "claude_code",
    model: "claude-sonnet-4-5",
    provider: "anthropic",
    estimated_input_tokens: 1000,
    estimated_output_tokens: 500,
    actual_input_tokens: 1100,
    actual_output_tokens: 450,
    estimated_cost_usd_micros: 10000,
    actual_cost_usd_micros: 12000,
    quality_gate_passed: true,
    context_compactions: 0,
    context_rotations: 0,
    context_utilization_final: 0.4,
    outcome: "success",
    retry_count: 0,
    ...changes,
  };
}

async function submit(events: Event[], key: string) {
  return client.POST("/v1/events/batch", { body: { events }, headers: auth(key) });
}

async function main(): Promise<Record<string, unknown>> {
  const key = env("KEY");
  const first = event();
  const valid = await submit([first, event({ language: "typescript" })], key);
  const again = await submit([first], key);
  const mixed = await submit([event(), event({ task_duration_ms: -5 }), first], key);
  const wrongKey = await submit([event()], env("UNKNOWN_KEY"));
  const predicted = await client.POST("/v1/predictions/batch", {
    body: {
      queries: [
        { task_type: "implementation", model: "claude-sonnet-4-5", provider: "anthropic", complexity: "medium" },
      ],
    },
  });
  const answer = predicted.data?.results[0];
  return {
    valid: { status: valid.response.status, accepted: valid.data?.accepted },
    duplicate: {
      status: again.response.status,
      statuses: again.data?.results.map((r) => r.status),
      duplicate: again.data?.duplicate,
    },
    mixed: {
      statuses: mixed.data?.results.map((r) => r.status),
      indexes: mixed.data?.results.map((r) => r.index),
      codes: mixed.data?.results.map((r) => r.code ?? null),
    },
    wrongKey: { status: wrongKey.response.status, detail: wrongKey.error?.detail },
    prediction: {
      status: predicted.response.status,
      level: answer === undefined ? null : level(answer.metadata),
      median: answer?.prediction ? medianCost(answer.prediction) : null,
    },
  };
}

main().then(
  (summary) => console.log(JSON.stringify(summary)),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
