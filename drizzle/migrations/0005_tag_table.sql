CREATE TABLE "LiteLLM_TagTable" (
	"tag_name" text PRIMARY KEY NOT NULL,
	"description" text,
	"models" text[] DEFAULT '{}'::text[] NOT NULL,
	"model_info" jsonb,
	"spend" double precision DEFAULT 0 NOT NULL,
	"budget_id" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
ALTER TABLE "LiteLLM_TagTable" ADD CONSTRAINT "LiteLLM_TagTable_budget_id_fkey" FOREIGN KEY ("budget_id") REFERENCES "public"."LiteLLM_BudgetTable"("budget_id") ON DELETE set null ON UPDATE no action;