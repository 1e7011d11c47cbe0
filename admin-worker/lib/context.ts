import type { Context } from 'hono';
import type { Caller } from '../../worker/auth/authenticate.ts';
import type { Database } from '../../worker/db/client.ts';
import type { AdminEnv } from '../env.ts';

/** What every admin route handler gets: the caller (set by the auth middleware) and a lazily opened database. */
export interface AdminVariables {
  caller: Caller;
  /** The caller's user row role, when the caller is a virtual key with a user (LiteLLM's RBAC). */
  role: AdminRole;
  /**
   * Set for a delegated key (lib/auth.ts): one whose `created_by` is another user, not a proxy admin, so
   * it acts in the admin API as no user (callerUserId is null). Holds that creator, for `created_by`.
   */
  delegatedBy?: string;
  db: () => Database;
}

export type AdminRole = 'proxy_admin' | 'proxy_admin_viewer' | 'internal_user' | 'internal_user_viewer' | 'team' | 'customer' | 'org_admin';

export type AdminBindings = { Bindings: AdminEnv; Variables: AdminVariables };
export type AdminContext = Context<AdminBindings>;
