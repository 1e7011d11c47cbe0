import compiled from 'tollgate-config';
import { interceptionOn } from './settings.ts';

/**
 * Whether the compiled config turns `websearch_interception` on, read once when the Worker loads: without it the
 * chat, Messages and Responses routes are registered as they are, so no call pays anything for the feature. (Its own module:
 * the config compiler reads settings.ts in Node, where the compiled config does not exist.)
 */
export const WEBSEARCH_CONFIGURED = interceptionOn((compiled.config as { litellm_settings?: Parameters<typeof interceptionOn>[0] } | undefined)?.litellm_settings);
