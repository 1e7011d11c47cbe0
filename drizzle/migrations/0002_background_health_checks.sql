CREATE TABLE "LiteLLM_HealthCheckTable" (
	"health_check_id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"model_name" text NOT NULL,
	"model_id" text,
	"status" text NOT NULL,
	"healthy_count" integer DEFAULT 0 NOT NULL,
	"unhealthy_count" integer DEFAULT 0 NOT NULL,
	"error_message" text,
	"response_time_ms" double precision,
	"details" jsonb,
	"checked_by" text,
	"checked_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "LiteLLM_HealthCheckTable_model_id_checked_at_idx" ON "LiteLLM_HealthCheckTable" USING btree ("model_id","checked_at");--> statement-breakpoint
CREATE INDEX "LiteLLM_HealthCheckTable_checked_at_idx" ON "LiteLLM_HealthCheckTable" USING btree ("checked_at");