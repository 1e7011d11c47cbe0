import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { decoded, useBatchesStack } from './support/provider-objects.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * Containers (containers.test.ts) named in a Responses call by the gateway's ids, with the official openai
 * client: in a string `container` or `container_id` anywhere (a code_interpreter tool, a shell tool's
 * container_reference, an earlier answer's code_interpreter_call given back), the caller's own go to the
 * provider as its ids, pinned to their account, and come back as the client's, in answers and refusals; a
 * provider's raw id (readable out of any gateway id) is a 400 for a key, another owner's the 404 of an unknown id.
 */

const { env, client, newKey } = useBatchesStack();

const keyClient = async (user: string, models = ['batch-a']) =>
  client(await newKey({ models, user_id: user }), { 'x-litellm-model': models[0]! });
const status = (attempt: Promise<unknown>) => attempt.then(() => 200, (e: unknown) => (e as { status?: number }).status);
const error = (attempt: Promise<unknown>) => attempt.then(() => undefined, (e: unknown) => e as { status: number; message: string; param?: string });
const rawIds = () => [...env.fake.containers.keys()];

describe('Containers in model calls', () => {
  it('are named by the caller\'s gateway id in a Responses code_interpreter tool, pinned to their account', async () => {
    const dave = await keyClient('cntr-ci', ['batch-a', 'batch-b']);
    const erin = await keyClient('cntr-ci-erin', ['batch-a', 'batch-b']);
    const box = await dave.containers.create({ name: 'box' });
    const tool = (container: string): OpenAI.Responses.Tool => ({ type: 'code_interpreter', container });
    const answer = await dave.responses.create({ model: 'batch-a', input: 'run it', tools: [tool(box.id)] });
    expect(answer.output_text).toBe('ran in box: no files');
    const call = env.fake.requests.at(-1)!;
    expect(call.path).toBe('/acct-a/v1/responses');
    expect((call.json as { tools: unknown }).tools).toEqual([{ type: 'code_interpreter', container: rawIds()[0] }]);
    // The answer names the container by the client's id: the echoed tool, the code it ran, a citation of a file it made.
    expect(answer.tools).toEqual([tool(box.id)]);
    expect(answer.output[0]).toMatchObject({ type: 'code_interpreter_call', container_id: box.id });
    expect(JSON.stringify(answer.output[1])).toContain(`"container_id":"${box.id}"`);
    expect(JSON.stringify(answer)).not.toContain(rawIds()[0]);
    const stream = await dave.responses.create({ model: 'batch-a', input: 'run it', tools: [tool(box.id)], stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.type)).toEqual(['response.created', 'response.output_item.added', 'response.output_item.done', 'response.output_item.done', 'response.completed']);
    expect(JSON.stringify(events)).not.toContain(rawIds()[0]);
    expect((events.at(-1) as OpenAI.Responses.ResponseCompletedEvent).response.output[0]).toMatchObject({ container_id: box.id });

    const before = env.fake.requests.length;
    expect(await status(erin.responses.create({ model: 'batch-a', input: 'x', tools: [tool(box.id)] }))).toBe(404);
    const raw = await error(dave.responses.create({ model: 'batch-a', input: 'x', tools: [tool(rawIds()[0]!)] }));
    expect(raw).toMatchObject({ status: 400, param: 'tools.0.container' });
    // Another account's group cannot run in it.
    expect(await status(dave.responses.create({ model: 'batch-b', input: 'x', tools: [tool(box.id)] }))).toBe(400);
    expect(env.fake.requests.length).toBe(before);
    // The master key's raw ids pass as they are.
    const master = await client(TEST_MASTER_KEY).responses.create({ model: 'batch-a', input: 'x', tools: [tool(rawIds()[0]!)] });
    expect(master.output_text).toBe('ran in box: no files');
  });

  it('are named by `container_id` as by `container` (a shell tool\'s container_reference, a replayed code_interpreter_call), and an expired one\'s 404 names the client\'s id', async () => {
    const dave = await keyClient('cntr-shell');
    const erin = await keyClient('cntr-shell-erin');
    const box = await dave.containers.create({ name: 'shellbox' });
    const raw = rawIds().find((id) => env.fake.containers.get(id)!.name === 'shellbox')!;
    // The gateway's id is signed, not encrypted: the provider's id can be read out of it, so no key may name one.
    expect(decoded(box.id, 'cntr_')).toContain(`litellm:${raw};`);
    const shell = (container_id: string) => ({ type: 'shell', environment: { type: 'container_reference', container_id } }) as unknown as OpenAI.Responses.Tool;
    const before = env.fake.requests.length;
    for (const caller of [dave, erin]) {
      expect(await error(caller.responses.create({ model: 'batch-a', input: 'ls', tools: [shell(raw)] }))).toMatchObject({ status: 400, param: 'tools.0.environment.container_id' });
    }
    expect(await status(erin.responses.create({ model: 'batch-a', input: 'ls', tools: [shell(box.id)] }))).toBe(404);
    const replayed = { type: 'code_interpreter_call', id: 'ci_1', status: 'completed', code: 'print(1)', container_id: raw, outputs: null } as const;
    const code: OpenAI.Responses.Tool = { type: 'code_interpreter', container: box.id };
    expect(await error(erin.responses.create({ model: 'batch-a', input: [{ ...replayed, container_id: box.id }] as OpenAI.Responses.ResponseInput, tools: [] }))).toMatchObject({ status: 404 });
    expect(await error(dave.responses.create({ model: 'batch-a', input: [replayed] as OpenAI.Responses.ResponseInput, tools: [code] }))).toMatchObject({ status: 400, param: 'input.0.container_id' });
    expect(env.fake.requests.length).toBe(before);

    // The owner's gateway id is the provider's on the wire, and the answer names it by the client's again.
    const ran = await dave.responses.create({ model: 'batch-a', input: 'ls', tools: [shell(box.id)] });
    expect(ran.output_text).toBe('ran in shellbox: no files');
    expect((env.fake.requests.at(-1)!.json as { tools: unknown }).tools).toEqual([{ type: 'shell', environment: { type: 'container_reference', container_id: raw } }]);
    expect(JSON.stringify(ran)).not.toContain(raw);
    // An earlier answer's code_interpreter_call given back, many times over: one id checked once, each translated.
    const mine = { ...replayed, container_id: box.id };
    await dave.responses.create({ model: 'batch-a', input: [...Array<typeof mine>(1500).fill(mine), { role: 'user', content: 'again' }] as OpenAI.Responses.ResponseInput, tools: [code] });
    const sentInput = (env.fake.requests.at(-1)!.json as { input: unknown[] }).input;
    expect(sentInput).toHaveLength(1501);
    expect(sentInput[1499]).toEqual(replayed);

    // Expired at the provider: its 404 names the container by the client's id.
    env.fake.containers.delete(raw);
    const expired = await error(dave.responses.create({ model: 'batch-a', input: 'run it', tools: [code] }));
    expect(expired).toMatchObject({ status: 404, message: expect.stringContaining(`Container with id '${box.id}' not found`) });
    expect(expired!.message).not.toContain(raw);
  });

});
