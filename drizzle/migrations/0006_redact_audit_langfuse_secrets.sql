-- Written by hand: audit rows written before the audit log left out a key's or team's own Langfuse secret
-- (metadata.logging[].callback_vars.langfuse_secret_key, callback_settings.callback_vars.langfuse_secret)
-- held it in their before/after values, which GET /audit now shows admin viewers. Each such value, a JSON
-- string wherever it sits, becomes "[redacted]", as the audit log writes it now.
UPDATE "LiteLLM_AuditLog" SET
  before_value = regexp_replace(before_value::text, '("langfuse_secret(_key)?"\s*:\s*)"(?:[^"\\]|\\.)*"', '\1"[redacted]"', 'g')::json,
  updated_values = regexp_replace(updated_values::text, '("langfuse_secret(_key)?"\s*:\s*)"(?:[^"\\]|\\.)*"', '\1"[redacted]"', 'g')::json
WHERE before_value::text ~ '"langfuse_secret(_key)?"\s*:\s*"' OR updated_values::text ~ '"langfuse_secret(_key)?"\s*:\s*"';
