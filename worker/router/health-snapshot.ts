/** What every isolate routes with: cooldowns, latency and this minute's usage per deployment. */
export interface HealthSnapshot {
  cooldowns: Record<string, number>;
  latencyMs: Record<string, number>;
  usage: Record<string, { minute: number; requests: number; tokens: number }>;
  at: number;
}
