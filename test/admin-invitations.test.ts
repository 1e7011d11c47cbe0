import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_CONFIG, adminClient, type Json } from './support/admin.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * LiteLLM's invitation links (`/invitation/new`, `/info`, `/update`, `/delete`) and their claim by the
 * invited user (`/onboarding/get_token`, `/onboarding/claim_token`, called without a key), through the
 * gateway's URL as a client calls them.
 */

let stack: TestStack;
const { call, ok, rows, audits } = adminClient(() => stack);
const keys: Record<string, string> = {};

const INVITATION_FIELDS = ['accepted_at', 'created_at', 'created_by', 'expires_at', 'id', 'is_accepted', 'updated_at', 'updated_by', 'user_id'];
const DAY_MS = 24 * 3600 * 1000;

beforeAll(async () => {
  stack = await startTestStack({ configYaml: ADMIN_CONFIG });
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role, user_email, teams) VALUES
    ('invitee', 'internal_user', 'invitee@example.com', '{}'), ('member', 'internal_user', 'member@example.com', '{team-a}'),
    ('admin-member', 'proxy_admin', null, '{team-a}'), ('alice', 'internal_user', null, '{team-a}'), ('bob', 'internal_user', null, '{team-b}'),
    ('viewer', 'proxy_admin_viewer', null, '{}'), ('plain', 'internal_user', null, '{}'), ('org-admin', 'internal_user', null, '{}'),
    ('org-member', 'internal_user', null, '{}')`);
  await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, members_with_roles) VALUES
    ('team-a', 'A', '[{"role":"admin","user_id":"alice"},{"role":"user","user_id":"member"},{"role":"user","user_id":"admin-member"}]'),
    ('team-b', 'B', '[{"role":"admin","user_id":"bob"}]')`);
  await rows(`INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias, created_by, updated_by) VALUES ('org-1', 'One', 'x', 'x')`);
  await rows(`INSERT INTO "LiteLLM_OrganizationMembership" (user_id, organization_id, user_role) VALUES ('org-admin', 'org-1', 'org_admin'), ('org-member', 'org-1', 'internal_user')`);
  for (const user of ['alice', 'bob', 'viewer', 'plain', 'org-admin']) keys[user] = await seedKey(stack.databaseUrl, { userId: user });
});
afterAll(async () => stack?.stop());

const invite = (userId: string) => ok('/invitation/new', { user_id: userId });
const link = async (id: string): Promise<Json> => (await rows('SELECT * FROM "LiteLLM_InvitationLink" WHERE id = $1', [id]))[0]!;
const password = async (userId: string) => (await rows('SELECT password FROM "LiteLLM_UserTable" WHERE user_id = $1', [userId]))[0]?.password;
/** A claim as the invited user makes it: no key. */
const claim = (body: Json) => call('/onboarding/claim_token', body, null);
const getToken = (id: string) => call(`/onboarding/get_token?invite_link=${encodeURIComponent(id)}`, undefined, null);
describe('invitation links', () => {
  it('creates a link for an existing user, valid for seven days, and audits it', async () => {
    const created = await invite('invitee');
    expect(Object.keys(created).sort()).toEqual(INVITATION_FIELDS);
    expect(created).toMatchObject({ user_id: 'invitee', is_accepted: false, accepted_at: null, created_by: 'default_user_id', updated_by: 'default_user_id' });
    expect(Date.parse(created.expires_at) - Date.parse(created.created_at)).toBe(7 * DAY_MS);
    expect(await link(created.id)).toMatchObject({ user_id: 'invitee', is_accepted: false });
    const [audit] = await audits(sha256(created.id));
    expect(audit).toMatchObject({ action: 'created', table_name: 'LiteLLM_InvitationLink', changed_by: 'master_key' });
    expect(audit!.updated_values).toMatchObject({ user_id: 'invitee', is_accepted: false });
  });

  it("refuses a user that does not exist (LiteLLM's 400) and a bad body (422), creating nothing", async () => {
    const before = (await rows('SELECT count(*)::int AS n FROM "LiteLLM_InvitationLink"'))[0]!.n;
    const unknown = await call('/invitation/new', { user_id: 'nobody' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ message: "User id does not exist in 'LiteLLM_UserTable'. Fix this by creating user via `/user/new`.", param: 'user_id' });
    expect((await call('/invitation/new', {})).status).toBe(422);
    expect((await call('/invitation/new', { user_id: 'invitee' }, null)).status).toBe(401);
    expect((await rows('SELECT count(*)::int AS n FROM "LiteLLM_InvitationLink"'))[0]!.n).toBe(before);
  });

  it('shows a link to admins and viewers, and no one else', async () => {
    const created = await invite('invitee');
    expect(await ok(`/invitation/info?invitation_id=${created.id}`)).toEqual(created);
    expect(await ok(`/invitation/info?invitation_id=${created.id}`, undefined, keys.viewer)).toEqual(created);
    const plain = await call(`/invitation/info?invitation_id=${created.id}`, undefined, keys.plain);
    expect(plain.status).toBe(403);
    expect(plain.body.error.type).toBe('auth_error');
    const unknown = await call('/invitation/info?invitation_id=00000000-0000-0000-0000-000000000000');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe('Invitation id does not exist in the database.');
    expect((await call('/invitation/info')).status).toBe(422);
  });
});

