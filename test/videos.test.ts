import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeVideos, startFakeVideos } from './fakes/openai-videos.ts';
import { adminClient } from './support/admin.ts';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { decoded } from './support/provider-objects.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * OpenAI's Videos API (Sora) through the gateway with the official openai client: a video is made by a
 * model group's video deployment, billed its seconds at the deployment's price, read, downloaded, remixed,
 * listed and deleted by its owner only, and every id a key sees is the gateway's signed one.
 */

const env = {} as { fake: FakeVideos; stack: TestStack };
beforeAll(async () => {
  env.fake = await startFakeVideos();
  env.stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: sora
    litellm_params: {model: openai/sora-2, api_base: "${env.fake.url}/acct-a/v1", api_key: sk-acct-a-0001}
    model_info: {id: dep-sora, mode: video_generation, output_cost_per_second: 0.1}
  - model_name: sora-azure
    litellm_params: {model: azure/my-sora, api_base: "${env.fake.url}/az", api_key: azure-upstream-0003}
    model_info: {id: dep-sora-az, base_model: sora-2, output_cost_per_video_per_second: 0.3}
  - model_name: chat
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${env.fake.url}/acct-a/v1", api_key: sk-acct-a-0001}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`,
  });
});
afterAll(async () => {
  await env.stack?.stop();
  await env.fake?.close();
});
beforeEach(() => env.fake.reset());

const admin = adminClient(() => env.stack);
const client = (apiKey: string, group?: string) => new OpenAI({ baseURL: `${env.stack.url}/v1`, apiKey, maxRetries: 0, defaultHeaders: group ? { 'x-litellm-model': group } : {} });
const newKey = async (body: Record<string, unknown>) => (await admin.generate({ models: ['sora', 'sora-azure'], ...body })).key as string;
const status = (attempt: Promise<unknown>) => attempt.then(() => 200, (e: unknown) => (e as { status?: number }).status);
const rawIds = () => [...env.fake.videos.keys()];
const rows = (key: string, count: number) => eventually(async () => {
  const found = await query(env.stack.db.url, 'SELECT * FROM "LiteLLM_SpendLogs" WHERE api_key = $1 AND call_type LIKE $2 ORDER BY "startTime"', [sha256(key), 'avideo_%']);
  return found.length === count ? found : undefined;
});

async function completed(openai: OpenAI, id: string) {
  for (let i = 0; i < 5; i++) {
    const video = await openai.videos.retrieve(id);
    if (video.status === 'completed') return video;
  }
  throw new Error('never completed');
}

