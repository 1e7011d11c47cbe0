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

/** The soft budget alert (LiteLLM's "Soft Budget Crossed"): requests still go through, spend is past the warning line. */
export function softBudgetText(kind: BudgetEntityKind, id: string, alias: string | null, spend: number, softBudget: number, maxBudget: number | null): string {
  return [
    '*Soft Budget Crossed*',
    `${ENTITY[kind]}: \`${entityName(kind, id, alias)}\``,
    `Total Soft Budget: \`${money(softBudget)}\``,
    `Current Spend: \`${money(spend)}\``,
    ...(maxBudget === null ? [] : [`Total Budget: \`${money(maxBudget)}\``]),
  ].join('\n');
}

/** LiteLLM's `event_group` of each budget entity. */
const EVENT_GROUP: Record<BudgetEntityKind, string> = { key: 'key', team: 'team', org: 'organization', user: 'internal_user', global: 'proxy' };

/**
 * A budget crossing as LiteLLM's webhook alerting sends it (its WebhookEvent): the entity's spend and
 * budget, `event` threshold_crossed or budget_crossed, `event_group`, and the ids it knows (a key by its
 * hash, never the key).
 */
export function budgetWebhookEvent(kind: BudgetEntityKind, id: string, view: WebhookView, spend: number, maxBudget: number, threshold: number): string {
  const crossed = threshold >= 1;
  return webhookEvent(kind, id, view, { spend, max_budget: maxBudget }, crossed ? 'budget_crossed' : 'threshold_crossed',
    `${ENTITY[kind]} Budget: ${crossed ? 'Budget Crossed' : `${Math.round(threshold * 100)}% Threshold Crossed`}`);
}

/** The soft budget crossing as LiteLLM's webhook alerting sends it: `event` soft_budget_crossed, with `soft_budget`. */
export function softBudgetWebhookEvent(kind: BudgetEntityKind, id: string, view: WebhookView, spend: number, softBudget: number, maxBudget: number | null): string {
  return webhookEvent(kind, id, view, { spend, max_budget: maxBudget, soft_budget: softBudget }, 'soft_budget_crossed', `Soft Budget Crossed: Total Soft Budget: ${money(softBudget)}`);
}

type WebhookView = { alias: string | null; userId: string | null; teamId: string | null; organizationId: string | null };

function webhookEvent(kind: BudgetEntityKind, id: string, view: WebhookView, amounts: Record<string, number | null>, event: string, message: string): string {
  return JSON.stringify({
    ...amounts,
    token: kind === 'key' ? id : null,
    customer_id: null,
    user_id: kind === 'user' ? id : view.userId,
    team_id: kind === 'team' ? id : view.teamId,
    team_alias: kind === 'team' ? view.alias : null,
    organization_id: kind === 'org' ? id : view.organizationId,
    user_email: null,
    key_alias: kind === 'key' ? view.alias : null,
    projected_exceeded_date: null,
    projected_spend: null,
    event,
    event_group: EVENT_GROUP[kind],
    event_message: message,
  });
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
