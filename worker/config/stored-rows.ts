/**
 * The LiteLLM_Config rows LiteLLM keeps its database-stored settings in (`/config/update`, `/config/field/update`):
 * one row per config.yaml section, `param_value` a mapping of that section's settings (LiteLLM writes it as an
 * object or as its JSON string; `generalSettingsOf` in telemetry/email/event-settings.ts reads both). The one home
 * of their names: the email switches' `GENERAL_SETTINGS_ROW` and the model hub's `LITELLM_SETTINGS_ROW` are these.
 */
export const STORED_ROWS = {
  general_settings: 'general_settings',
  router_settings: 'router_settings',
  litellm_settings: 'litellm_settings',
  environment_variables: 'environment_variables',
} as const;

export type StoredSection = keyof typeof STORED_ROWS;
