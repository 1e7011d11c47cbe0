import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_CONFIG, adminClient, type Json } from './support/admin.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * What keeps an invitation link (its id is the only credential of the public `/onboarding/claim_token`)
 * from going further than its creator could: no id in the audit log, the creator re-checked at claim time,
 * no admin of anything invited by a team admin, no junk id reaching Postgres, and no 500 when a link
 * meets a concurrent `/user/delete`. The routes themselves: admin-invitations.test.ts.
 */

let stack: TestStack;
const { call, ok, rows, audits } = adminClient(() => stack);
const keys: Record<string, string> = {};

beforeAll(async () => {
  stack = await startTestStack({ configYaml: ADMIN_CONFIG });
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role, teams) VALUES
    ('invitee', 'internal_user', '{}'), ('alice', 'internal_user', '{team-a}'), ('viewer', 'proxy_admin_viewer', '{}')`);
  await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, members_with_roles) VALUES ('team-a', 'A', '[{"role":"admin","user_id":"alice"}]')`);
  await rows(`INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias, created_by, updated_by) VALUES ('org-1', 'One', 'x', 'x')`);
  for (const user of ['alice', 'viewer']) keys[user] = await seedKey(stack.databaseUrl, { userId: user });
});
afterAll(async () => stack?.stop());

