import OpenAI from 'openai';
import { expect } from 'vitest';
import { type FakeAwsSecrets, fakeAwsSecrets } from '../fakes/secret-managers.ts';
import type { AwsTestCredentials } from '../fakes/sigv4-verifier.ts';
import { type Behaviour, type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './stack.ts';

/**
 * The stack the key_management_system suites share: a fake provider the deployments call, a fake secret
 * manager (Vault or AWS Secrets Manager, from test/fakes/secret-managers.ts) holding their keys, and the
 * gateway configured to read from it, with an OpenAI client on the master key.
 */
export interface SecretManagerStack {
  /** The provider the deployments call (echoes). */
  upstream: FakeUpstream;
  /** The secret manager's endpoint, recording every read. */
  manager: FakeUpstream;
  stack: TestStack;
  client: OpenAI;
  stop(): Promise<void>;
}

export async function startSecretManagerStack(options: {
  manager: Behaviour;
  configYaml: (upstreamUrl: string) => string;
  env: (managerUrl: string) => Record<string, string>;
}): Promise<SecretManagerStack> {
  const upstream = await startFakeUpstream();
  const manager = await startFakeUpstream({ default: options.manager }).catch(async (e: unknown) => {
    await upstream.close();
    throw e;
  });
  const stack = await startTestStack({ configYaml: options.configYaml(upstream.url), env: options.env(manager.url) }).catch(async (e: unknown) => {
    await Promise.all([upstream.close(), manager.close()]);
    throw e;
  });
  return {
    upstream,
    manager,
    stack,
    client: new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 }),
    stop: async () => {
      await stack.stop();
      await Promise.all([upstream.close(), manager.close()]);
    },
  };
}

export interface AwsSecretsStack extends SecretManagerStack {
  aws: FakeAwsSecrets;
}

/** AWS Secrets Manager holding `secrets` (SecretId → SecretString), reached through AWS_ENDPOINT_URL_SECRETS_MANAGER. */
export async function startAwsSecretsStack(options: {
  credentials: AwsTestCredentials;
  region: string;
  secrets: Record<string, string>;
  configYaml: (upstreamUrl: string) => string;
}): Promise<AwsSecretsStack> {
  const aws = fakeAwsSecrets(options.credentials, options.region);
  for (const [id, value] of Object.entries(options.secrets)) aws.secrets.set(id, value);
  const running = await startSecretManagerStack({
    manager: aws.behaviour,
    configYaml: options.configYaml,
    env: (url) => ({ AWS_ACCESS_KEY_ID: options.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: options.credentials.secretAccessKey, AWS_ENDPOINT_URL_SECRETS_MANAGER: url }),
  });
  return { ...running, aws };
}

export const chat = (client: OpenAI, model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });

/** A config.yaml model_list entry calling `upstream` with the key `os.environ/<key>`. */
export const deployment = (name: string, upstream: string, key: string) => `  - model_name: ${name}\n    litellm_params: {model: openai/gpt-4o-mini, api_base: "${upstream}/v1", api_key: os.environ/${key}}\n`;

/** The gateway's error answer to a call expected to fail. */
export async function failure(call: Promise<unknown>): Promise<{ status: number; error: { message: string; type: string; code: string } }> {
  const err = await call.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(OpenAI.APIError);
  const api = err as InstanceType<typeof OpenAI.APIError>;
  return { status: api.status as number, error: api.error as { message: string; type: string; code: string } };
}
