CREATE TABLE "LiteLLM_PromptTable" (
	"id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"prompt_id" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"environment" text DEFAULT 'development' NOT NULL,
	"created_by" text,
	"litellm_params" jsonb NOT NULL,
	"prompt_info" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "LiteLLM_PromptTable_prompt_id_version_key" UNIQUE("prompt_id","version")
);
