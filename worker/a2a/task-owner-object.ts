/**
 * One Durable Object per A2A task or context id the gateway saw an agent hand out (`task:<agent_id>:<id>`,
 * `context:<agent_id>:<id>`; task-owners.ts): who it belongs to, until its TTL ends. An object of its own per
 * id, so the record is strictly consistent (a `tasks/get` right after the `message/send` that made the task,
 * from any isolate or replica, sees it) and no agent's tasks queue behind one object. The alarm drops the record
 * when it expires, so a task never named again costs no storage.
 */
import { DurableObject } from 'cloudflare:workers';
import type { GatewayEnv } from '../env.ts';

interface OwnerRecord {
  owner: string;
  expiresAt: number;
}

const KEY = 'owner';

export class A2aTaskOwner extends DurableObject<GatewayEnv> {
  /** The owner while the record lives; null for an id never recorded or expired. */
  async owner(): Promise<string | null> {
    const record = await this.ctx.storage.get<OwnerRecord>(KEY);
    return record && record.expiresAt > Date.now() ? record.owner : null;
  }

  /**
   * Records `owner` for `ttlMs` from now, unless another owner's record still lives (the first owner keeps an id:
   * an agent that names an id again in another caller's answer does not hand it over). Answers the owner kept.
   */
  async claim(owner: string, ttlMs: number): Promise<string> {
    const now = Date.now();
    const record = await this.ctx.storage.get<OwnerRecord>(KEY);
    if (record && record.expiresAt > now && record.owner !== owner) return record.owner;
    const expiresAt = now + ttlMs;
    await this.ctx.storage.put<OwnerRecord>(KEY, { owner, expiresAt });
    await this.ctx.storage.setAlarm(expiresAt);
    return owner;
  }

  /** At the TTL's end: the record goes (a claim since then moved the alarm on). */
  override async alarm(): Promise<void> {
    const record = await this.ctx.storage.get<OwnerRecord>(KEY);
    if (record && record.expiresAt > Date.now()) {
      await this.ctx.storage.setAlarm(record.expiresAt);
      return;
    }
    await this.ctx.storage.deleteAll();
  }
}
