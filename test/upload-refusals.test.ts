import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { useBatchesStack } from './support/provider-objects.ts';

/**
 * An upload the gateway refuses while the client is still sending it is answered, not reset: a file streamed
 * through (the group named in `x-litellm-model`) and refused before it is sent on (a group the key may not call),
 * or whose send fails (the provider unreachable), has the rest of its body read before the answer, so the
 * official client sees the error (skills-refusals.test.ts and containers.test.ts: the same for skills and
 * container files refused by a key's rate limit). Without it, the unread bytes make the close a reset, which on
 * Linux discards the answer (APIConnectionError).
 */

// A group whose provider is a closed port on loopback: every send to it fails to connect.
const { env, client, newKey } = useBatchesStack(() => `  - model_name: dead-acct
    litellm_params: {model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:1/v1", api_key: sk-dead-0004}
    model_info: {id: dep-dead}
`);

const bigFile = () => toFile(Buffer.alloc(900_000, 97), 'big.jsonl');
const failure = (attempt: Promise<unknown>) => attempt.then(() => undefined, (e: unknown) => e as { status?: number; message: string });

describe('A streamed upload refused while it is being sent', () => {
  it('gets the refusal of a group the key may not call, having sent nothing on', async () => {
    const key = await newKey({ models: ['batch-a'], user_id: 'upl-limited' });
    const sent = env.fake.requests.length;
    const refused = await failure(client(key, { 'x-litellm-model': 'batch-b' }).files.create({ file: await bigFile(), purpose: 'batch' }));
    expect(refused).toMatchObject({ status: 401 });
    expect(refused!.message).toMatch(/batch-b/);
    expect(env.fake.requests.length).toBe(sent);
  });

  it('gets the error of a provider that cannot be reached, not a reset connection', async () => {
    const key = await newKey({ models: ['dead-acct'], user_id: 'upl-dead' });
    const refused = await failure(client(key, { 'x-litellm-model': 'dead-acct' }).files.create({ file: await bigFile(), purpose: 'batch' }));
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect(refused!.status).toBeGreaterThanOrEqual(500);
  });
});
