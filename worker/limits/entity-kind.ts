/** The kinds of limited entity; each has one limiter object per id (client.ts). Apart from client.ts so pure code and Node tests need no Workers types. */
export type EntityKind = 'key' | 'team' | 'org' | 'user' | 'team_member' | 'end_user' | 'global';
