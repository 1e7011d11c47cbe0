import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeAwsSecrets } from './fakes/secret-managers.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import { type AwsSecretsStack, chat, deployment, failure, startAwsSecretsStack } from './support/key-management-stack.ts';
import type { TestStack } from './support/stack.ts';

// general_settings.key_management_system: aws_secret_manager_v2: an `os.environ/NAME` credential the
// environment does not have is read from AWS Secrets Manager (a signed GetSecretValue), cached per isolate.

const AWS = { accessKeyId: 'AKIATESTSECRETSMGR01', secretAccessKey: 'secrets/Manager+0123456789abcdefghijkl' };
const FROM_AWS = 'sk-from-aws-secrets-manager-003';

describe('AWS Secrets Manager', () => {
  let upstream: FakeUpstream;
  let awsServer: FakeUpstream;
  let aws: FakeAwsSecrets;
  let stack: TestStack;
  let client: OpenAI;
  let running: AwsSecretsStack;

  beforeAll(async () => {
    running = await startAwsSecretsStack({
      credentials: AWS,
      region: 'eu-central-1',
      secrets: { OPENAI_KEY_FROM_AWS: FROM_AWS },
      configYaml: (upstreamUrl) => `model_list:
${deployment('aws-held', upstreamUrl, 'OPENAI_KEY_FROM_AWS')}${deployment('aws-missing', upstreamUrl, 'NOT_IN_AWS')}
router_settings: {num_retries: 0}
general_settings:
  key_management_system: aws_secret_manager_v2
  key_management_settings: {aws_region_name: eu-central-1, access_mode: read_only}
`,
    });
    ({ upstream, manager: awsServer, aws, stack, client } = running);
  });
  afterAll(() => running?.stop());

  it('reads the secret with a signed GetSecretValue and sends it as the key', async () => {
    await chat(client, 'aws-held');
    expect(upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${FROM_AWS}`);
    expect(aws.checks).toEqual([{ ok: true }]);
    const [read] = awsServer.requests;
    expect(read?.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(read?.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${AWS.accessKeyId}/\\d{8}/eu-central-1/secretsmanager/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$`));
    expect(read?.body).toEqual({ SecretId: 'OPENAI_KEY_FROM_AWS' });
    await chat(client, 'aws-held');
    expect(awsServer.requests).toHaveLength(1);
  });

  it('answers a 500 naming the reference and AWS\'s error type when the secret does not exist', async () => {
    const missing = await failure(chat(client, 'aws-missing'));
    expect(missing.status).toBe(500);
    expect(missing.error.message).toBe('Deployment aws-missing (openai/gpt-4o-mini) could not read litellm_params.api_key (os.environ/NOT_IN_AWS) from aws_secret_manager_v2: AWS Secrets Manager refused the read (HTTP 400 ResourceNotFoundException)');
    expect(JSON.stringify(missing)).not.toContain(AWS.secretAccessKey);
  });
});
