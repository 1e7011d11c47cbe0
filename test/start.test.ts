import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../scripts/lib/build.ts';
import { freePort } from '../scripts/lib/free-port.ts';
import { query } from './support/pg-client.ts';
import { alive, descendants } from './support/processes.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  output: () => string;
  baseUrl: string;
  masterKey: string;
  databaseUrl: string;
}

/** `npm start` as a new user runs it: no DATABASE_URL, no master key, only the data dir and port chosen. */
async function npmStart(port: number): Promise<Started> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), TOLLGATE_DATA_DIR: dataDir };
  delete env.DATABASE_URL;
  delete env.LITELLM_MASTER_KEY;
  const child = spawn(process.execPath, [join(ROOT, 'scripts/start.ts')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const deadline = Date.now() + 120_000;
  while (!output.includes('Ctrl-C stops everything')) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const field = (label: string) => new RegExp(`${label}:\\s+(\\S+)`).exec(output)?.[1] ?? '';
  return { child, output: () => output, baseUrl: field('Base URL'), masterKey: field('Master key'), databaseUrl: field('Database') };
}

/**
 * npmStart on a free port. A port found free can be taken by another suite's server (they run in parallel)
 * before npm start, which builds first, binds it: then it is tried again on another port.
 */
async function npmStartOnFreePort(): Promise<{ port: number; started: Started }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { port, started: await npmStart(port) };
    } catch (err) {
      if (attempt >= 3 || !String(err).includes('Address already in use')) throw err;
    }
  }
}

async function stop(started: Started): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => started.child.on('exit', (code) => resolve(code)));
  started.child.kill('SIGINT');
  return exited;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
}

describe('npm start', () => {
  it('runs the whole gateway on embedded defaults, serves a mock chat completion, and stops cleanly', async () => {
    const { port, started } = await npmStartOnFreePort();
    try {
      expect(started.baseUrl).toBe(`http://127.0.0.1:${port}`);
      expect(started.masterKey).toMatch(/^sk-[A-Za-z0-9_-]{20,}$/);
      expect(started.databaseUrl).toMatch(/^postgres:\/\/postgres:\*{4}@127\.0\.0\.1:\d+\/postgres$/);
      expect(started.output()).toContain(`curl ${started.baseUrl}/v1/chat/completions`);
      expect(started.output()).toContain('new OpenAI({ baseURL:');

      const ready = await (await fetch(`${started.baseUrl}/health/readiness`)).json();
      expect(ready).toMatchObject({ status: 'connected', db: 'connected' });
      expect(await (await fetch(`${started.baseUrl}/health/liveliness`)).json()).toBe("I'm alive!");

      const client = new OpenAI({ baseURL: `${started.baseUrl}/v1`, apiKey: started.masterKey, maxRetries: 0 });
      const completion = await client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'Hello' }] });
      expect(completion.choices[0]?.message.content).toBe('This is a mock response from Tollgate.');
      expect(completion.usage?.total_tokens).toBeGreaterThan(0);

      const wrongKey = new OpenAI({ baseURL: `${started.baseUrl}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
      await expect(wrongKey.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'Hi' }] }))
        .rejects.toBeInstanceOf(OpenAI.AuthenticationError);

      // The printed database URL works for psql-style clients (PGlite takes any password), migrations applied.
      const url = started.databaseUrl.replace('****', 'anything');
      const finance = await query(url, `SELECT team_alias, date_trunc('day', created_at) AS day, SUM(spend) AS daily_spend_usd, COUNT(*) AS requests
        FROM "LiteLLM_SpendLogs" s JOIN "LiteLLM_TeamTable" t ON t.team_id = s.team_id
        WHERE created_at >= NOW() - INTERVAL '30 days' GROUP BY 1, 2 ORDER BY 2 DESC, 3 DESC`);
      expect(finance).toEqual([]);
      await query(url, `INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias) VALUES ('kept', 'kept-between-runs')`);
    } finally {
      const children = descendants(started.child.pid ?? 0);
      const dbPort = Number(new URL(started.databaseUrl.replace('****', 'x')).port || 0);
      expect(await stop(started)).toBe(0);
      // Nothing it started is left running or listening.
      await new Promise((r) => setTimeout(r, 500));
      expect(children.filter(alive)).toEqual([]);
      expect(await portOpen(port)).toBe(false);
      if (dbPort) expect(await portOpen(dbPort)).toBe(false);
    }
  }, 240_000);

  it('keeps the generated master key and the database between runs', async () => {
    const saved = readFileSync(join(dataDir, 'master_key'), 'utf8').trim();
    const { started } = await npmStartOnFreePort();
    try {
      expect(started.masterKey).toBe(saved);
      const url = started.databaseUrl.replace('****', 'anything');
      expect(await query(url, `SELECT team_alias FROM "LiteLLM_TeamTable" WHERE team_id = 'kept'`)).toEqual([{ team_alias: 'kept-between-runs' }]);
      const client = new OpenAI({ baseURL: `${started.baseUrl}/v1`, apiKey: started.masterKey, maxRetries: 0 });
      const stream = await client.chat.completions.create({ model: 'mock-gpt', stream: true, messages: [{ role: 'user', content: 'Hello' }] });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe('This is a mock response from Tollgate.');
    } finally {
      expect(await stop(started)).toBe(0);
    }
  }, 240_000);
});
