import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS_CONFIG, adminClient } from './support/admin.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// What a key may call: key_type and allowed_routes, model aliases (the key's and its team's).

let stack: TestStack;
const { call, ok, generate, count, chat } = adminClient(() => stack);
const countKeys = () => count('LiteLLM_VerificationToken');

beforeAll(async () => {
  stack = await startTestStack({ configYaml: KEYS_CONFIG });
});
afterAll(async () => stack?.stop());

describe('key_type and allowed_routes', () => {
  it('hold a key to the routes it was made for: llm_api calls models only, read_only reads only, a route list lists routes', async () => {
    const llm = (await generate({ key_type: 'llm_api' })).key as string;
    const readOnly = (await generate({ key_type: 'read_only' })).key as string;
    const chatOnly = (await generate({ allowed_routes: ['/v1/chat/completions', '/key/*'] })).key as string;
    const anything = (await generate({ key_type: 'default' })).key as string;

    // Model calls.
    expect((await chat(llm)).choices[0]?.message.content).toBe('pong');
    expect((await chat(chatOnly)).choices[0]?.message.content).toBe('pong');
    expect((await chat(anything)).choices[0]?.message.content).toBe('pong');
    const refused = await chat(readOnly).catch((e: unknown) => e) as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(refused.error).toMatchObject({
      type: 'auth_error',
      message: "Authentication Error, Virtual key is not allowed to call this route. Only allowed to call routes: ['info_routes']. Tried to call route: /v1/chat/completions",
    });
    const embed = await new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: chatOnly, maxRetries: 0 }).embeddings.create({ model: 'mock-gpt', input: 'x' }).catch((e: unknown) => e);
    expect(embed).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((await new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: llm, maxRetries: 0 }).models.list()).data.length).toBeGreaterThan(0);

    // The admin API: a read_only key reads its own info but makes nothing; an llm_api key reads nothing.
    expect((await call('/key/info', undefined, readOnly)).status).toBe(200);
    const keysBefore = await countKeys();
    const minted = await call('/key/generate', {}, readOnly);
    expect(minted.status).toBe(401);
    expect(JSON.stringify(minted.body)).toContain('Tried to call route: /key/generate');
    expect((await call('/key/info', undefined, llm)).status).toBe(401);
    expect((await call('/key/info', undefined, chatOnly)).status).toBe(200);
    expect((await call('/key/info', undefined, anything)).status).toBe(200);
    // The refusal changed nothing: the read_only key made no key.
    expect(await countKeys()).toBe(keysBefore);
  });

  it('follow an update: a key narrowed to llm_api_routes is refused the admin API on its next request', async () => {
    const key = (await generate({})).key as string;
    expect((await call('/key/info', undefined, key)).status).toBe(200);
    await ok('/key/update', { key, allowed_routes: ['llm_api_routes'] });
    expect((await call('/key/info', undefined, key)).status).toBe(401);
    expect((await chat(key)).choices[0]?.message.content).toBe('pong');
  });
});

describe('model aliases', () => {
  it('route a key\'s aliases and its team\'s model_aliases to the group they name, within the key\'s model access', async () => {
    const key = (await generate({ aliases: { small: 'mock-gpt' } })).key as string;
    const { data, response } = await new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 })
      .chat.completions.create({ model: 'small', messages: [{ role: 'user', content: 'ping' }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe('pong');
    expect(response.headers.get('x-litellm-model-group')).toBe('mock-gpt');

    const team = await ok('/team/new', { team_alias: 'aliased', model_aliases: { 'team-cheap': 'mock-gpt' } });
    const teamKey = (await generate({ team_id: team.team_id })).key as string;
    const viaTeam = await new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: teamKey, maxRetries: 0 })
      .chat.completions.create({ model: 'team-cheap', messages: [{ role: 'user', content: 'ping' }] }).withResponse();
    expect(viaTeam.response.headers.get('x-litellm-model-group')).toBe('mock-gpt');

    // Listed by name, the alias is callable; a key whose list names neither it nor its group is refused.
    const byName = (await generate({ models: ['small'], aliases: { small: 'mock-gpt' } })).key as string;
    expect((await chat(byName, 'small')).choices[0]?.message.content).toBe('pong');
    const narrow = (await generate({ models: ['other-model'], aliases: { small: 'mock-gpt' } })).key as string;
    await expect(chat(narrow, 'small')).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    // Without the alias the name means nothing.
    await expect(chat((await generate({})).key as string, 'small')).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });
});
