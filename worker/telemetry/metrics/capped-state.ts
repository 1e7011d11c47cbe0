/**
 * Writes `value` under `key` in a map held to `max` keys, and says which key it evicted to make room (if any).
 * The key written longest ago goes: a re-written key moves to the end, so state updated on every flush
 * (PagerDuty's windows, shard-pagerduty.ts) outlives a flood of one-off dedupe keys (shard-alerts.ts).
 */
export function writeCapped<V>(map: Map<string, V>, key: string, value: V, max: number): string | undefined {
  let evicted: string | undefined;
  if (!map.delete(key) && map.size >= max) {
    evicted = map.keys().next().value;
    if (evicted !== undefined) map.delete(evicted);
  }
  map.set(key, value);
  return evicted;
}
