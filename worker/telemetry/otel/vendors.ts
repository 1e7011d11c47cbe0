/**
 * LiteLLM's OpenTelemetry callbacks that are an OTLP exporter with a vendor's endpoint and credentials, beside
 * `otel` and the OpenInference ones (`langfuse_otel`, `arize_phoenix`, `arize`): each its own callback name, Queue
 * destination and collector, with the attribute set LiteLLM gives that vendor:
 * - `logfire`, `levo`: LiteLLM's plain OpenTelemetry span (GenAI conventions, as `otel`'s: spans.ts);
 * - `traceloop`: OpenLLMetry's (`gen_ai.prompt.N.*`, `gen_ai.completion.N.*`, `llm.*`: openllmetry.ts);
 * - `langtrace`: LiteLLM's LangtraceAttributes (`gen_ai.*`, the prompt and completion as span events: openllmetry.ts);
 * - `weave_otel` (W&B Weave): the OpenInference attributes (openinference.ts), plus Weave's `wandb.*`.
 * Their credentials are read by the admin Worker alone (admin-worker/queues/callbacks/otlp-vendors.ts).
 */
export const OTLP_VENDORS = ['logfire', 'traceloop', 'langtrace', 'levo', 'weave_otel'] as const;
export type OtlpVendor = (typeof OTLP_VENDORS)[number];
