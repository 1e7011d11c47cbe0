// The A2A call and access suites' agents (test/a2a-agents-calls.test.ts, test/a2a-agents-access.test.ts):
// the two fake agents of a2a-stack.ts registered through /v1/agents, helper priced, each with its own key.
import { beforeAll } from 'vitest';
import { AGENT_SECRET, createAgent, helper, other } from './a2a-stack.ts';

export let helperId: string;
export let otherId: string;

/** Registers 'helper' and 'other' (as the calling describe's beforeAll); call after useA2aStack(). */
export function useRegisteredAgents(): void {
  beforeAll(async () => {
    helperId = await createAgent('helper', helper.url, { api_key: AGENT_SECRET, cost_per_query: 0.05 });
    otherId = await createAgent('other', other.url, { api_key: 'other-secret-0001' });
  });
}