describe('claiming a link', () => {
  it('tells the invited user, without a key, who the link is for', async () => {
    const created = await invite('invitee');
    const token = await getToken(created.id);
    expect(token.status).toBe(200);
    expect(token.body).toEqual({ user_id: 'invitee', user_email: 'invitee@example.com', user_role: 'internal_user', expires_at: created.expires_at });
    // Looking does not use the link up.
    expect((await link(created.id)).is_accepted).toBe(false);
    const unknown = await getToken('not-a-link');
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.message).toBe('Invitation link does not exist in db.');
  });

  it("sets the user's password and accepts the link, once; another user's id changes nothing", async () => {
    const created = await invite('invitee');
    await rows(`UPDATE "LiteLLM_UserTable" SET password = NULL WHERE user_id = 'invitee'`);
    const wrong = await claim({ invitation_link: created.id, user_id: 'member', password: 'hunter2-secret' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.message).toContain('The user id submitted does not match the user id this link is attached to');
    expect(await password('invitee')).toBeNull();
    expect(await password('member')).toBeNull();
    expect((await link(created.id)).is_accepted).toBe(false);

    const claimed = await claim({ invitation_link: created.id, user_id: 'invitee', password: 'hunter2-secret' });
    expect(claimed.status).toBe(200);
    expect(claimed.body).toMatchObject({ user_id: 'invitee', user_email: 'invitee@example.com', user_role: 'internal_user' });
    expect(claimed.body).not.toHaveProperty('password');
    // LiteLLM's hash, so a LiteLLM UI on the same database takes the password.
    expect(await password('invitee')).toBe(sha256('hunter2-secret'));
    const accepted = await link(created.id);
    expect(accepted.is_accepted).toBe(true);
    expect(accepted.accepted_at).not.toBeNull();
    expect(accepted.updated_by).toBe('invitee');

    const linkAudit = (await audits(sha256(created.id))).at(-1)!;
    expect(linkAudit).toMatchObject({ action: 'updated', changed_by: 'invitee' });
    expect(linkAudit.updated_values).toMatchObject({ is_accepted: true });
    const log = JSON.stringify(await rows('SELECT * FROM "LiteLLM_AuditLog"'));
    expect(log).not.toContain('hunter2-secret');
    expect(log).not.toContain(sha256('hunter2-secret'));

    const again = await claim({ invitation_link: created.id, user_id: 'invitee', password: 'other-password' });
    expect(again.status).toBe(401);
    expect(again.body.error.message).toBe('Invitation link has already been used.');
    expect(await password('invitee')).toBe(sha256('hunter2-secret'));
    expect((await getToken(created.id)).body.error.message).toBe('Invitation link has already been used.');
  });

  it('refuses an expired link and a bad claim body, changing nothing', async () => {
    const created = await invite('member');
    await rows(`UPDATE "LiteLLM_InvitationLink" SET expires_at = now() - interval '1 minute' WHERE id = $1`, [created.id]);
    const expired = await claim({ invitation_link: created.id, user_id: 'member', password: 'pw-1' });
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toBe('Invitation link has expired.');
    expect((await getToken(created.id)).body.error.message).toBe('Invitation link has expired.');
    expect(await password('member')).toBeNull();
    expect((await link(created.id)).is_accepted).toBe(false);
    const bad = await claim({ invitation_link: created.id, user_id: 'member' });
    expect(bad.status).toBe(422);
    expect(bad.body.error.param).toBe('password');
  });
});

