CREATE TABLE "Tollgate_SpendLogIds" (
	"request_id" text PRIMARY KEY NOT NULL,
	"written_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "Tollgate_SpendLogIds_written_at_idx" ON "Tollgate_SpendLogIds" USING btree ("written_at");