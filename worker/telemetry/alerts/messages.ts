import type { AlertCandidate, BudgetEntityKind } from './types.ts';

/**
 * Slack texts, close to LiteLLM's (`slack_alerting.py`): a title line
 * ("Budget Crossed", "Slow Request", ...) then the details in backticks.
 * No key is ever shown beyond its alias or the start of its hash.
 */

const ENTITY: Record<BudgetEntityKind, string> = {
  key: 'Key',
  team: 'Team',
  org: 'Organization',
  user: 'User',
  global: 'Proxy',
};

const money = (n: number) => (Math.round(n * 1e6) / 1e6).toString();

function entityName(kind: BudgetEntityKind, id: string, alias: string | null): string {
  if (kind === 'global') return 'proxy-wide budget';
  if (kind === 'key') return alias ? `${alias} (key hash ${id.slice(0, 12)}...)` : `key hash ${id.slice(0, 12)}...`;
  return alias ? `${alias} (${id})` : id;
}

export function budgetText(kind: BudgetEntityKind, id: string, alias: string | null, spend: number, maxBudget: number, threshold: number): string {
  const title = threshold >= 1 ? 'Budget Crossed' : `${Math.round(threshold * 100)}% Threshold Crossed`;
  return [
    `*${title}*`,
    `${ENTITY[kind]}: \`${entityName(kind, id, alias)}\``,
    `Total Budget: \`${money(maxBudget)}\``,
    `Current Spend: \`${money(spend)}\` (${Math.round((spend / maxBudget) * 100)}%)`,
  ].join('\n');
}

function held(suppressed: number, what: string): string[] {
  return suppressed > 0 ? [`(${suppressed} more ${what} since the last alert)`] : [];
}

export function candidateText(c: AlertCandidate, thresholdS: number, suppressed: number): string {
  switch (c.type) {
    case 'llm_too_slow':
      return [
        '*Slow Request*',
        `Responses are slow - \`${c.seconds.toFixed(2)}s\` response time > Alerting threshold: \`${thresholdS}s\``,
        `Model Group: \`${c.group}\``,
        `Model: \`${c.model}\` (id \`${c.deploymentId}\`)`,
        `API Base: \`${c.apiBase}\``,
        ...held(suppressed, 'slow requests on this deployment'),
      ].join('\n');
    case 'cooldown_deployment':
      return [
        '*Deployment Cooldown*',
        `Model Group: \`${c.group}\``,
        `Model: \`${c.model}\` (id \`${c.deploymentId}\`)`,
        `API Base: \`${c.apiBase}\``,
        `Exception Status: \`${c.status}\``,
        `Reason: \`${c.reason}\``,
        `Cooled down for \`${c.cooldownSeconds}s\``,
        ...held(suppressed, 'cooldowns of this deployment'),
      ].join('\n');
    case 'callback_failure':
      return [
        '*Callback Failed*',
        `Callback: \`${c.callback}\``,
        `Error: \`${c.error}\``,
        ...held(suppressed, 'failures of this callback'),
      ].join('\n');
    case 'cache_unavailable':
      return [
        '*Cache Unavailable*',
        'The response cache (Redis) is failing: requests are served uncached until it answers again.',
        `Timeouts: \`${c.timeouts}\`, errors: \`${c.errors}\``,
        `Last error: \`${c.error}\``,
        ...held(suppressed, 'cache failure reports'),
      ].join('\n');
  }
}
