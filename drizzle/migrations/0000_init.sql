CREATE TABLE "LiteLLM_BudgetTable" (
	"budget_id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"max_budget" double precision,
	"soft_budget" double precision,
	"max_parallel_requests" integer,
	"tpm_limit" bigint,
	"rpm_limit" bigint,
	"model_max_budget" jsonb,
	"budget_duration" text,
	"budget_reset_at" timestamp (3) with time zone,
	"allowed_models" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_DeletedVerificationToken" (
	"id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"token" text NOT NULL,
	"key_name" text,
	"key_alias" text,
	"spend" double precision DEFAULT 0 NOT NULL,
	"expires" timestamp (3) with time zone,
	"models" text[] DEFAULT '{}'::text[] NOT NULL,
	"aliases" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"user_id" text,
	"team_id" text,
	"organization_id" text,
	"permissions" jsonb,
	"max_parallel_requests" integer,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"blocked" boolean,
	"tpm_limit" bigint,
	"rpm_limit" bigint,
	"max_budget" double precision,
	"budget_duration" text,
	"budget_reset_at" timestamp (3) with time zone,
	"soft_budget" double precision,
	"soft_budget_cooldown" boolean DEFAULT false NOT NULL,
	"allowed_cache_controls" text[] DEFAULT '{}'::text[] NOT NULL,
	"allowed_routes" text[] DEFAULT '{}'::text[] NOT NULL,
	"model_spend" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"model_max_budget" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"model_rpm_limit" jsonb,
	"model_tpm_limit" jsonb,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_by" text,
	"last_active" timestamp (3) with time zone,
	"rotation_count" integer DEFAULT 0 NOT NULL,
	"last_rotation_at" timestamp (3) with time zone,
	"budget_id" text,
	"deleted_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deleted_by" text,
	"deleted_by_api_key" text,
	"litellm_changed_by" text
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_DeprecatedVerificationToken" (
	"id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"token" text NOT NULL,
	"active_token_id" text NOT NULL,
	"revoke_at" timestamp (3) with time zone NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "LiteLLM_DeprecatedVerificationToken_token_key" UNIQUE("token")
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_VerificationToken" (
	"token" text PRIMARY KEY NOT NULL,
	"key_name" text,
	"key_alias" text,
	"spend" double precision DEFAULT 0 NOT NULL,
	"expires" timestamp (3) with time zone,
	"models" text[] DEFAULT '{}'::text[] NOT NULL,
	"aliases" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"user_id" text,
	"team_id" text,
	"organization_id" text,
	"permissions" jsonb,
	"max_parallel_requests" integer,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"blocked" boolean,
	"tpm_limit" bigint,
	"rpm_limit" bigint,
	"max_budget" double precision,
	"budget_duration" text,
	"budget_reset_at" timestamp (3) with time zone,
	"soft_budget" double precision,
	"soft_budget_cooldown" boolean DEFAULT false NOT NULL,
	"allowed_cache_controls" text[] DEFAULT '{}'::text[] NOT NULL,
	"allowed_routes" text[] DEFAULT '{}'::text[] NOT NULL,
	"model_spend" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"model_max_budget" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"model_rpm_limit" jsonb,
	"model_tpm_limit" jsonb,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_by" text,
	"last_active" timestamp (3) with time zone,
	"rotation_count" integer DEFAULT 0 NOT NULL,
	"last_rotation_at" timestamp (3) with time zone,
	"budget_id" text
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_DeletedTeamTable" (
	"id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"team_id" text NOT NULL,
	"team_alias" text,
	"organization_id" text,
	"admins" text[] DEFAULT '{}'::text[] NOT NULL,
	"members" text[] DEFAULT '{}'::text[] NOT NULL,
	"members_with_roles" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"max_budget" double precision,
	"soft_budget" double precision,
	"team_spend" double precision DEFAULT 0 NOT NULL,
	"models" text[] DEFAULT '{}'::text[] NOT NULL,
	"max_parallel_requests" integer,
	"tpm_limit" bigint,
	"rpm_limit" bigint,
	"budget_duration" text,
	"budget_reset_at" timestamp (3) with time zone,
	"blocked" boolean DEFAULT false NOT NULL,
	"model_spend" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"model_max_budget" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"model_rpm_limit" jsonb,
	"model_tpm_limit" jsonb,
	"model_aliases" jsonb,
	"team_created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"budget_id" text,
	"deleted_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deleted_by" text,
	"deleted_by_api_key" text,
	"litellm_changed_by" text
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_TeamMembership" (
	"user_id" text NOT NULL,
	"team_id" text NOT NULL,
	"spend" double precision DEFAULT 0 NOT NULL,
	"budget_id" text,
	CONSTRAINT "LiteLLM_TeamMembership_pkey" PRIMARY KEY("user_id","team_id")
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_TeamTable" (
	"team_id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"team_alias" text,
	"organization_id" text,
	"admins" text[] DEFAULT '{}'::text[] NOT NULL,
	"members" text[] DEFAULT '{}'::text[] NOT NULL,
	"members_with_roles" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"max_budget" double precision,
	"soft_budget" double precision,
	"team_spend" double precision DEFAULT 0 NOT NULL,
	"models" text[] DEFAULT '{}'::text[] NOT NULL,
	"max_parallel_requests" integer,
	"tpm_limit" bigint,
	"rpm_limit" bigint,
	"budget_duration" text,
	"budget_reset_at" timestamp (3) with time zone,
	"blocked" boolean DEFAULT false NOT NULL,
	"model_spend" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"model_max_budget" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"model_rpm_limit" jsonb,
	"model_tpm_limit" jsonb,
	"model_aliases" jsonb,
	"team_created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"budget_id" text
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_EndUserTable" (
	"user_id" text PRIMARY KEY NOT NULL,
	"alias" text,
	"spend" double precision DEFAULT 0 NOT NULL,
	"allowed_model_region" text,
	"default_model" text,
	"budget_id" text,
	"blocked" boolean DEFAULT false NOT NULL,
	"metadata" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_OrganizationMembership" (
	"user_id" text NOT NULL,
	"organization_id" text NOT NULL,
	"user_role" text,
	"spend" double precision DEFAULT 0 NOT NULL,
	"budget_id" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "LiteLLM_OrganizationMembership_pkey" PRIMARY KEY("user_id","organization_id")
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_OrganizationTable" (
	"organization_id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"organization_alias" text,
	"budget_id" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"models" text[] DEFAULT '{}'::text[] NOT NULL,
	"spend" double precision DEFAULT 0 NOT NULL,
	"model_spend" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_UserTable" (
	"user_id" text PRIMARY KEY NOT NULL,
	"user_alias" text,
	"team_id" text,
	"sso_user_id" text,
	"organization_id" text,
	"password" text,
	"teams" text[] DEFAULT '{}'::text[] NOT NULL,
	"user_role" text,
	"max_budget" double precision,
	"spend" double precision DEFAULT 0 NOT NULL,
	"user_email" text,
	"models" text[] DEFAULT '{}'::text[] NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"max_parallel_requests" integer,
	"tpm_limit" bigint,
	"rpm_limit" bigint,
	"budget_duration" text,
	"budget_reset_at" timestamp (3) with time zone,
	"allowed_cache_controls" text[] DEFAULT '{}'::text[] NOT NULL,
	"model_spend" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"model_max_budget" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "LiteLLM_UserTable_sso_user_id_key" UNIQUE("sso_user_id")
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_SpendLogs" (
	"request_id" text PRIMARY KEY NOT NULL,
	"call_type" text DEFAULT '' NOT NULL,
	"api_key" text DEFAULT '' NOT NULL,
	"spend" double precision DEFAULT 0 NOT NULL,
	"total_tokens" integer DEFAULT 0 NOT NULL,
	"prompt_tokens" integer DEFAULT 0 NOT NULL,
	"completion_tokens" integer DEFAULT 0 NOT NULL,
	"cache_read_input_tokens" integer DEFAULT 0 NOT NULL,
	"cache_creation_input_tokens" integer DEFAULT 0 NOT NULL,
	"startTime" timestamp (3) with time zone NOT NULL,
	"endTime" timestamp (3) with time zone NOT NULL,
	"completionStartTime" timestamp (3) with time zone,
	"request_duration_ms" integer,
	"model" text DEFAULT '' NOT NULL,
	"model_id" text DEFAULT '',
	"model_group" text DEFAULT '',
	"custom_llm_provider" text DEFAULT '',
	"api_base" text DEFAULT '',
	"user" text DEFAULT '',
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"cache_hit" boolean DEFAULT false NOT NULL,
	"cache_key" text,
	"request_tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"team_id" text,
	"organization_id" text,
	"end_user" text,
	"requester_ip_address" text,
	"messages" jsonb,
	"response" jsonb,
	"session_id" text,
	"status" text DEFAULT 'success' NOT NULL,
	"error_type" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_DailyEndUserSpend" (
	"id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"end_user_id" text NOT NULL,
	"date" text NOT NULL,
	"api_key" text DEFAULT '' NOT NULL,
	"model" text DEFAULT '' NOT NULL,
	"model_group" text,
	"custom_llm_provider" text DEFAULT '' NOT NULL,
	"endpoint" text DEFAULT '' NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_read_input_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_creation_input_tokens" bigint DEFAULT 0 NOT NULL,
	"spend" double precision DEFAULT 0 NOT NULL,
	"api_requests" bigint DEFAULT 0 NOT NULL,
	"successful_requests" bigint DEFAULT 0 NOT NULL,
	"failed_requests" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "LiteLLM_DailyEndUserSpend_upsert_key" UNIQUE("end_user_id","date","api_key","model","custom_llm_provider","endpoint")
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_DailyKeySpend" (
	"id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"date" text NOT NULL,
	"api_key" text DEFAULT '' NOT NULL,
	"model" text DEFAULT '' NOT NULL,
	"model_group" text,
	"custom_llm_provider" text DEFAULT '' NOT NULL,
	"endpoint" text DEFAULT '' NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_read_input_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_creation_input_tokens" bigint DEFAULT 0 NOT NULL,
	"spend" double precision DEFAULT 0 NOT NULL,
	"api_requests" bigint DEFAULT 0 NOT NULL,
	"successful_requests" bigint DEFAULT 0 NOT NULL,
	"failed_requests" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "LiteLLM_DailyKeySpend_upsert_key" UNIQUE("api_key","date","model","custom_llm_provider","endpoint")
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_DailyOrganizationSpend" (
	"id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"organization_id" text NOT NULL,
	"date" text NOT NULL,
	"api_key" text DEFAULT '' NOT NULL,
	"model" text DEFAULT '' NOT NULL,
	"model_group" text,
	"custom_llm_provider" text DEFAULT '' NOT NULL,
	"endpoint" text DEFAULT '' NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_read_input_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_creation_input_tokens" bigint DEFAULT 0 NOT NULL,
	"spend" double precision DEFAULT 0 NOT NULL,
	"api_requests" bigint DEFAULT 0 NOT NULL,
	"successful_requests" bigint DEFAULT 0 NOT NULL,
	"failed_requests" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "LiteLLM_DailyOrganizationSpend_upsert_key" UNIQUE("organization_id","date","api_key","model","custom_llm_provider","endpoint")
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_DailyTagSpend" (
	"id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"tag" text NOT NULL,
	"date" text NOT NULL,
	"api_key" text DEFAULT '' NOT NULL,
	"model" text DEFAULT '' NOT NULL,
	"model_group" text,
	"custom_llm_provider" text DEFAULT '' NOT NULL,
	"endpoint" text DEFAULT '' NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_read_input_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_creation_input_tokens" bigint DEFAULT 0 NOT NULL,
	"spend" double precision DEFAULT 0 NOT NULL,
	"api_requests" bigint DEFAULT 0 NOT NULL,
	"successful_requests" bigint DEFAULT 0 NOT NULL,
	"failed_requests" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "LiteLLM_DailyTagSpend_upsert_key" UNIQUE("tag","date","api_key","model","custom_llm_provider","endpoint")
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_DailyTeamSpend" (
	"id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"team_id" text NOT NULL,
	"date" text NOT NULL,
	"api_key" text DEFAULT '' NOT NULL,
	"model" text DEFAULT '' NOT NULL,
	"model_group" text,
	"custom_llm_provider" text DEFAULT '' NOT NULL,
	"endpoint" text DEFAULT '' NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_read_input_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_creation_input_tokens" bigint DEFAULT 0 NOT NULL,
	"spend" double precision DEFAULT 0 NOT NULL,
	"api_requests" bigint DEFAULT 0 NOT NULL,
	"successful_requests" bigint DEFAULT 0 NOT NULL,
	"failed_requests" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "LiteLLM_DailyTeamSpend_upsert_key" UNIQUE("team_id","date","api_key","model","custom_llm_provider","endpoint")
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_DailyUserSpend" (
	"id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"user_id" text NOT NULL,
	"date" text NOT NULL,
	"api_key" text DEFAULT '' NOT NULL,
	"model" text DEFAULT '' NOT NULL,
	"model_group" text,
	"custom_llm_provider" text DEFAULT '' NOT NULL,
	"endpoint" text DEFAULT '' NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_read_input_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_creation_input_tokens" bigint DEFAULT 0 NOT NULL,
	"spend" double precision DEFAULT 0 NOT NULL,
	"api_requests" bigint DEFAULT 0 NOT NULL,
	"successful_requests" bigint DEFAULT 0 NOT NULL,
	"failed_requests" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "LiteLLM_DailyUserSpend_upsert_key" UNIQUE("user_id","date","api_key","model","custom_llm_provider","endpoint")
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_AuditLog" (
	"id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"changed_by" text DEFAULT '' NOT NULL,
	"changed_by_api_key" text DEFAULT '' NOT NULL,
	"action" text NOT NULL,
	"table_name" text NOT NULL,
	"object_id" text NOT NULL,
	"before_value" jsonb,
	"updated_values" jsonb
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_Config" (
	"param_name" text PRIMARY KEY NOT NULL,
	"param_value" jsonb
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_ProxyModelTable" (
	"model_id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"model_name" text NOT NULL,
	"litellm_params" jsonb NOT NULL,
	"model_info" jsonb,
	"blocked" boolean DEFAULT false NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
ALTER TABLE "LiteLLM_VerificationToken" ADD CONSTRAINT "LiteLLM_VerificationToken_budget_id_fkey" FOREIGN KEY ("budget_id") REFERENCES "public"."LiteLLM_BudgetTable"("budget_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "LiteLLM_TeamMembership" ADD CONSTRAINT "LiteLLM_TeamMembership_budget_id_fkey" FOREIGN KEY ("budget_id") REFERENCES "public"."LiteLLM_BudgetTable"("budget_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "LiteLLM_TeamTable" ADD CONSTRAINT "LiteLLM_TeamTable_budget_id_fkey" FOREIGN KEY ("budget_id") REFERENCES "public"."LiteLLM_BudgetTable"("budget_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "LiteLLM_EndUserTable" ADD CONSTRAINT "LiteLLM_EndUserTable_budget_id_fkey" FOREIGN KEY ("budget_id") REFERENCES "public"."LiteLLM_BudgetTable"("budget_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "LiteLLM_OrganizationMembership" ADD CONSTRAINT "LiteLLM_OrganizationMembership_budget_id_fkey" FOREIGN KEY ("budget_id") REFERENCES "public"."LiteLLM_BudgetTable"("budget_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "LiteLLM_OrganizationTable" ADD CONSTRAINT "LiteLLM_OrganizationTable_budget_id_fkey" FOREIGN KEY ("budget_id") REFERENCES "public"."LiteLLM_BudgetTable"("budget_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "LiteLLM_DeletedVerificationToken_token_idx" ON "LiteLLM_DeletedVerificationToken" USING btree ("token");--> statement-breakpoint
CREATE INDEX "LiteLLM_DeletedVerificationToken_deleted_at_idx" ON "LiteLLM_DeletedVerificationToken" USING btree ("deleted_at");--> statement-breakpoint
CREATE INDEX "LiteLLM_DeletedVerificationToken_team_id_idx" ON "LiteLLM_DeletedVerificationToken" USING btree ("team_id");--> statement-breakpoint
CREATE INDEX "LiteLLM_DeprecatedVerificationToken_active_token_id_idx" ON "LiteLLM_DeprecatedVerificationToken" USING btree ("active_token_id");--> statement-breakpoint
CREATE INDEX "LiteLLM_DeprecatedVerificationToken_revoke_at_idx" ON "LiteLLM_DeprecatedVerificationToken" USING btree ("revoke_at");--> statement-breakpoint
CREATE INDEX "LiteLLM_VerificationToken_user_id_team_id_idx" ON "LiteLLM_VerificationToken" USING btree ("user_id","team_id");--> statement-breakpoint
CREATE INDEX "LiteLLM_VerificationToken_team_id_idx" ON "LiteLLM_VerificationToken" USING btree ("team_id");--> statement-breakpoint
CREATE INDEX "LiteLLM_VerificationToken_budget_reset_at_expires_idx" ON "LiteLLM_VerificationToken" USING btree ("budget_reset_at","expires");--> statement-breakpoint
CREATE INDEX "LiteLLM_VerificationToken_key_alias_idx" ON "LiteLLM_VerificationToken" USING btree ("key_alias");--> statement-breakpoint
CREATE INDEX "LiteLLM_DeletedTeamTable_team_id_idx" ON "LiteLLM_DeletedTeamTable" USING btree ("team_id");--> statement-breakpoint
CREATE INDEX "LiteLLM_DeletedTeamTable_deleted_at_idx" ON "LiteLLM_DeletedTeamTable" USING btree ("deleted_at");--> statement-breakpoint
CREATE INDEX "LiteLLM_TeamTable_organization_id_idx" ON "LiteLLM_TeamTable" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "LiteLLM_TeamTable_team_alias_idx" ON "LiteLLM_TeamTable" USING btree ("team_alias");--> statement-breakpoint
CREATE INDEX "LiteLLM_OrganizationMembership_organization_id_idx" ON "LiteLLM_OrganizationMembership" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "LiteLLM_UserTable_user_email_idx" ON "LiteLLM_UserTable" USING btree ("user_email");--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_startTime_idx" ON "LiteLLM_SpendLogs" USING btree ("startTime");--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_api_key_startTime_idx" ON "LiteLLM_SpendLogs" USING btree ("api_key","startTime");--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_team_id_created_at_idx" ON "LiteLLM_SpendLogs" USING btree ("team_id","created_at");--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_created_at_idx" ON "LiteLLM_SpendLogs" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_end_user_idx" ON "LiteLLM_SpendLogs" USING btree ("end_user");--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_session_id_idx" ON "LiteLLM_SpendLogs" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_organization_id_created_at_idx" ON "LiteLLM_SpendLogs" USING btree ("organization_id","created_at");--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_user_idx" ON "LiteLLM_SpendLogs" USING btree ("user");--> statement-breakpoint
CREATE INDEX "LiteLLM_DailyEndUserSpend_date_idx" ON "LiteLLM_DailyEndUserSpend" USING btree ("date");--> statement-breakpoint
CREATE INDEX "LiteLLM_DailyEndUserSpend_end_user_id_date_idx" ON "LiteLLM_DailyEndUserSpend" USING btree ("end_user_id","date");--> statement-breakpoint
CREATE INDEX "LiteLLM_DailyKeySpend_date_idx" ON "LiteLLM_DailyKeySpend" USING btree ("date");--> statement-breakpoint
CREATE INDEX "LiteLLM_DailyKeySpend_api_key_date_idx" ON "LiteLLM_DailyKeySpend" USING btree ("api_key","date");--> statement-breakpoint
CREATE INDEX "LiteLLM_DailyOrganizationSpend_date_idx" ON "LiteLLM_DailyOrganizationSpend" USING btree ("date");--> statement-breakpoint
CREATE INDEX "LiteLLM_DailyOrganizationSpend_organization_id_date_idx" ON "LiteLLM_DailyOrganizationSpend" USING btree ("organization_id","date");--> statement-breakpoint
CREATE INDEX "LiteLLM_DailyTagSpend_date_idx" ON "LiteLLM_DailyTagSpend" USING btree ("date");--> statement-breakpoint
CREATE INDEX "LiteLLM_DailyTagSpend_tag_date_idx" ON "LiteLLM_DailyTagSpend" USING btree ("tag","date");--> statement-breakpoint
CREATE INDEX "LiteLLM_DailyTeamSpend_date_idx" ON "LiteLLM_DailyTeamSpend" USING btree ("date");--> statement-breakpoint
CREATE INDEX "LiteLLM_DailyTeamSpend_team_id_date_idx" ON "LiteLLM_DailyTeamSpend" USING btree ("team_id","date");--> statement-breakpoint
CREATE INDEX "LiteLLM_DailyUserSpend_date_idx" ON "LiteLLM_DailyUserSpend" USING btree ("date");--> statement-breakpoint
CREATE INDEX "LiteLLM_DailyUserSpend_user_id_date_idx" ON "LiteLLM_DailyUserSpend" USING btree ("user_id","date");--> statement-breakpoint
CREATE INDEX "LiteLLM_AuditLog_object_id_idx" ON "LiteLLM_AuditLog" USING btree ("object_id");--> statement-breakpoint
CREATE INDEX "LiteLLM_AuditLog_updated_at_idx" ON "LiteLLM_AuditLog" USING btree ("updated_at");--> statement-breakpoint
CREATE INDEX "LiteLLM_ProxyModelTable_model_name_idx" ON "LiteLLM_ProxyModelTable" USING btree ("model_name");--> statement-breakpoint
-- LiteLLM_TeamTable deviates from LiteLLM's "created_at" / "spend" column names on purpose.
COMMENT ON TABLE "LiteLLM_TeamTable" IS 'LiteLLM teams. LiteLLM''s created_at and spend columns are named team_created_at and team_spend here, so that unqualified created_at / spend in a query joining LiteLLM_SpendLogs and LiteLLM_TeamTable are not ambiguous and refer to the spend log. The API maps them back to created_at / spend.';--> statement-breakpoint
COMMENT ON COLUMN "LiteLLM_TeamTable"."team_created_at" IS 'LiteLLM''s created_at (renamed, see table comment).';--> statement-breakpoint
COMMENT ON COLUMN "LiteLLM_TeamTable"."team_spend" IS 'LiteLLM''s spend (renamed, see table comment).';--> statement-breakpoint
COMMENT ON TABLE "LiteLLM_DeletedTeamTable" IS 'Deleted teams: LiteLLM_TeamTable columns (team_created_at / team_spend renamed likewise) plus deleted_at / deleted_by.';
