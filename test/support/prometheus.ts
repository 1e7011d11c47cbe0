import { expect } from 'vitest';

// A strict parser of the Prometheus text format (0.0.4): every line must be a
// HELP, a TYPE, a comment or a well-formed sample; a family's samples must
// follow its TYPE, be contiguous and unique; histogram buckets must be
// cumulative and end in +Inf = _count. Anything else throws.

export interface Sample { name: string; labels: Record<string, string>; value: number }
export interface Family { name: string; type: string; help: string | undefined; samples: Sample[] }

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`bad value ${JSON.stringify(text)} in: ${line}`);
  return Number(text);
}

function parseSample(line: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([^ ]+)( -?\d+)?$/.exec(line);
  if (!m) throw new Error(`not a sample line: ${line}`);
  const labels: Record<string, string> = {};
  const body = m[3] ?? '';
  let i = 0;
  while (i < body.length) {
    const eq = body.indexOf('=', i);
    if (eq < 0) throw new Error(`label without '=': ${line}`);
    const name = body.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name ${JSON.stringify(name)}: ${line}`);
    if (name in labels) throw new Error(`duplicate label ${name}: ${line}`);
    if (body[eq + 1] !== '"') throw new Error(`label value not quoted: ${line}`);
    let j = eq + 2;
    let value = '';
    for (;;) {
      const ch = body[j];
      if (ch === undefined) throw new Error(`unterminated label value: ${line}`);
      if (ch === '"') break;
      if (ch === '\\') {
        const next = body[j + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else throw new Error(`bad escape \\${next}: ${line}`);
        j += 2;
        continue;
      }
      if (ch === '\n') throw new Error(`raw newline in label value: ${line}`);
      value += ch;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (i < body.length) {
      if (body[i] !== ',') throw new Error(`expected ',' between labels: ${line}`);
      i++;
    }
  }
  return { name: m[1] as string, labels, value: parseValue(m[4] as string, line) };
}

function familyOf(sample: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(sample);
  if (direct && direct.type !== 'histogram') return direct;
  for (const suffix of ['_bucket', '_count', '_sum']) {
    if (sample.endsWith(suffix)) {
      const f = families.get(sample.slice(0, -suffix.length));
      if (f?.type === 'histogram') return f;
    }
  }
  return undefined;
}

export function parsePrometheus(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  let current: Family | undefined;
  const seen = new Set<string>();
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) continue; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      if (closed.has(name)) throw new Error(`family ${name} appears twice`);
      let f = families.get(name);
      if (current && current.name !== name) closed.add(current.name);
      if (!f) {
        f = { name, type: 'untyped', help: undefined, samples: [] };
        families.set(name, f);
      }
      if (f.samples.length) throw new Error(`${kind} for ${name} after its samples`);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`unknown type in: ${line}`);
        if (f.type !== 'untyped') throw new Error(`second TYPE for ${name}`);
        f.type = rest;
      } else {
        if (f.help !== undefined) throw new Error(`second HELP for ${name}`);
        f.help = rest;
      }
      current = f;
      continue;
    }
    const sample = parseSample(line);
    const f = familyOf(sample.name, families);
    if (!f) throw new Error(`sample without a TYPE: ${line}`);
    if (f !== current) throw new Error(`samples of ${f.name} are not contiguous: ${line}`);
    const id = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(id)) throw new Error(`duplicate series: ${line}`);
    seen.add(id);
    if (f.type === 'histogram' && sample.name.endsWith('_bucket') && !('le' in sample.labels)) throw new Error(`bucket without le: ${line}`);
    if (f.type === 'counter' && !(sample.value >= 0)) throw new Error(`negative counter: ${line}`);
    f.samples.push(sample);
  }
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const id = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(id) ?? { buckets: [] };
    groups.set(id, g);
    if (s.name.endsWith('_bucket')) g.buckets.push([parseValue(le as string, le as string), s.value]);
    else if (s.name.endsWith('_count')) g.count = s.value;
  }
  for (const [id, g] of groups) {
    const sorted = [...g.buckets].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) {
      if ((sorted[i] as [number, number])[1] < (sorted[i - 1] as [number, number])[1]) throw new Error(`${f.name}${id}: buckets not cumulative`);
    }
    const inf = sorted.at(-1);
    if (!inf || inf[0] !== Infinity) throw new Error(`${f.name}${id}: no +Inf bucket`);
    if (g.count !== inf[1]) throw new Error(`${f.name}${id}: +Inf bucket ${inf[1]} != _count ${g.count}`);
  }
}

/** The value of the one sample of `name` whose labels include `labels` (0 when absent). */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string>): number {
  const f = familyOf(name, families);
  const matches = (f?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length > 1) throw new Error(`${matches.length} series of ${name} match ${JSON.stringify(labels)}`);
  return matches[0]?.value ?? 0;
}

export function samplesOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): Sample[] {
  const f = familyOf(name, families);
  return (f?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

export interface Scrape { text: string; families: Map<string, Family> }

/** GET /metrics of the gateway at `url`, checked for status and content type, then parsed strictly. */
export async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const text = await res.text();
  return { text, families: parsePrometheus(text) };
}

/** Polls /metrics until `check` passes: a request shows there within ~1 s (README: 2 s). */
export async function until(url: string, check: (m: Scrape) => void, timeoutMs = 10_000): Promise<Scrape> {
  let last: unknown;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = await scrape(url);
    try {
      check(m);
      return m;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw last;
}
