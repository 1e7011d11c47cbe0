import { isObject } from '../json.ts';
import { oneQuery, providerFields, type SearchProvider, type SearchResult, text } from './wire.ts';

/**
 * Brave's web search (`GET /res/v1/web/search`, `X-Subscription-Token`), as LiteLLM translates to it: the request
 * as the URL's query (`q`, `count` of at most 20, `country`, domains as `site:` clauses of `q`), the results of
 * each section Brave answers with (`web`, `discussions`, `faqs`, `faq`, `news`, `videos`, or those
 * `result_filter` names) up to `count`, `description` as the snippet and dates as YYYY-MM-DD.
 */

/** Brave's answer's sections, in the order their results are taken. */
const SECTIONS = ['web', 'discussions', 'faqs', 'faq', 'news', 'videos'];
/** Brave answers at most 20 web results a request. */
const MAX_COUNT = 20;

/** YYYY-MM-DD of a Brave date: ISO text, a date in words ("July 31, 2025"), or Unix seconds (or ms); undefined for "2 days ago". */
export function braveDate(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const textValue = String(value).trim();
  if (/^-?\d+(\.\d+)?$/.test(textValue)) {
    const n = Number(textValue);
    const ms = Math.abs(n) > 1e11 ? n : n * 1000;
    const date = new Date(ms);
    return Number.isFinite(date.getTime()) ? date.toISOString().slice(0, 10) : undefined;
  }
  const iso = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})/.exec(textValue);
  if (iso) return `${iso[1]}-${iso[2]!.padStart(2, '0')}-${iso[3]!.padStart(2, '0')}`;
  const parsed = Date.parse(`${textValue} UTC`);
  return Number.isFinite(parsed) ? new Date(parsed).toISOString().slice(0, 10) : undefined;
}

export const brave: SearchProvider = {
  defaultBase: 'https://api.search.brave.com/res/v1/web/search',
  keyVars: ['BRAVE_API_KEY'],
  authHeaders: (apiKey) => ({ 'x-subscription-token': apiKey }),
  method: 'GET',
  // Brave's base is its search endpoint itself (LiteLLM appends nothing).
  url: (base) => base,
  body(request) {
    const { include_fetch_metadata: fetchMetadata, start_date: start, end_date: end, ...own } = providerFields(request);
    const domains = request.search_domain_filter ?? [];
    const q = oneQuery(request.query);
    return {
      q: domains.length ? `(${q}) AND (${domains.map((d) => `site:${d}`).join(' OR ')})` : q,
      // Its fetch metadata gives a result's last_updated; sent unless the client turns it off.
      include_fetch_metadata: fetchMetadata !== false,
      ...(request.max_results !== undefined ? { count: Math.min(request.max_results, MAX_COUNT) } : {}),
      ...(request.country !== undefined ? { country: request.country } : {}),
      // Brave's custom range needs both ends.
      ...(start && end ? { freshness: `${String(start)}to${String(end)}` } : {}),
      ...own,
    };
  },
  results(answer, sent) {
    if (!isObject(answer)) return [];
    const filter = typeof sent.result_filter === 'string' ? sent.result_filter.split(',').map((s) => s.trim().toLowerCase()).filter((s) => SECTIONS.includes(s)) : [];
    const max = Math.max(1, Math.min(Number(sent.count ?? MAX_COUNT) || MAX_COUNT, MAX_COUNT));
    const out: SearchResult[] = [];
    for (const section of filter.length ? filter : SECTIONS) {
      const block = answer[section];
      const list = isObject(block) && Array.isArray(block.results) ? block.results.filter(isObject) : [];
      for (const r of list) {
        if (out.length >= max) return out;
        const date = braveDate(r.page_age || r.age);
        const updated = braveDate(r.fetched_content_timestamp);
        out.push({ title: text(r.title), url: text(r.url), snippet: text(r.description), ...(date ? { date } : {}), ...(updated ? { last_updated: updated } : {}) });
      }
    }
    return out;
  },
  // LiteLLM's price map has no Brave price: a search costs its tool's input_cost_per_query, else nothing.
  price: () => 0,
};

/** A GET search's URL: the provider's fields as its query (a list as repeated names, as LiteLLM encodes them). */
export function withQuery(url: string, fields: Record<string, unknown>): string {
  const target = new URL(url);
  for (const [name, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== undefined && v !== null) target.searchParams.append(name, typeof v === 'object' ? JSON.stringify(v) : String(v));
    }
  }
  return target.toString();
}
