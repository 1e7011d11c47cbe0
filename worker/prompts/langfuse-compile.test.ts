import { describe, expect, it } from 'vitest';
import type { GatewayError } from '../errors.ts';
import { compileLangfusePrompt, compileLangfuseTemplate } from './langfuse-compile.ts';
import { renderBudget } from './template.ts';

const render = (content: string, vars: Record<string, unknown>) => compileLangfuseTemplate(content, vars, renderBudget('p'));
const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (err) {
    return err as GatewayError;
  }
  throw new Error('expected a refusal');
};

describe("Langfuse's {{variable}} compiling", () => {
  it('substitutes trimmed names, keeps unknown ones as written, renders null as nothing and values as Python prints them', () => {
    expect(render('Hi {{name}}, {{ city }}! {{unknown}} {{gone}}', { name: 'Ada', city: 'Paris', gone: null })).toBe('Hi Ada, Paris! {{unknown}} ');
    expect(render('{{n}} {{yes}} {{no}} {{list}}', { n: 3, yes: true, no: false, list: [1, 'a'] })).toBe('3 True False [1,"a"]');
  });

  it("never searches a value for other names, and reads to the next }} as Langfuse's parser does", () => {
    expect(render('{{a}} {{b}}', { a: '{{b}}', b: 'B' })).toBe('{{b}} B');
    expect(render('{{ {{a}} }} and {{ unclosed', { a: 'x' })).toBe('{{ {{a}} }} and {{ unclosed');
    expect(render('{single} {{x}', { single: 'no', x: 'no' })).toBe('{single} {{x}');
  });

  it('refuses a render past the budget', () => {
    const err = refusal(() => compileLangfuseTemplate('{{a}}{{a}}{{a}}', { a: 'x'.repeat(40) }, renderBudget('p', 100)));
    expect([err.status, err.param]).toEqual([400, 'prompt_variables']);
  });
});

describe('a Langfuse prompt compiled for a call', () => {
  it('makes a text prompt one system message, and splits its config into the model and the settings', () => {
    const compiled = compileLangfusePrompt('p', { type: 'text', prompt: 'Answer in {{lang}}.', config: { model: 'big', temperature: 0.1, max_tokens: 50 } }, { lang: 'French' });
    expect(compiled).toEqual({ messages: [{ role: 'system', content: 'Answer in French.' }], model: 'big', params: { temperature: 0.1, max_tokens: 50 } });
  });

  it('compiles each chat message, keeping only role and content, and takes no model from a config without one', () => {
    const compiled = compileLangfusePrompt('p', {
      type: 'chat',
      prompt: [{ type: 'chatmessage', role: 'system', content: 'You are {{who}}.' }, { role: 'user', content: 'Hello {{who}}' }],
      config: null,
    }, { who: 'Bob' });
    expect(compiled).toEqual({ messages: [{ role: 'system', content: 'You are Bob.' }, { role: 'user', content: 'Hello Bob' }], params: {} });
  });

  it("replaces a placeholder by the variable's messages, whole, their text compiled too", () => {
    const history = [{ role: 'user', content: 'I am {{who}}' }, { role: 'assistant', content: null, tool_calls: [{ id: 't1' }] }];
    const compiled = compileLangfusePrompt('p', {
      type: 'chat', prompt: [{ role: 'system', content: 'Be kind.' }, { type: 'placeholder', name: 'history' }, { role: 'user', content: 'Now?' }],
    }, { history, who: 'Bob' });
    expect(compiled.messages).toEqual([
      { role: 'system', content: 'Be kind.' }, { role: 'user', content: 'I am Bob' }, { role: 'assistant', content: null, tool_calls: [{ id: 't1' }] }, { role: 'user', content: 'Now?' },
    ]);
  });

  it('refuses a placeholder left unfilled, or filled with something other than messages, with a 400 on prompt_variables', () => {
    const prompt = { type: 'chat' as const, prompt: [{ type: 'placeholder' as const, name: 'history' }] };
    for (const [vars, why] of [
      [{}, 'needs prompt_variables.history, a list of messages'],
      [{ history: 'hi' }, 'takes a list of messages; prompt_variables.history is not a list'],
      [{ history: [{ content: 'no role' }] }, 'takes messages with a role; prompt_variables.history holds something else'],
    ] as const) {
      const err = refusal(() => compileLangfusePrompt('p', prompt, vars));
      expect([err.status, err.param, err.message]).toEqual([400, 'prompt_variables', `prompt "p": its placeholder "history" ${why}`]);
    }
  });
});
