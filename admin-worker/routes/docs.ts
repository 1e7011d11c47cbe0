import { Hono } from 'hono';
import { escapeHtml } from '../../worker/lib/html.ts';
import { openApiDocument } from '../lib/openapi.ts';

/**
 * `GET /docs`: the management API as one self-contained HTML page, rendered
 * here from the same document /openapi.json serves (so the two cannot
 * drift). No script and no CDN: it works offline and under a strict CSP.
 * Public, like /openapi.json: it describes routes, it holds no data. It
 * needs no bindings, so tests can render it outside workerd.
 */
export const docsRoutes = new Hono();

interface Operation {
  summary?: string;
  tags?: string[];
  parameters?: { name: string; required?: boolean; schema?: Record<string, unknown> }[];
  requestBody?: { content?: { 'application/json'?: { schema?: unknown } } };
}

/** A parameter's type in a few words: `string`, `"a" | "b"`, `integer`... */
function typeOf(schema: Record<string, unknown> | undefined): string {
  if (!schema) return '';
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Record<string, unknown>[]).map(typeOf).join(' | ');
  return typeof schema.type === 'string' ? schema.type : '';
}

function operationHtml(path: string, method: string, op: Operation): string {
  const id = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-');
  const params = op.parameters?.length
    ? `<table><tr><th>query parameter</th><th>type</th><th></th><th>description</th></tr>${op.parameters.map((p) => `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${escapeHtml(typeOf(p.schema))}</td><td>${p.required ? 'required' : ''}</td><td>${escapeHtml(String(p.schema?.description ?? ''))}</td></tr>`).join('')}</table>`
    : '';
  const schema = op.requestBody?.content?.['application/json']?.schema;
  const body = schema === undefined ? '' : `<details><summary>JSON body schema</summary><pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre></details>`;
  return `<section id="${id}"><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3><p>${escapeHtml(op.summary ?? '')}</p>${params}${body}</section>`;
}

/** The page, grouped by tag in registration order, with a table of contents. */
export function docsHtml(doc: Record<string, unknown> = openApiDocument()): string {
  const info = (doc.info ?? {}) as { title?: string; description?: string };
  const byTag = new Map<string, string[]>();
  const toc = new Map<string, string[]>();
  for (const [path, methods] of Object.entries((doc.paths ?? {}) as Record<string, Record<string, Operation>>)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags?.[0] ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), operationHtml(path, method, op)]);
      const id = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-');
      toc.set(tag, [...(toc.get(tag) ?? []), `<a href="#${id}">${method.toUpperCase()} ${escapeHtml(path)}</a>`]);
    }
  }
  const title = escapeHtml(info.title ?? 'API');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;display:flex;color:#1d1d1f}
nav{width:19rem;flex:none;height:100vh;overflow:auto;position:sticky;top:0;background:#f5f5f7;padding:1rem;box-sizing:border-box;font-size:13px}
nav a{display:block;color:#0b57d0;text-decoration:none;padding:1px 0}nav h4{margin:.8rem 0 .2rem;text-transform:capitalize}
main{flex:1;padding:1rem 2rem;max-width:60rem}section{border-top:1px solid #ddd;padding:.5rem 0}
.m{display:inline-block;min-width:3.5rem;text-align:center;border-radius:4px;color:#fff;font-size:12px;padding:1px 4px}
.get{background:#1a7f37}.post{background:#0b57d0}.patch{background:#9a6700}.delete{background:#cf222e}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;font-size:12px;max-height:30rem}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}
</style></head><body>
<nav><strong>${title}</strong><br><a href="/openapi.json">openapi.json</a>${[...toc].map(([tag, links]) => `<h4>${escapeHtml(tag)}</h4>${links.join('')}`).join('')}</nav>
<main><h1>${title}</h1><p>${escapeHtml(info.description ?? '')}</p><p>Every route takes <code>Authorization: Bearer &lt;key&gt;</code> (the master key, or a virtual key where noted).</p>
${[...byTag].map(([tag, ops]) => `<h2 style="text-transform:capitalize">${escapeHtml(tag)}</h2>${ops.join('')}`).join('\n')}
</main></body></html>`;
}

docsRoutes.get('/docs', (c) => c.html(docsHtml()));
