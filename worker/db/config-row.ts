/**
 * One LiteLLM_Config row's `param_value`, the one place the gateway and the admin Worker read a stored settings row
 * (router_settings, litellm_settings, ...) from. The value is returned as stored: LiteLLM writes a mapping as an
 * object or as its JSON string, and each caller reads it its own way (`generalSettingsOf` for a whole section).
 */
import { eq } from 'drizzle-orm';
import type { NeonDatabase } from 'drizzle-orm/neon-serverless';
import { litellmConfig } from '../../drizzle/schema/admin.ts';

/** Row `name`'s `param_value`, in one select; undefined when there is no such row. */
export async function readConfigRow(db: NeonDatabase, name: string): Promise<unknown> {
  const [row] = await db.select({ value: litellmConfig.param_value }).from(litellmConfig).where(eq(litellmConfig.param_name, name));
  return row?.value;
}
