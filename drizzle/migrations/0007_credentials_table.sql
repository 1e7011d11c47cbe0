CREATE TABLE "LiteLLM_CredentialsTable" (
	"credential_id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"credential_name" text NOT NULL,
	"credential_values" jsonb NOT NULL,
	"credential_info" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_by" text,
	CONSTRAINT "LiteLLM_CredentialsTable_credential_name_unique" UNIQUE("credential_name")
);
