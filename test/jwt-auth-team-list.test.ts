import { describe, expect, it } from 'vitest';
import { admin, chat, loggedRow, rows, useJwtFieldsStack } from './support/jwt-fields-stack.ts';
import { jwt } from './support/jwt-stack.ts';

/** team_ids_jwt_field with a token listing several teams, on a live stack: which team a call is billed to, and the refusal when none may call the model. */

useJwtFieldsStack();

describe('team_ids_jwt_field listing several teams', () => {
  it('bills each model call to the first listed team that exists and may call the model (a blocked one refuses: jwt-auth-guards)', async () => {
    await admin('/team/new', { team_id: 'g-narrow', models: ['gpt-x'] });
    await admin('/team/new', { team_id: 'g-wide', models: ['mock-gpt'] });
    const token = jwt({ sub: 'grp-user', groups: ['g-missing', 'g-narrow', 'g-wide'] });
    const toMock = await chat(token);
    expect(toMock.status, JSON.stringify(toMock.error)).toBe(200);
    expect((await loggedRow(toMock.callId)).team_id).toBe('g-wide');
    const toX = await chat(token, undefined, 'gpt-x');
    expect(toX.status, JSON.stringify(toX.error)).toBe(200);
    expect((await loggedRow(toX.callId)).team_id).toBe('g-narrow');
  });

  it('chooses among the teams this token lists, not those another token of the same user listed', async () => {
    await admin('/team/new', { team_id: 'g-twin-x', models: ['gpt-x'] });
    await admin('/team/new', { team_id: 'g-second-a', models: ['mock-gpt'] });
    await admin('/team/new', { team_id: 'g-second-b', models: ['mock-gpt'] });
    const first = await chat(jwt({ sub: 'grp-twin', groups: ['g-twin-x', 'g-second-a'] }));
    expect((await loggedRow(first.callId)).team_id).toBe('g-second-a');
    const second = await chat(jwt({ sub: 'grp-twin', groups: ['g-twin-x', 'g-second-b'] }));
    expect((await loggedRow(second.callId)).team_id).toBe('g-second-b');
  });

  it('refuses a model no listed team may call with LiteLLM\'s 403 naming the teams, and creates no team', async () => {
    await admin('/team/new', { team_id: 'g-only-x', models: ['gpt-x'] });
    const out = await chat(jwt({ sub: 'grp-user', groups: ['g-ghost', 'g-only-x'] }));
    expect(out.status).toBe(403);
    expect(out.error?.message).toContain('No team has access to the requested model: mock-gpt');
    expect(out.error?.message).toContain('g-only-x');
    expect(await rows('SELECT 1 FROM "LiteLLM_TeamTable" WHERE team_id = $1', ['g-ghost'])).toEqual([]);
  });
});
