/** The kinds of limited entity; each has one limiter object per id (client.ts). Apart from client.ts so pure code and Node tests need no Workers types. */
/** `agent`: an A2A agent's own `rpm_limit` / `tpm_limit` (a2a/agent-limits.ts), every key's calls to it together. */
export type EntityKind = 'key' | 'team' | 'org' | 'user' | 'team_member' | 'end_user' | 'global' | 'agent';

/** A team member's limiter id (`max_budget_in_team`): as the budget reset job names LiteLLM_TeamMembership rows. */
export const teamMemberId = (userId: string, teamId: string): string => `${userId}:${teamId}`;
