import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { TEST_MASTER_KEY } from './support/stack.ts';
import { fake, stack, useSkillsStack } from './support/skills-stack.ts';

/**
 * `POST /v1/skills` with the group named by the `model` form field is read whole, at most 25 MB, even when
 * `max_request_size_mb` allows more: past that it is a 413 at once, the rest of the body never read.
 */

useSkillsStack((fakeUrl) => `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${fakeUrl}", api_key: sk-ant-acct-a-0001}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  max_request_size_mb: 100
`);

describe('A skill upload past the held form\'s 25 MB', () => {
  it('is a 413 at once, its body not read on up to max_request_size_mb', async () => {
    // 30 MB declared, 1 KB sent and the rest held back: the answer comes only if the gateway does not wait for it.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${stack.url}/v1/skills`, {
        method: 'POST', headers: { 'x-api-key': TEST_MASTER_KEY, 'content-type': 'multipart/form-data; boundary=b', 'content-length': String(30 * 1024 * 1024) },
      }, (res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
        req.destroy();
      });
      req.on('error', () => undefined);
      req.write(Buffer.alloc(1024, 97));
      setTimeout(() => {
        req.destroy();
        reject(new Error('no answer while the body was held back'));
      }, 10_000);
    });
    expect(status).toBe(413);
    expect(fake.skills.size).toBe(0);
    expect(fake.requests.filter((r) => r.path.startsWith('/v1/skills'))).toHaveLength(0);
  });
});
