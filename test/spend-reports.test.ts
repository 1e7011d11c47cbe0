import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generalSettingsSchema } from '../worker/config/general-settings-schema.ts';
import { type FakeSlack, startFakeSlack } from './fakes/slack.ts';
import { eventually, seedKey, seedTeam } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's spend reports (alert type spend_reports, general_settings.spend_report_frequency): the admin
// Worker's cron tick after a period ends posts spend per team and per tag to Slack, once per period however
// many ticks (or admin isolates) run; /health/services?service=slack sends them at once.

const DAY_MS = 86_400_000;
/** A period's report is due 10 minutes after it ends (spend still landing in the rollups is counted). */
const DUE_MS = 10 * 60_000;
/** A client's tag that tries to fake report rows, ping the channel and post a link. */
const EVIL_TAG = 'x`\nTag: `fake` | Spend: `$999`\n<!channel> <https://phish.test|log in> & co';
let slack: FakeSlack;
let stack: TestStack;
/** When the spend was made: the periods the tests look at are this one's (today, this month). */
let t0 = Date.now();

beforeAll(async () => {
  // The spend and the checks on it must fall on one UTC day: a run starting just before midnight waits it out.
  const toMidnight = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) + DAY_MS - Date.now();
  if (toMidnight < 3 * 60_000) await new Promise((r) => setTimeout(r, toMidnight + 1_000));
  t0 = Date.now();
  slack = await startFakeSlack();
  // Each mock call costs 1 output token at $0.0625.
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok", input_cost_per_token: 0, output_cost_per_token: 0.0625}
general_settings:
  alerting: ["slack"]
  spend_report_frequency: "1d"
`,
    env: { SLACK_WEBHOOK_URL: slack.url },
  });
  await seedTeam(stack.db.url, { id: 'team-alpha-id', alias: 'alpha' });
  await seedTeam(stack.db.url, { id: 'team-beta-id', alias: 'beta' });
  const alpha = await seedKey(stack.db.url, { teamId: 'team-alpha-id' });
  const beta = await seedKey(stack.db.url, { teamId: 'team-beta-id' });
  const loner = await seedKey(stack.db.url);
  const call = (key: string, tags?: string) => new OpenAI({ apiKey: key, baseURL: `${stack.url}/v1`, maxRetries: 0 }).chat.completions.create(
    { model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }, tags ? { headers: { 'x-litellm-tags': tags } } : undefined);
  const evil = fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${alpha}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }], tags: [EVIL_TAG] }),
  }).then((r) => expect(r.status).toBe(200));
  await Promise.all([call(alpha, 'billing'), call(alpha, 'billing'), call(alpha), call(beta), call(loner), call(loner), evil]);
  // The consumer's daily rollups are what the report reads.
  await eventually(async () => {
    const [row] = await query<{ n: number }>(stack.db.url, 'SELECT COALESCE(SUM(api_requests), 0)::int AS n FROM "LiteLLM_DailyKeySpend"');
    return row && row.n >= 7 ? true : undefined;
  }, 30_000);
}, 300_000);
afterAll(async () => {
  await stack?.stop();
  await slack?.close();
});

/** The UTC midnight after t0: the end of the spend's 1d period. */
const nextMidnight = () => Date.UTC(new Date(t0).getUTCFullYear(), new Date(t0).getUTCMonth(), new Date(t0).getUTCDate()) + DAY_MS;
const dateShown = (ms: number) => {
  const d = new Date(ms).toISOString();
  return `${d.slice(5, 7)}-${d.slice(8, 10)}-${d.slice(0, 4)}`;
};
const reports = () => slack.matching(/💸 Spend Report for/);

describe('spend reports on the cron tick', () => {
  it('posts spend per team and per tag, biggest first, once for the period just ended, retrying a failed post', async () => {
    const end = nextMidnight();
    // Mid-period, and in the first 10 minutes after it ends (spend may still land in the rollups): not due.
    const attempts = slack.attempts;
    await stack.scheduled('admin', end - 5 * 60_000);
    await stack.scheduled('admin', end + DUE_MS - 30_000);
    expect(slack.attempts).toBe(attempts);

    // Slack fails the first post (a 500, for now): the claim is given back, and the next ticks send it,
    // two admin isolates racing for it: one report.
    slack.failNext(1, 500);
    await stack.scheduled('admin', end + DUE_MS + 30_000);
    expect(reports()).toHaveLength(0);
    expect(slack.attempts).toBe(attempts + 1);
    await Promise.all([stack.scheduled('admin', end + DUE_MS + 90_000), stack.scheduled('admin', end + DUE_MS + 90_000)]);
    expect(reports()).toHaveLength(1);
    const today = dateShown(end - DAY_MS);
    // The client's tag is shown as text: no second line, no closed code span, no ping, no link.
    expect(reports()[0]!.text).toBe(
      `*💸 Spend Report for \`${today} - ${today}\` (1 days)*\n`
      + '\n*Team Spend Report:*\n'
      + 'Team: `alpha` | Spend: `$0.25`\n'
      + 'Team: `None` | Spend: `$0.125`\n'
      + 'Team: `beta` | Spend: `$0.0625`\n'
      + '\n*Tag Spend Report:*\n'
      + 'Tag: `billing` | Spend: `$0.125`\n'
      + "Tag: `x' Tag: 'fake' | Spend: '$999' &lt;!channel&gt; &lt;https://phish.test|log in&gt; &amp; co` | Spend: `$0.0625`\n");

    // Later ticks of the same period: no second report.
    await stack.scheduled('admin', end + DUE_MS + 30 * 60_000);
    expect(reports()).toHaveLength(1);

    // The next period had no spend: LiteLLM sends nothing then.
    await stack.scheduled('admin', end + DAY_MS + DUE_MS + 30_000);
    expect(reports()).toHaveLength(1);
  });

  it('races the first claim of a period: two admin isolates at once send one report', async () => {
    // Today's period as if no tick had claimed it yet (no row, as before the first report ever).
    await query(stack.db.url, `DELETE FROM "LiteLLM_Config" WHERE param_name = 'tollgate_spend_report'`);
    const before = reports().length;
    const at = nextMidnight() + DUE_MS + 5_000;
    await Promise.all([stack.scheduled('admin', at), stack.scheduled('admin', at), stack.scheduled('admin', at)]);
    expect(reports()).toHaveLength(before + 1);
  });

  it('does not try again a report Slack refuses for good (a revoked webhook\'s 404)', async () => {
    await query(stack.db.url, `DELETE FROM "LiteLLM_Config" WHERE param_name = 'tollgate_spend_report'`);
    const end = nextMidnight();
    const before = reports().length;
    const attempts = slack.attempts;
    slack.failNext(1, 404);
    await stack.scheduled('admin', end + DUE_MS + 10_000);
    expect(slack.attempts).toBe(attempts + 1);
    await stack.scheduled('admin', end + DUE_MS + 70_000);
    await stack.scheduled('admin', end + DUE_MS + 130_000);
    expect(slack.attempts).toBe(attempts + 1);
    expect(reports()).toHaveLength(before);
  });

  it('sends the month just ended on the 1st, once, even when two ticks race', async () => {
    const now = new Date(t0);
    const firstOfNext = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    await stack.scheduled('admin', firstOfNext + 20_000);
    expect(slack.matching(/Monthly Spend Report/)).toHaveLength(0);
    await Promise.all([stack.scheduled('admin', firstOfNext + DUE_MS + 20_000), stack.scheduled('admin', firstOfNext + DUE_MS + 20_000)]);
    const monthly = slack.matching(/Monthly Spend Report/);
    expect(monthly).toHaveLength(1);
    const first = dateShown(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const last = dateShown(firstOfNext - DAY_MS);
    expect(monthly[0]!.text).toContain(`Monthly Spend Report for \`${first} - ${last}\``);
    expect(monthly[0]!.text).toContain('Team: `alpha` | Spend: `$0.25`');
    expect(monthly[0]!.text).toContain('Tag: `billing` | Spend: `$0.125`');
  });
});

