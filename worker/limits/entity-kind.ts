/** The kinds of limited entity; each has one limiter object per id (client.ts). Apart from client.ts so pure code and Node tests need no Workers types. */
export type EntityKind = 'key' | 'team' | 'org' | 'user' | 'team_member' | 'end_user' | 'global';

/** A team member's limiter id (`max_budget_in_team`): as the budget reset job names LiteLLM_TeamMembership rows. */
export const teamMemberId = (userId: string, teamId: string): string => `${userId}:${teamId}`;
