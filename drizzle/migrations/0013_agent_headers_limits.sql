ALTER TABLE "LiteLLM_AgentsTable" ADD COLUMN "tpm_limit" bigint;--> statement-breakpoint
ALTER TABLE "LiteLLM_AgentsTable" ADD COLUMN "rpm_limit" bigint;--> statement-breakpoint
ALTER TABLE "LiteLLM_AgentsTable" ADD COLUMN "static_headers" jsonb;--> statement-breakpoint
ALTER TABLE "LiteLLM_AgentsTable" ADD COLUMN "extra_headers" text[] DEFAULT '{}'::text[] NOT NULL;