const invite = (userId: string) => ok('/invitation/new', { user_id: userId });
const link = async (id: string): Promise<Json> => (await rows('SELECT * FROM "LiteLLM_InvitationLink" WHERE id = $1', [id]))[0]!;
const password = async (userId: string) => (await rows('SELECT password FROM "LiteLLM_UserTable" WHERE user_id = $1', [userId]))[0]?.password;
const claim = (body: Json) => call('/onboarding/claim_token', body, null);
const getToken = (id: string) => call(`/onboarding/get_token?invite_link=${encodeURIComponent(id)}`, undefined, null);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A user in team-a as a plain member (its teams and members_with_roles both say so). */
async function teamAMember(userId: string, role = 'internal_user') {
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role, teams) VALUES ($1, $2, '{team-a}')`, [userId, role]);
  await rows(`UPDATE "LiteLLM_TeamTable" SET members_with_roles = members_with_roles || jsonb_build_array(jsonb_build_object('role', 'user', 'user_id', $1::text)) WHERE team_id = 'team-a'`, [userId]);
}
/** Runs `work` in a transaction of the test's own, holding its locks until `work` ends (as a concurrent request would). */
async function inTransaction(work: (client: pg.Client) => Promise<void>) {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await work(client);
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

describe('link secrecy', () => {
  it('keeps link ids out of the audit log a viewer reads, under a hashed object id', async () => {
    const created = await invite('invitee');
    await ok('/invitation/update', { invitation_id: created.id, is_accepted: true });
    await ok('/invitation/update', { invitation_id: created.id, is_accepted: false });
    expect((await claim({ invitation_link: created.id, user_id: 'invitee', password: 'secret-pw' })).status).toBe(200);
    const other = await invite('invitee');
    await ok('/invitation/delete', { invitation_id: other.id });
    // Its history is still found by whoever holds the link.
    expect((await audits(sha256(created.id))).map((a) => a.action)).toEqual(['created', 'updated', 'updated', 'updated']);
    expect((await audits(sha256(other.id))).map((a) => a.action)).toEqual(['created', 'deleted']);
    const viewed = await ok('/audit?table_name=LiteLLM_InvitationLink&page_size=100', undefined, keys.viewer);
    const text = JSON.stringify(viewed);
    expect(text).toContain(sha256(created.id));
    const everyLink = (await rows('SELECT id FROM "LiteLLM_InvitationLink"')).map((r) => r.id as string);
    for (const id of [created.id, other.id, ...everyLink]) expect(text).not.toContain(id);
    expect(JSON.stringify(await rows('SELECT * FROM "LiteLLM_AuditLog"'))).not.toContain(created.id);
  });

  it('refuses an id not shaped like a link without asking the database', async () => {
    await rows('ALTER TABLE "LiteLLM_InvitationLink" RENAME TO "invitation_links_away"');
    try {
      for (const junk of ['not-a-link', "x' OR '1'='1", '00000000-0000-0000-0000-00000000000g']) {
        const token = await getToken(junk);
        expect(token.status, JSON.stringify(token.body)).toBe(401);
        expect(token.body.error.message).toBe('Invitation link does not exist in db.');
        const claimed = await claim({ invitation_link: junk, user_id: 'invitee', password: 'pw' });
        expect(claimed.status, JSON.stringify(claimed.body)).toBe(401);
        expect(claimed.body.error.message).toBe('Invitation link does not exist in db.');
      }
    } finally {
      await rows('ALTER TABLE "invitation_links_away" RENAME TO "LiteLLM_InvitationLink"');
    }
  });
});

describe('claims re-check who made the link', () => {
  it("refuses a team admin's link once its user is promoted or has left the team, changing nothing", async () => {
    await teamAMember('promoted');
    await teamAMember('departed');
    const forPromoted = await ok('/invitation/new', { user_id: 'promoted' }, keys.alice);
    const forDeparted = await ok('/invitation/new', { user_id: 'departed' }, keys.alice);
    await rows(`UPDATE "LiteLLM_UserTable" SET user_role = 'proxy_admin' WHERE user_id = 'promoted'`);
    await rows(`UPDATE "LiteLLM_UserTable" SET teams = '{}' WHERE user_id = 'departed'`);
    await rows(`UPDATE "LiteLLM_TeamTable" SET members_with_roles = (SELECT jsonb_agg(m) FROM jsonb_array_elements(members_with_roles) m WHERE m->>'user_id' <> 'departed') WHERE team_id = 'team-a'`);
    for (const [created, userId] of [[forPromoted, 'promoted'], [forDeparted, 'departed']] as const) {
      const refused = await claim({ invitation_link: created.id, user_id: userId, password: 'takeover-pw' });
      expect(refused.status, JSON.stringify(refused.body)).toBe(401);
      expect(refused.body.error).toMatchObject({ type: 'auth_error' });
      expect(refused.body.error.message).toContain('Invitation link is no longer valid');
      expect(await password(userId)).toBeNull();
      expect((await link(created.id)).is_accepted).toBe(false);
    }
  });

  it("keeps a proxy admin's link good after its user is promoted", async () => {
    await teamAMember('promoted-by-master');
    const created = await invite('promoted-by-master');
    await rows(`UPDATE "LiteLLM_UserTable" SET user_role = 'proxy_admin' WHERE user_id = 'promoted-by-master'`);
    expect((await claim({ invitation_link: created.id, user_id: 'promoted-by-master', password: 'pw-ok' })).status).toBe(200);
    expect(await password('promoted-by-master')).toBe(sha256('pw-ok'));
  });
});

describe('team and organization admins invite only users without an admin role', () => {
  it("refuses a team member who is an org_admin, or an admin of another team or organization", async () => {
    await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, members_with_roles) VALUES ('team-c', 'C', '[{"role":"admin","user_id":"dual-team"}]')`);
    await teamAMember('dual-team');
    await teamAMember('dual-team-legacy');
    await rows(`UPDATE "LiteLLM_TeamTable" SET admins = '{dual-team-legacy}' WHERE team_id = 'team-c'`);
    await teamAMember('role-org-admin', 'org_admin');
    await teamAMember('dual-org');
    await rows(`INSERT INTO "LiteLLM_OrganizationMembership" (user_id, organization_id, user_role) VALUES ('dual-org', 'org-1', 'org_admin')`);
    await teamAMember('plain-member');
    const before = (await rows('SELECT count(*)::int AS n FROM "LiteLLM_InvitationLink"'))[0]!.n;
    for (const userId of ['dual-team', 'dual-team-legacy', 'role-org-admin', 'dual-org']) {
      const refused = await call('/invitation/new', { user_id: userId }, keys.alice);
      expect(refused.status, `${userId}: ${JSON.stringify(refused.body)}`).toBe(403);
      expect(refused.body.error.type).toBe('auth_error');
    }
    expect((await rows('SELECT count(*)::int AS n FROM "LiteLLM_InvitationLink"'))[0]!.n).toBe(before);
    expect((await ok('/invitation/new', { user_id: 'plain-member' }, keys.alice)).user_id).toBe('plain-member');
    // A proxy admin still invites any of them.
    expect((await invite('dual-org')).user_id).toBe('dual-org');
  });
});

