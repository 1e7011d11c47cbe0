ALTER TABLE "LiteLLM_DeletedVerificationToken" ADD COLUMN "budget_limits" jsonb;--> statement-breakpoint
ALTER TABLE "LiteLLM_VerificationToken" ADD COLUMN "budget_limits" jsonb;--> statement-breakpoint
ALTER TABLE "LiteLLM_DeletedTeamTable" ADD COLUMN "budget_limits" jsonb;--> statement-breakpoint
ALTER TABLE "LiteLLM_TeamTable" ADD COLUMN "budget_limits" jsonb;--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_team_id_startTime_idx" ON "LiteLLM_SpendLogs" USING btree ("team_id","startTime");--> statement-breakpoint
-- Written by hand: keys kept budget_limits in metadata before this column (accepted, never enforced).
-- Each well-formed window moves here (a duration of up to ten years, max_budget a number >= 0, the
-- first of two that name the same window), with its next end in UTC (SQL does not know the config's
-- litellm_settings.timezone; answers and the limiter bring a past end forward), and leaves metadata.
UPDATE "LiteLLM_VerificationToken" AS k SET
  budget_limits = CASE WHEN jsonb_typeof(k.metadata->'budget_limits') = 'array' THEN (
    SELECT COALESCE(jsonb_agg(jsonb_build_object(
      'budget_duration', w.duration,
      'max_budget', w.max_budget,
      'reset_at', to_char(CASE
        WHEN w.duration IN ('1d', '24h') THEN date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day'
        WHEN w.duration IN ('7d', '1w') THEN date_trunc('week', now() AT TIME ZONE 'UTC') + interval '7 days'
        WHEN w.duration IN ('30d', '1mo') THEN date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month'
        ELSE (now() AT TIME ZONE 'UTC') + make_interval(secs => w.seconds)
      END, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    ) ORDER BY w.position), '[]'::jsonb)
    FROM (
      SELECT DISTINCT ON (v.window_name) v.duration, v.max_budget, v.seconds, v.position
      FROM (
        SELECT p.duration, p.max_budget, p.seconds, p.position,
          CASE WHEN p.duration IN ('1d', '24h') THEN 'day' WHEN p.duration IN ('7d', '1w') THEN 'week'
            WHEN p.duration IN ('30d', '1mo') THEN 'month' ELSE p.seconds::text END AS window_name
        FROM (
          SELECT e.value->>'budget_duration' AS duration, e.position,
            -- Cast only what is a JSON number (a qual may be evaluated before another; a cast must not fail).
            CASE WHEN jsonb_typeof(e.value->'max_budget') = 'number' AND (e.value->>'max_budget')::numeric BETWEEN 0 AND 1e300
              THEN (e.value->>'max_budget')::double precision END AS max_budget,
            m[1]::bigint * CASE m[2] WHEN 's' THEN 1 WHEN 'm' THEN 60 WHEN 'h' THEN 3600 WHEN 'd' THEN 86400 WHEN 'w' THEN 604800 ELSE 2592000 END AS seconds
          FROM jsonb_array_elements(k.metadata->'budget_limits') WITH ORDINALITY AS e(value, position)
          CROSS JOIN LATERAL regexp_match(e.value->>'budget_duration', '^([0-9]{1,9})(s|m|h|d|w|mo)$') AS m
          WHERE jsonb_typeof(e.value) = 'object'
        ) p
        WHERE p.seconds > 0 AND p.seconds <= 3650 * 86400 AND p.max_budget IS NOT NULL
      ) v
      ORDER BY v.window_name, v.position
    ) w
  ) END,
  metadata = k.metadata - 'budget_limits'
WHERE k.metadata ? 'budget_limits';
