CREATE TABLE "LiteLLM_JWTKeyMapping" (
	"id" text PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"jwt_issuer" text DEFAULT '' NOT NULL,
	"jwt_claim_name" text NOT NULL,
	"jwt_claim_value" text NOT NULL,
	"token" text NOT NULL,
	"description" text,
	"is_active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_by" text,
	CONSTRAINT "LiteLLM_JWTKeyMapping_claim_issuer_key" UNIQUE("jwt_claim_name","jwt_claim_value","jwt_issuer")
);
--> statement-breakpoint
ALTER TABLE "LiteLLM_JWTKeyMapping" ADD CONSTRAINT "LiteLLM_JWTKeyMapping_token_LiteLLM_VerificationToken_token_fk" FOREIGN KEY ("token") REFERENCES "public"."LiteLLM_VerificationToken"("token") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
CREATE INDEX "LiteLLM_JWTKeyMapping_token_idx" ON "LiteLLM_JWTKeyMapping" USING btree ("token");