describe('changing and deleting links', () => {
  it('marks a link accepted (then it claims nothing) and open again, audited', async () => {
    const created = await invite('invitee');
    const accepted = await ok('/invitation/update', { invitation_id: created.id, is_accepted: true });
    expect(accepted).toMatchObject({ id: created.id, is_accepted: true, updated_by: 'default_user_id' });
    expect(accepted.accepted_at).not.toBeNull();
    expect((await claim({ invitation_link: created.id, user_id: 'invitee', password: 'x' })).status).toBe(401);
    const reopened = await ok('/invitation/update', { invitation_id: created.id, is_accepted: false });
    expect(reopened).toMatchObject({ is_accepted: false, accepted_at: null });
    expect((await getToken(created.id)).status).toBe(200);
    expect((await audits(sha256(created.id))).map((a) => a.action)).toEqual(['created', 'updated', 'updated']);
    const unknown = await call('/invitation/update', { invitation_id: 'ghost', is_accepted: true });
    expect(unknown.status).toBe(400);
    expect((await call('/invitation/update', { invitation_id: created.id, is_accepted: 'yes' })).status).toBe(422);
  });

  it('deletes a link, answering the deleted row; the link then claims nothing', async () => {
    const created = await invite('invitee');
    expect(await ok('/invitation/delete', { invitation_id: created.id })).toEqual(created);
    expect(await link(created.id)).toBeUndefined();
    expect((await getToken(created.id)).body.error.message).toBe('Invitation link does not exist in db.');
    expect((await audits(sha256(created.id))).map((a) => a.action)).toEqual(['created', 'deleted']);
    expect((await call('/invitation/delete', { invitation_id: created.id })).status).toBe(400);
  });

  it("goes with its user: deleting the user deletes the user's links", async () => {
    await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('leaving', 'internal_user')`);
    const created = await invite('leaving');
    await ok('/user/delete', { user_ids: ['leaving'] });
    expect(await link(created.id)).toBeUndefined();
  });
});

describe('who may invite', () => {
  it("lets a team admin invite its team's users, but not other users or a proxy admin", async () => {
    const created = await ok('/invitation/new', { user_id: 'member' }, keys.alice);
    expect(created.created_by).toBe('alice');
    expect(await ok(`/invitation/info?invitation_id=${created.id}`, undefined, keys.alice)).toMatchObject({ id: created.id });
    expect((await ok('/invitation/update', { invitation_id: created.id, is_accepted: true }, keys.alice)).updated_by).toBe('alice');
    expect((await call(`/invitation/info?invitation_id=${created.id}`, undefined, keys.bob)).status).toBe(403);
    expect((await call('/invitation/delete', { invitation_id: created.id }, keys.bob)).status).toBe(403);
    expect(await link(created.id)).toBeDefined();
    await ok('/invitation/delete', { invitation_id: created.id }, keys.alice);

    const before = (await rows('SELECT count(*)::int AS n FROM "LiteLLM_InvitationLink"'))[0]!.n;
    for (const [key, userId] of [[keys.bob, 'member'], [keys.alice, 'admin-member'], [keys.alice, 'invitee'], [keys.plain, 'plain'], [keys.viewer, 'invitee']] as const) {
      const refused = await call('/invitation/new', { user_id: userId }, key);
      expect(refused.status, `${userId}: ${JSON.stringify(refused.body)}`).toBe(403);
      expect(refused.body.error.type).toBe('auth_error');
    }
    expect((await rows('SELECT count(*)::int AS n FROM "LiteLLM_InvitationLink"'))[0]!.n).toBe(before);
  });

  it("lets an organization admin invite its organization's members", async () => {
    expect((await ok('/invitation/new', { user_id: 'org-member' }, keys['org-admin'])).user_id).toBe('org-member');
    expect((await call('/invitation/new', { user_id: 'invitee' }, keys['org-admin'])).status).toBe(403);
  });
});

