import { afterAll, beforeAll, expect } from 'vitest';
import { adminClient, type Json } from './admin.ts';
import {
  ACCESS_GROUP, ACCOUNT_ID, BEDROCK_ARN, CLAUDE_ARN_DEPLOYMENT, HEADER_SECRET, MOCK_AND_GPT_DEPLOYMENTS, OWNER, TEAM_ID, UPSTREAM_SECRET,
} from './public-routes-stack.ts';
import { startTestStack, type TestStack } from './stack.ts';

// Shared by the public model hub tests: the public_routes deployments plus a second gpt-4o one, config.yaml's published
// groups (one nothing serves) and links, and the calls the tests make.

export const MODEL_HUB_CONFIG = `
model_list:
${MOCK_AND_GPT_DEPLOYMENTS}  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_key: ${UPSTREAM_SECRET}, rpm: 40, tpm: 1000}
${CLAUDE_ARN_DEPLOYMENT}litellm_settings:
  store_audit_logs: true
  public_model_groups: [claude-arn, gpt-4o, not-served]
  public_model_groups_links: {Docs: "https://docs.example.invalid/start"}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  store_model_in_db: true
`;

/** What the hub must never show: the deployments' secrets and private model_info. */
export const UNSHOWN = [UPSTREAM_SECRET, HEADER_SECRET, BEDROCK_ARN, ACCOUNT_ID, TEAM_ID, ACCESS_GROUP, OWNER, 'llm.internal.example.invalid', 'anthropic.claude-3-5-sonnet'];

/**
 * Starts a stack on MODEL_HUB_CONFIG for the calling file and returns its admin client and hub readers.
 * @example const { stack, hub } = useModelHubStack(); it('…', async () => expect(await hub()).toEqual([]));
 */
export function useModelHubStack() {
  let current: TestStack | undefined;
  beforeAll(async () => {
    current = await startTestStack({ configYaml: MODEL_HUB_CONFIG });
  });
  afterAll(async () => current?.stop());
  const stack = () => {
    if (!current) throw new Error('the model hub stack has not started');
    return current;
  };

  const client = adminClient(stack);
  const hub = async () => {
    const res = await client.call('/public/model_hub', undefined, null);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as unknown as Json[];
  };
  const groupsListed = async () => (await hub()).map((g) => g.model_group);
  /** Each group /model_group/info lists (master key), with its is_public_model_group. */
  const publicFlags = async () => {
    const res = await client.call('/model_group/info');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return Object.fromEntries((res.body.data as Json[]).map((g) => [g.model_group, g.is_public_model_group]));
  };
  return { ...client, stack, hub, groupsListed, publicFlags };
}