describe('GET /health/services?service=slack', () => {
  it('sends the spend reports now, for a proxy admin only', async () => {
    const refused = await fetch(`${stack.url}/health/services?service=slack`, { headers: { authorization: `Bearer ${await seedKey(stack.db.url)}` } });
    expect(refused.status).toBe(403);
    const before = reports().length;
    const res = await fetch(`${stack.url}/health/services?service=slack`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { alert_types: string[] }).alert_types).toContain('spend_reports');
    const sent = await slack.waitFor(/💸 Spend Report for/, before + 1);
    const today = dateShown(t0);
    // The last spend_report_frequency (1d) up to today, and the month so far.
    expect(sent.at(-1)!.text).toContain(`Spend Report for \`${today} - ${today}\` (1 days)`);
    expect(sent.at(-1)!.text).toContain('Team: `alpha` | Spend: `$0.25`');
    await slack.waitFor(/Monthly Spend Report/, 2);
  });
});

describe('alert_types without spend_reports', () => {
  let quiet: TestStack;
  beforeAll(async () => {
    quiet = await startTestStack({
      configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok", input_cost_per_token: 0, output_cost_per_token: 0.0625}
general_settings:
  alerting: ["slack"]
  alert_types: ["budget_alerts"]
  spend_report_frequency: "1d"
`,
      env: { SLACK_WEBHOOK_URL: slack.url },
    });
  }, 60_000);
  afterAll(async () => quiet?.stop());

  it('sends no report, though there was spend', async () => {
    const key = await seedKey(quiet.db.url);
    await new OpenAI({ apiKey: key, baseURL: `${quiet.url}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] });
    await eventually(async () => {
      const [row] = await query<{ n: number }>(quiet.db.url, 'SELECT COALESCE(SUM(api_requests), 0)::int AS n FROM "LiteLLM_DailyKeySpend"');
      return row && row.n >= 1 ? true : undefined;
    }, 30_000);
    const attempts = slack.attempts;
    await quiet.scheduled('admin', nextMidnight() + DUE_MS + 30_000);
    expect(slack.attempts).toBe(attempts);
  });
});

describe('general_settings.spend_report_frequency', () => {
  it('takes a number of days and refuses anything else, as LiteLLM does', () => {
    for (const ok of ['30d', '1d', '7D', '07d']) expect(generalSettingsSchema.safeParse({ spend_report_frequency: ok }).success, ok).toBe(true);
    for (const bad of ['0d', '00d', '7', 'd', '1.5d']) expect(generalSettingsSchema.safeParse({ spend_report_frequency: bad }).success, bad).toBe(false);
    const refused = generalSettingsSchema.safeParse({ spend_report_frequency: '12h' });
    expect(refused.success).toBe(false);
    expect(JSON.stringify(refused.error?.issues)).toContain('number of days');
  });
});
