import type { GatewayEnv } from '../../env.ts';
import { ALERT_WINDOW_MS, type GateState, passGate } from '../alerts/gate.ts';
import { candidateText } from '../alerts/messages.ts';
import { alertEnabled, alertSettings } from '../alerts/settings.ts';
import { backoffMs, postJson, postToSlack, SLACK_MAX_ATTEMPTS } from '../alerts/slack.ts';
import type { AlertCandidate } from '../alerts/types.ts';
import { enqueueUrl, withRoutingKey } from '../alerts/pagerduty.ts';
import type { EmailGate } from '../alerts/gate.ts';
import { budgetEmailSettings } from '../email/budget-settings.ts';
import { outboxEmailSubject, sendOutboxEmail } from '../email/outbox-email.ts';
import { log } from '../log.ts';
import { writeCapped } from './capped-state.ts';

const MAX_ALERT_KEYS = 10_000;
/** Budget email gates kept at most (their own table: a flood of them cannot push out the Slack dedupe state). */
const MAX_EMAIL_GATES = 10_000;
/** Undelivered Slack messages kept at most; beyond, new alerts are dropped (logged). */
const MAX_OUTBOX = 1_000;

type Row = Record<string, SqlStorageValue>;
export type OutboxKind = 'slack' | 'webhook' | 'pagerduty' | 'email';

const DESTINATION: Record<OutboxKind, string> = { slack: 'Slack', webhook: 'the webhook', pagerduty: 'PagerDuty', email: 'the email provider' };

/** A message as a log line names it: an email by its subject (never its recipient or body), the rest by their first line. */
const summary = (text: string, kind: OutboxKind): string => (kind === 'email' ? outboxEmailSubject(text) : (text.split('\n')[0] ?? '').slice(0, 200));

/**
 * The alerting of one metrics shard: per-key dedupe state (`alert_state`) and
 * an outbox of Slack messages, webhook and PagerDuty events and budget emails (`outbox`) that the alarm delivers with retries,
 * so nothing is sent from a request's path.
 */
export class ShardAlerts {
  readonly #storage: DurableObjectStorage;
  readonly #env: GatewayEnv;
  #state = new Map<string, unknown>();
  /** Budget email gates: no email of a kind to an entity before `until` (email/budget-due.ts). */
  #emailGates = new Map<string, number>();

  constructor(storage: DurableObjectStorage, env: GatewayEnv) {
    this.#storage = storage;
    this.#env = env;
  }

  /** Creates the tables and reads back the dedupe state. */
  load(): void {
    const sql = this.#storage.sql;
    sql.exec('CREATE TABLE IF NOT EXISTS alert_state (key TEXT PRIMARY KEY, data TEXT NOT NULL)');
    sql.exec('CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, text TEXT NOT NULL, attempts INTEGER NOT NULL, due INTEGER NOT NULL)');
    // Where a message goes: 'slack' (its text), 'webhook' or 'pagerduty' (a JSON event), 'email' (outbox-email.ts); outboxes from before it are Slack's.
    const columns = sql.exec<{ name: string }>('PRAGMA table_info(outbox)').toArray().map((c) => c.name);
    if (!columns.includes('kind')) sql.exec("ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'slack'");
    sql.exec('CREATE TABLE IF NOT EXISTS email_gate (key TEXT PRIMARY KEY, until INTEGER NOT NULL)');
    sql.exec('DELETE FROM email_gate WHERE until <= ?', Date.now());
    for (const row of sql.exec<{ key: string; until: number }>('SELECT key, until FROM email_gate ORDER BY until')) this.#emailGates.set(row.key, Number(row.until));
    for (const row of sql.exec<{ key: string; data: string }>('SELECT key, data FROM alert_state')) {
      try {
        this.#state.set(row.key, JSON.parse(row.data));
      } catch {
        // ignore
      }
    }
  }