describe('races with /user/delete', () => {
  it('answers a link for a user deleted meanwhile with the 400, not a 500', async () => {
    await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('deleted-meanwhile', 'internal_user')`);
    let answer: Awaited<ReturnType<typeof call>> | undefined;
    await inTransaction(async (client) => {
      await client.query(`SELECT * FROM "LiteLLM_UserTable" WHERE user_id = 'deleted-meanwhile' FOR UPDATE`);
      await client.query(`DELETE FROM "LiteLLM_UserTable" WHERE user_id = 'deleted-meanwhile'`);
      const pending = call('/invitation/new', { user_id: 'deleted-meanwhile' }).then((r) => (answer = r));
      await sleep(700);
      expect(answer).toBeUndefined();
      void pending;
    });
    await expect.poll(() => answer, { timeout: 10_000 }).toBeDefined();
    expect(answer!.status, JSON.stringify(answer!.body)).toBe(400);
    expect(answer!.body.error.message).toContain("User id does not exist in 'LiteLLM_UserTable'");
    expect(await rows(`SELECT * FROM "LiteLLM_InvitationLink" WHERE user_id = 'deleted-meanwhile'`)).toEqual([]);
  });

  it('refuses an unknown link, or another user\'s, with its 401 without waiting on the row of the user it names', async () => {
    await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('locked-user', 'internal_user'), ('link-owner', 'internal_user')`);
    const others = await invite('link-owner');
    // A claim queued behind the lock would wait until the transaction ends; 8 s leaves a loaded machine room.
    const blocked = async (body: Json) => Promise.race([claim(body), sleep(8_000).then(() => 'blocked' as const)]);
    await inTransaction(async (client) => {
      // A concurrent request holding the user's row: a claim that cannot succeed must not queue behind it.
      await client.query(`SELECT * FROM "LiteLLM_UserTable" WHERE user_id = 'locked-user' FOR UPDATE`);
      const unknown = await blocked({ invitation_link: crypto.randomUUID(), user_id: 'locked-user', password: 'pw' });
      expect(unknown).not.toBe('blocked');
      expect(unknown).toMatchObject({ status: 401, body: { error: { message: 'Invitation link does not exist in db.', type: 'auth_error' } } });
      const mismatched = await blocked({ invitation_link: others.id, user_id: 'locked-user', password: 'pw' });
      expect(mismatched).not.toBe('blocked');
      expect(mismatched).toMatchObject({ status: 401 });
      expect((mismatched as { body: Json }).body.error.message).toContain('does not match the user id this link is attached to');
    });
    expect(await password('locked-user')).toBeNull();
    expect(await link(others.id)).toMatchObject({ is_accepted: false });
  });

  it('lets a claim and a delete of its user meet without a deadlock', async () => {
    await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('claim-vs-delete', 'internal_user')`);
    const created = await invite('claim-vs-delete');
    let answer: Awaited<ReturnType<typeof call>> | undefined;
    await inTransaction(async (client) => {
      // /user/delete's order: the user locked, then deleted (its links go by cascade).
      await client.query(`SELECT * FROM "LiteLLM_UserTable" WHERE user_id = 'claim-vs-delete' FOR UPDATE`);
      void claim({ invitation_link: created.id, user_id: 'claim-vs-delete', password: 'pw' }).then((r) => (answer = r));
      await sleep(700);
      await client.query(`DELETE FROM "LiteLLM_UserTable" WHERE user_id = 'claim-vs-delete'`);
    });
    await expect.poll(() => answer, { timeout: 10_000 }).toBeDefined();
    expect(answer!.status, JSON.stringify(answer!.body)).toBe(401);
    expect(answer!.body.error.message).toBe('Invitation link does not exist in db.');
    expect(await link(created.id)).toBeUndefined();
  });
});
