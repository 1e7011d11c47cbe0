CREATE TABLE "LiteLLM_AgentsTable" (
	"agent_id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"agent_name" text NOT NULL,
	"litellm_params" jsonb,
	"agent_card_params" jsonb,
	"agent_access_groups" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_by" text,
	CONSTRAINT "LiteLLM_AgentsTable_agent_name_unique" UNIQUE("agent_name")
);