  /** A slow-request, cooldown or callback alert: sent once per dedupe key per window, the rest counted as suppressed. */
  candidate(a: AlertCandidate, thresholdS: number): void {
    if (!a || typeof a.dedupe !== 'string' || !(a.type in ALERT_WINDOW_MS)) return;
    const settings = alertSettings(this.#env);
    if (!alertEnabled(settings, a.type)) return;
    const key = `alert:${a.dedupe}`;
    const gate = passGate(this.#state.get(key) as GateState | undefined, Date.now(), ALERT_WINDOW_MS[a.type]);
    if (!gate.send) {
      this.#state.set(key, gate.next);
      return;
    }
    this.save(key, gate.next);
    this.enqueue(candidateText(a, thresholdS, gate.suppressed));
  }

  /** The dedupe state kept under `key` (undefined when none). */
  get(key: string): unknown {
    return this.#state.get(key);
  }

  /** Keeps `state` under `key`, in memory and storage; past MAX_ALERT_KEYS the key written longest ago goes (capped-state.ts). */
  save(key: string, state: unknown): void {
    const evicted = writeCapped(this.#state, key, state, MAX_ALERT_KEYS);
    if (evicted !== undefined) this.#storage.sql.exec('DELETE FROM alert_state WHERE key = ?', evicted);
    this.#storage.sql.exec('INSERT OR REPLACE INTO alert_state (key, data) VALUES (?, ?)', key, JSON.stringify(state));
  }

  /** A budget email's gate (undefined when none, or expired). */
  emailGate(key: string): EmailGate | undefined {
    const until = this.#emailGates.get(key);
    return until === undefined || until <= Date.now() ? undefined : { until };
  }

  /**
   * Closes a budget email's gate until `until`. Expired gates are deleted once the table is full, before the gate
   * written longest ago is (which at worst lets one email repeat early).
   */
  saveEmailGate(key: string, until: number): void {
    const sql = this.#storage.sql;
    if (!this.#emailGates.has(key) && this.#emailGates.size >= MAX_EMAIL_GATES) {
      const now = Date.now();
      for (const [k, u] of this.#emailGates) if (u <= now) this.#emailGates.delete(k);
      sql.exec('DELETE FROM email_gate WHERE until <= ?', now);
    }
    const evicted = writeCapped(this.#emailGates, key, until, MAX_EMAIL_GATES);
    if (evicted !== undefined) sql.exec('DELETE FROM email_gate WHERE key = ?', evicted);
    sql.exec('INSERT OR REPLACE INTO email_gate (key, until) VALUES (?, ?)', key, until);
  }

  /**
   * Puts a message in the outbox (a Slack text, a webhook event's JSON, an email) and wakes the alarm to deliver
   * it; false when the outbox is full and the message was dropped (logged).
   */
  enqueue(text: string, kind: OutboxKind = 'slack'): boolean {
    const sql = this.#storage.sql;
    const queued = Number(sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM outbox').one().n);
    if (queued >= MAX_OUTBOX) {
      log.error(`alerts: outbox full (${queued} undelivered), alert dropped: ${summary(text, kind)}`);
      return false;
    }
    const now = Date.now();
    sql.exec('INSERT INTO outbox (text, attempts, due, kind) VALUES (?, 0, ?, ?)', text, now, kind);
    void this.#storage.setAlarm(now);
    return true;
  }

  /** Delivers the due messages of the outbox, in order; failures are retried with backoff, then dropped (logged). */
  async deliver(): Promise<void> {
    const sql = this.#storage.sql;
    const { webhookUrl, genericWebhookUrl, pagerduty } = alertSettings(this.#env);
    const routingKey = pagerduty ? this.#env.PAGERDUTY_API_KEY : undefined;
    const email = budgetEmailSettings(this.#env as Record<string, unknown>)?.email;
    const rows = sql.exec<Row>('SELECT id, text, attempts, due, kind FROM outbox ORDER BY id').toArray();
    for (const row of rows) {
      const id = Number(row.id);
      const attempts = Number(row.attempts);
      const now = Date.now();
      if (Number(row.due) > now) continue;
      const kind = String(row.kind) as OutboxKind;
      const text = String(row.text);
      const toWebhook = kind === 'webhook';
      const toPagerDuty = kind === 'pagerduty';
      const toEmail = kind === 'email';
      const url = toEmail ? email?.apiBase : toPagerDuty ? (routingKey ? enqueueUrl(this.#env as Record<string, unknown>) : undefined) : toWebhook ? genericWebhookUrl : webhookUrl;
      if (!url) {
        sql.exec('DELETE FROM outbox WHERE id = ?', id);
        continue;
      }
      // The routing key and the email API key join the request only here: the outbox never holds them.
      const result = toEmail && email ? await sendOutboxEmail(email, text)
        : toPagerDuty ? await postJson(url, withRoutingKey(text, routingKey as string))
          : toWebhook ? await postJson(url, text) : await postToSlack(url, text);
      if (result.ok) {
        sql.exec('DELETE FROM outbox WHERE id = ?', id);
      } else if (result.permanent || attempts + 1 >= SLACK_MAX_ATTEMPTS) {
        log.error(`alerts: ${DESTINATION[kind] ?? 'Slack'} refused an alert after ${attempts + 1} attempt(s) (${result.detail}); dropped: ${summary(text, kind)}`);
        sql.exec('DELETE FROM outbox WHERE id = ?', id);
      } else {
        sql.exec('UPDATE outbox SET attempts = ?, due = ? WHERE id = ?', attempts + 1, Date.now() + (result.retryAfterMs ?? backoffMs(attempts + 1)), id);
      }
    }
    const next = sql.exec<{ due: number | null }>('SELECT MIN(due) AS due FROM outbox').one().due;
    if (next !== null && next !== undefined) await this.#storage.setAlarm(Math.max(Number(next), Date.now() + 10));
  }
}
