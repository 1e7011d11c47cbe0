import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.ts';
import { MAX_DOTPROMPT_CHARS, testPromptBody, testPromptSchema } from './test-prompt.ts';

const PROMPT = '---\nmodel: small\ntemperature: 0.7\nmax_tokens: 50\ninput:\n  schema:\n    name: string\n---\nSystem: You greet {{name}}.\n\nUser: Say hello to {{ name }}.\n';

/** The 400 `body` is refused with: its message and param. */
function refusal(body: Record<string, unknown>): { message: string; param: string | null } {
  try {
    testPromptBody(testPromptSchema.parse(body));
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    expect(err.status).toBe(400);
    return { message: err.message, param: err.param };
  }
  throw new Error('not refused');
}

describe('POST /prompts/test: the chat body a dotprompt makes', () => {
  it('renders the template with the variables; the front matter gives the model and settings (not input/output); always streamed', () => {
    expect(testPromptBody({ dotprompt_content: PROMPT, prompt_variables: { name: 'Ada' } })).toEqual({
      model: 'small',
      temperature: 0.7,
      max_tokens: 50,
      stream: true,
      messages: [{ role: 'system', content: 'You greet Ada.' }, { role: 'user', content: 'Say hello to Ada.' }],
    });
  });

  it('conversation_history replaces all but the rendered system messages; an empty one changes nothing', () => {
    const history = [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }, { role: 'user', content: 'Again' }];
    expect(testPromptBody({ dotprompt_content: PROMPT, prompt_variables: { name: 'Ada' }, conversation_history: history }).messages)
      .toEqual([{ role: 'system', content: 'You greet Ada.' }, ...history]);
    expect(testPromptBody({ dotprompt_content: '---\nmodel: small\n---\nUser: Hi', conversation_history: history }).messages).toEqual(history);
    expect(testPromptBody({ dotprompt_content: PROMPT, conversation_history: [] }).messages).toHaveLength(2);
  });

  it('the front matter cannot turn streaming off or replace the messages; a template without role lines is one user message', () => {
    const body = testPromptBody({ dotprompt_content: '---\nmodel: big\nstream: false\nmessages: nope\n---\nHello {{who}}', prompt_variables: { who: 'there' } });
    expect(body).toEqual({ model: 'big', stream: true, messages: [{ role: 'user', content: 'Hello there' }] });
  });

  it('refuses a dotprompt naming no model, one rendering no message, unreadable front matter and unsupported tags', () => {
    expect(refusal({ dotprompt_content: 'User: Hello' })).toEqual({ message: 'Model is required in dotprompt metadata', param: 'dotprompt_content' });
    expect(refusal({ dotprompt_content: '---\ntemperature: 1\n---\nUser: Hello' }).message).toBe('Model is required in dotprompt metadata');
    expect(refusal({ dotprompt_content: '---\nmodel: ""\n---\nUser: Hello' }).message).toBe('Model is required in dotprompt metadata');
    expect(refusal({ dotprompt_content: '---\nmodel: small\n---\n{{ nothing }}' })).toEqual({ message: 'No messages found in rendered prompt', param: 'dotprompt_content' });
    expect(refusal({ dotprompt_content: '---\nmodel: small\nstop:\n  - a\n---\nUser: Hi' }).message).toMatch(/^Invalid YAML frontmatter: front matter line 3/);
    expect(refusal({ dotprompt_content: '---\nmodel: small\n---\n{% for x in xs %}{{ x }}{% endfor %}' })).toEqual({
      message: 'prompt "test_prompt" uses {% for x in xs %}: Tollgate renders only {{ variable }} substitution (no blocks, filters or helpers)', param: 'dotprompt_content',
    });
    expect(refusal({ dotprompt_content: PROMPT, prompt_variables: { name: 3 } })).toEqual({ message: 'prompt "test_prompt": prompt_variables.name must be of type string', param: 'prompt_variables.name' });
  });

  it("refuses front matter naming a managed prompt's fields (prompt_id, prompt_variables, prompt_version, prompt_label)", () => {
    for (const line of ['prompt_id: tutor', 'prompt_variables: {name: Ada}', 'prompt_version: 2', 'prompt_label: prod', 'prompt_id: null']) {
      const field = line.split(':')[0];
      expect(refusal({ dotprompt_content: `---\nmodel: small\n${line}\n---\nUser: Hi` })).toEqual({
        message: `${field} cannot be set in the front matter of dotprompt_content: the dotprompt is the prompt`, param: 'dotprompt_content',
      });
    }
    // Other prompt_ settings are a chat's own (OpenAI's prompt caching).
    expect(testPromptBody({ dotprompt_content: '---\nmodel: small\nprompt_cache_key: k1\n---\nUser: Hi' })).toMatchObject({ prompt_cache_key: 'k1' });
  });

  it('the request schema: dotprompt_content a string, prompt_variables an object, conversation_history a list of objects', () => {
    expect(testPromptSchema.safeParse({}).success).toBe(false);
    expect(testPromptSchema.safeParse({ dotprompt_content: 5 }).success).toBe(false);
    expect(testPromptSchema.safeParse({ dotprompt_content: 'x', prompt_variables: ['a'] }).success).toBe(false);
    expect(testPromptSchema.safeParse({ dotprompt_content: 'x', prompt_variables: 'a' }).success).toBe(false);
    expect(testPromptSchema.safeParse({ dotprompt_content: 'x', conversation_history: { role: 'user' } }).success).toBe(false);
    expect(testPromptSchema.safeParse({ dotprompt_content: 'x', conversation_history: ['hi'] }).success).toBe(false);
    expect(testPromptSchema.safeParse({ dotprompt_content: 'x', prompt_variables: null, conversation_history: null }).success).toBe(true);
    expect(testPromptSchema.safeParse({ dotprompt_content: 'x'.repeat(MAX_DOTPROMPT_CHARS) }).success).toBe(true);
    expect(testPromptSchema.safeParse({ dotprompt_content: 'x'.repeat(MAX_DOTPROMPT_CHARS + 1) }).error?.issues[0]?.message).toBe('must be at most 262144 characters');
  });
});
