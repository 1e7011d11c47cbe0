import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.ts';
import { parseFrontMatter, splitFrontMatter } from './front-matter.ts';
import { compileDotprompt } from './dotprompt.ts';
import { MAX_RENDERED_CHARS, renderBudget, renderDotprompt, substituteBraces, tagSpans, unsupportedTag, withoutComments } from './template.ts';

describe('dotprompt front matter', () => {
  it('reads scalars, nested mappings and JSON flow values; the template follows the second ---', () => {
    const { metadata, template } = splitFrontMatter([
      '---', 'model: gpt-4o  # the group', 'temperature: 0.7', 'max_tokens: 150', 'stream: false', "name: 'it''s'",
      'stop: ["END", "STOP"]', 'input:', '  schema:', '    topic: string', '    count: integer', 'output:', '  format: text', '---',
      'System: hi', '',
    ].join('\n'));
    expect(metadata).toEqual({
      model: 'gpt-4o', temperature: 0.7, max_tokens: 150, stream: false, name: "it's", stop: ['END', 'STOP'],
      input: { schema: { topic: 'string', count: 'integer' } }, output: { format: 'text' },
    });
    expect(template).toBe('System: hi\n');
  });

  it("reads YAML 1.1 booleans and numbers as PyYAML does (LiteLLM's yaml.safe_load)", () => {
    const lines = ['a: yes', 'b: Off', 'c: ON', 'd: no', 'e: 1_000', 'f: 0x1F', 'g: 010', 'h: 1_0.5', 'i: -.inf', 'j: 1e5', 'k: 1.5e+2', 'l: 1:30', 'm: 0b11', 'n: "yes"', 'o: y'];
    expect(parseFrontMatter(lines.join('\n'))).toEqual({
      a: true, b: false, c: true, d: false, e: 1000, f: 31, g: 8, h: 10.5, i: -Infinity, j: '1e5', k: 150, l: 90, m: 3, n: 'yes', o: 'y',
    });
  });

  it('a __proto__, constructor or prototype key is an ordinary key: it sets no prototype and no model', () => {
    const metadata = parseFrontMatter('__proto__:\n  model: evil\nconstructor: x\nflow: {__proto__: evil}\ntemperature: 0.1');
    expect(Object.getPrototypeOf(metadata)).toBeNull();
    expect(metadata.model).toBeUndefined();
    expect(metadata['__proto__']).toEqual({ model: 'evil' });
    expect(metadata.constructor).toBe('x');
    expect(Object.getPrototypeOf(metadata.flow)).toBeNull();
    expect(Object.keys(metadata.flow as object)).toEqual(['__proto__']);
  });

  it('keeps # inside quoted values', () => {
    expect(parseFrontMatter('name: "a #1"  \nnote: x # comment')).toEqual({ name: 'a #1', note: 'x' });
  });

  it('strips a # comment after a value even when the line holds a quote elsewhere', () => {
    expect(parseFrontMatter("temperature: 0.2  # don't\nname: \"it's #1\" # the 'name'\nurl: a#b")).toEqual({ temperature: 0.2, name: "it's #1", url: 'a#b' });
  });

  it('reads YAML flow mappings and sequences of plain scalars', () => {
    expect(parseFrontMatter("schema: {subject: string, level: 'first year'}\nstop: [END, 'a, b', 3]")).toEqual({
      schema: { subject: 'string', level: 'first year' }, stop: ['END', 'a, b', 3],
    });
    expect(() => parseFrontMatter('schema: {a: [b]}')).toThrow(/nested .* JSON/);
  });

  it("loads the README's dotprompt example as written", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const block = /## Prompt management[\s\S]*?dotprompt_content: \|.*\n((?: {8}.*\n)+)/.exec(readme)![1]!.replace(/^ {8}/gm, '');
    expect(splitFrontMatter(block)).toEqual({
      metadata: { model: 'gpt-4o', temperature: 0.2, input: { schema: { subject: 'string' } } },
      template: 'System: You tutor {{ subject }}.\nUser: Start with {{ subject }}.\n',
    });
  });

  it('content without front matter is all template', () => {
    expect(splitFrontMatter('User: {{ q }}')).toEqual({ metadata: {}, template: 'User: {{ q }}' });
  });

  it('refuses YAML it does not read (block lists, block strings) rather than misreading it', () => {
    expect(() => parseFrontMatter('stop:\n  - END')).toThrow(/line 2/);
    expect(() => parseFrontMatter('description: |')).toThrow(/block strings/);
    expect(() => parseFrontMatter('stop: [END')).toThrow(/JSON/);
  });
});

