import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { BEDROCK_GUARDRAIL_KEY, bedrockGuardrail } from '../fakes/bedrock-guardrail.ts';
import { guardrailServices } from '../fakes/guardrail-services.ts';
import { type FakeUpstream, type RecordedRequest, startFakeUpstream } from '../fakes/upstream.ts';
import { startTestStack, type TestStack } from './stack.ts';

/**
 * What the guardrail suites share: a fake provider on loopback (echoing chat prompts unless the suite answers
 * itself), the fake guardrail services (Lakera Guard, Presidio, OpenAI moderation, and Bedrock's ApplyGuardrail
 * under /bedrock) on another, and workerd on the suite's config.yaml.
 */

export interface GuardrailsStack { llm: FakeUpstream; guard: FakeUpstream; stack: TestStack }

/** What a suite's config is built from: `presidio` and `upstream` are the litellm_params pairs most entries repeat. */
export interface GuardrailsConfigParts {
  llm: FakeUpstream;
  guard: FakeUpstream;
  /** presidio_analyzer_api_base and presidio_anonymizer_api_base on the fake Presidio. */
  presidio: string;
  /** api_base (the fake provider's /v1) and a provider key. */
  upstream: string;
  /** A Bedrock guardrail's litellm_params on the fake ApplyGuardrail (guardrail gr-abc123, version 1), `extra` (its mode and flags) added. */
  bedrock: (extra: string) => string;
}

export interface GuardrailsStackOptions {
  config: (parts: GuardrailsConfigParts) => string;
  /** The fake Lakera's switch, set back to up before each test. */
  lakera?: { down: boolean };
  /** The fake provider's answers; the echo by default. */
  provider?: (request: RecordedRequest, res: ServerResponse) => void;
}

/**
 * Registers the calling suite's stack (beforeAll/afterAll, and the fakes' reset before each test) so each suite
 * does not repeat it; `started` gets the parts once they are up.
 */
export function useGuardrailsStack(options: GuardrailsStackOptions, started: (s: GuardrailsStack) => void): void {
  const lakera = options.lakera ?? { down: false };
  const live: Partial<GuardrailsStack> = {};
  beforeAll(async () => {
    live.llm = await startFakeUpstream(options.provider ? { default: { kind: 'handler', handle: options.provider } } : undefined);
    const services = guardrailServices(lakera);
    live.guard = await startFakeUpstream({ default: { kind: 'handler', handle: (r, res) => (r.path.startsWith('/bedrock/') ? bedrockGuardrail(r, res) : services(r, res)) } });
    const presidio = `presidio_analyzer_api_base: "${live.guard.url}/analyzer", presidio_anonymizer_api_base: "${live.guard.url}/anonymizer"`;
    const upstream = `api_base: "${live.llm.url}/v1", api_key: sk-llm-upstream-0001`;
    const guardUrl = live.guard.url;
    const bedrock = (extra: string) => `{guardrail: bedrock, api_base: "${guardUrl}/bedrock", api_key: ${BEDROCK_GUARDRAIL_KEY}, guardrailIdentifier: gr-abc123, guardrailVersion: "1", ${extra}}`;
    live.stack = await startTestStack({ configYaml: options.config({ llm: live.llm, guard: live.guard, presidio, upstream, bedrock }) });
    started(live as GuardrailsStack);
  });
  afterAll(async () => {
    await live.stack?.stop();
    await Promise.all([live.llm?.close(), live.guard?.close()]);
  });
  beforeEach(() => {
    live.llm?.reset();
    live.guard?.reset();
    lakera.down = false;
  });
}