describe('Videos', () => {
  it('are made, followed to completion, downloaded, remixed and deleted by their owner, billed per second', async () => {
    const key = await newKey({ user_id: 'vid-dave' });
    const dave = client(key);
    const video = await dave.videos.create({ model: 'sora', prompt: 'A cat on a skateboard', seconds: '8', size: '1280x720' });
    expect(video).toMatchObject({ object: 'video', status: 'queued', model: 'sora-2', seconds: '8', size: '1280x720' });
    expect(decoded(video.id, 'video_')).toContain(';model,sora;model_id,dep-sora;owner,user:vid-dave;sig,');
    const created = env.fake.requests.find((r) => r.method === 'POST')!;
    expect(created.path).toBe('/acct-a/v1/videos');
    // The deployment's model and nothing of the gateway's (JSON: no file came along).
    expect(created.json).toEqual({ model: 'sora-2', prompt: 'A cat on a skateboard', seconds: '8', size: '1280x720' });

    const done = await completed(dave, video.id);
    expect(done).toMatchObject({ id: video.id, status: 'completed', progress: 100 });
    const content = await dave.videos.downloadContent(video.id);
    expect(content.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await content.arrayBuffer()).equals(env.fake.mp4)).toBe(true);
    const thumb = await dave.videos.downloadContent(video.id, { variant: 'thumbnail' });
    expect(thumb.headers.get('content-type')).toBe('image/webp');

    const remix = await dave.videos.remix(video.id, { prompt: 'Now at night' });
    expect(remix).toMatchObject({ object: 'video', status: 'queued', seconds: '8', remixed_from_video_id: video.id });
    expect(decoded(remix.id, 'video_')).toContain(';owner,user:vid-dave;sig,');

    const shown = JSON.stringify([video, done, remix]);
    for (const id of rawIds()) expect(shown).not.toContain(id);

    const spent = await rows(key, 2);
    expect(spent.map((r) => [r.call_type, Number(r.spend), r.model_group, r.model_id, r.status])).toEqual([
      ['avideo_generation', 0.8, 'sora', 'dep-sora', 'success'], ['avideo_remix', 0.8, 'sora', 'dep-sora', 'success'],
    ]);
    expect(rawIds()).toContain(spent[0]!.request_id);

    expect(await dave.videos.delete(video.id)).toEqual({ id: video.id, object: 'video.deleted', deleted: true });
    expect(await status(dave.videos.retrieve(video.id))).toBe(404);
  });

  it('are listed for the master key only (a video keeps no owner to list a key\'s by), and another key gets the 404 of an unknown id everywhere', async () => {
    const dave = client(await newKey({ user_id: 'vid-dave2' }));
    const erin = client(await newKey({ user_id: 'vid-erin' }));
    const mine: OpenAI.Video[] = [];
    for (const prompt of ['one', 'two', 'three']) mine.push(await dave.videos.create({ model: 'sora', prompt }));
    await erin.videos.create({ model: 'sora', prompt: 'hers' });
    const listed = (openai: OpenAI, q: OpenAI.VideoListParams = {}) => client((openai as unknown as { apiKey: string }).apiKey, 'sora').videos.list(q);
    expect(await status(listed(dave))).toBe(403);
    const everyone = await client(TEST_MASTER_KEY, 'sora').videos.list();
    expect(everyone.data).toHaveLength(4);
    // The master key's list names the videos by ids signed for it, never the provider's.
    for (const id of rawIds()) expect(JSON.stringify(everyone.data)).not.toContain(id);

    await completed(dave, mine[0]!.id);
    const before = env.fake.requests.length;
    for (const attempt of [
      () => erin.videos.retrieve(mine[0]!.id), () => erin.videos.downloadContent(mine[0]!.id), () => erin.videos.remix(mine[0]!.id, { prompt: 'mine now' }), () => erin.videos.delete(mine[0]!.id),
    ]) expect(await status(attempt())).toBe(404);
    // The provider's own id is no key's to name; the master key may, with the group.
    const raw = rawIds()[0]!;
    expect(await status(dave.videos.retrieve(raw))).toBe(404);
    expect((await client(TEST_MASTER_KEY, 'sora').videos.retrieve(raw)).object).toBe('video');
    // A forged id: another owner in a video id the gateway did not sign.
    const forged = `video_${Buffer.from(decoded(mine[0]!.id, 'video_').replace('user:vid-dave2', 'user:vid-erin')).toString('base64url')}`;
    expect(await status(erin.videos.retrieve(forged))).toBe(404);
    // Only the master key's read reached the provider.
    expect(env.fake.requests.slice(before).map((r) => r.path)).toEqual([`/acct-a/v1/videos/${raw}`]);
  });

  it('take a reference image as a file, refuse another owner\'s file id, and reach Azure\'s v1 API', async () => {
    const dave = client(await newKey({ user_id: 'vid-ref' }));
    const image = await toFile(Buffer.from('png bytes'), 'ref.png', { type: 'image/png' });
    await dave.videos.create({ model: 'sora', prompt: 'From this', input_reference: image });
    expect(env.fake.requests.at(-1)!.file).toEqual({ name: 'ref.png', size: 9 });
    const before = env.fake.requests.length;
    expect(await status(dave.videos.create({ model: 'sora', prompt: 'x', input_reference: { file_id: 'file-abc123' } }))).toBe(404);
    expect(env.fake.requests.length).toBe(before);

    const az = await dave.videos.create({ model: 'sora-azure', prompt: 'On Azure', seconds: '4' });
    const sent = env.fake.requests.at(-1)!;
    expect(sent.path).toBe('/az/openai/v1/videos');
    expect(sent.query).toEqual({});
    expect(sent.headers['api-key']).toBe('azure-upstream-0003');
    expect((sent.json as { model?: string }).model).toBe('my-sora');
    expect(decoded(az.id, 'video_')).toContain(';model_id,dep-sora-az;');
  });

  it('are refused to a key over its budget or without the group, and a refused create costs nothing', async () => {
    const key = await newKey({ user_id: 'vid-poor', max_budget: 0.5 });
    const poor = client(key);
    env.fake.failNext(400, { error: { message: 'Your request was blocked by our moderation system.', type: 'invalid_request_error', param: null, code: 'moderation_blocked' } });
    expect(await status(poor.videos.create({ model: 'sora', prompt: 'blocked' }))).toBe(400);
    await poor.videos.create({ model: 'sora', prompt: 'costly', seconds: '12' });
    const logged = await rows(key, 2);
    expect(logged.map((r) => [r.call_type, r.status])).toEqual([['avideo_generation', 'failure'], ['avideo_generation', 'success']]);
    expect(Number(logged[0]!.spend)).toBe(0);
    expect(Number(logged[1]!.spend)).toBeCloseTo(1.2, 10);
    const refused = await eventually(async () => {
      const code = await status(poor.videos.create({ model: 'sora', prompt: 'more' }));
      return code === 400 || code === 429 ? code : undefined;
    });
    expect(refused).toBeGreaterThanOrEqual(400);
    const chatOnly = client(await admin.generate({ models: ['chat'] }).then((k) => k.key as string));
    expect(await status(chatOnly.videos.create({ model: 'sora', prompt: 'no' }))).toBe(401);
    expect(await status(chatOnly.videos.create({ model: 'chat', prompt: 'no' }))).toBe(400);
    expect(await status(client(key).videos.create({ model: 'chat', prompt: 'not a video model' }))).toBe(401);
  });
});