describe('{{ variable }} rendering', () => {
  it('substitutes plain and dotted variables; a missing one renders as nothing (as Jinja2 in LiteLLM); objects as JSON', () => {
    expect(renderDotprompt('p', 'Hi {{name}}, {{ user.city }}: {{missing}}|{{-n-}} {{obj}}', { name: 'Ada', user: { city: 'Oslo' }, n: 3, obj: { a: [1] } }))
      .toBe('Hi Ada, Oslo: |3 {"a":[1]}');
  });

  it('drops Jinja comments', () => {
    expect(renderDotprompt('p', 'a{# note #}b', {})).toBe('ab');
  });

  it.each(['{% for x in xs %}{{x}}{% endfor %}', '{{#if x}}y{{/if}}', '{{ name | upper }}', '{{ f(x) }}'])('refuses %s with a 400 naming the tag', (template) => {
    expect(unsupportedTag(template)).toBeDefined();
    const err = (() => { try { renderDotprompt('p1', template, { x: 1, xs: [1] }); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(400);
    expect((err as GatewayError).message).toMatch(/prompt "p1" uses \{/);
  });
});

describe('generic prompt API substitution', () => {
  const budget = () => renderBudget('p');

  it('replaces {name} and {{name}}; a placeholder without a variable stays', () => {
    expect(substituteBraces('Help with {task} and {{task}}; {other}', { task: 'tests' }, budget())).toBe('Help with tests and tests; {other}');
  });

  it("never searches a variable's value for other placeholders", () => {
    expect(substituteBraces('{a} {b}', { a: '{b}{{b}}', b: 'y' }, budget())).toBe('{b}{{b}} y');
  });
});

describe('the size a prompt renders to', () => {
  it("a variable's placeholders past MAX_RENDERED_CHARS are a 400, across a call's messages, whichever renderer", () => {
    const big = { a: 'x'.repeat(1024 * 1024) };
    expect(substituteBraces('{a}{a}{a}', big, renderBudget('p'))).toHaveLength(3 * 1024 * 1024);
    const shared = renderBudget('p');
    substituteBraces('{a}{a}{a}', big, shared);
    const err = (() => { try { substituteBraces('{a}{{a}}', big, shared); } catch (e) { return e as GatewayError; } })();
    expect([err?.status, err?.param]).toEqual([400, 'prompt_variables']);
    expect(() => renderDotprompt('p', '{{a}}'.repeat(5), big)).toThrow(`more than ${MAX_RENDERED_CHARS} characters`);
    expect(() => substituteBraces('{a}', { a: '{b}'.repeat(100_000), b: 'y'.repeat(1000) }, renderBudget('p'))).not.toThrow();
  });
});

describe('finding tags in linear time', () => {
  const LAZY_TAG = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\{#[\s\S]*?#\}/g;
  const LAZY_COMMENT = /\{#[\s\S]*?#\}/g;

  it('finds the tags and comments the lazy regexes find, on templates of braces, %, # and text', () => {
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let i = 0; i < 3000; i++) {
      const template = Array.from({ length: Math.floor(random() * 24) }, () => '{}%#a '[Math.floor(random() * 6)]).join('');
      const lazyFirst = [...template.matchAll(LAZY_TAG)].map(([t]) => t).find((t) => !t.startsWith('{#') && !/^\{\{-?\s*[A-Za-z_][A-Za-z0-9_]*\s*-?\}\}$/.test(t));
      expect(unsupportedTag(template), template).toBe(lazyFirst);
      expect(withoutComments(template), template).toBe(template.replace(LAZY_COMMENT, ''));
      expect([...tagSpans(template, [['{{', '}}'], ['{%', '%}'], ['{#', '#}']])].map(([s, e]) => template.slice(s, e)), template)
        .toEqual([...template.matchAll(LAZY_TAG)].map(([t]) => t));
    }
  });

  it.each(['{{', '{#', '{%', '{{{#{%', '{{ a'])('a 1 MB template of unclosed %s is read in well under a second', (unit) => {
    const template = unit.repeat(Math.ceil(1024 * 1024 / unit.length));
    const started = performance.now();
    expect(unsupportedTag(template)).toBeUndefined();
    expect(withoutComments(template)).toBe(template);
    expect(compileDotprompt('p', { metadata: {}, template: `User: ${template}` }, {}).messages[0]!.content).toBe(template.trim());
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('tags each holding an opener whose closer is far on are found in linear time too', () => {
    const n = 200_000;
    const started = performance.now();
    let count = 0;
    for (const _ of tagSpans(`${'{%{{%}'.repeat(n)}}}`, [['{{', '}}'], ['{%', '%}']])) count++;
    expect(count).toBe(n);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
