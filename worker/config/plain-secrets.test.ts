import { describe, expect, it } from 'vitest';
import { plainSecretWarnings } from './plain-secrets.ts';
import { s3CallbackWarnings } from './s3-callback-schema.ts';
import { sqsCallbackWarnings } from './sqs-callback-schema.ts';
import { teamSettingsWarnings } from './team-settings-schema.ts';

const plain = (path: string, holder: string) => `${path}: compiled into the Worker bundle in plain text; os.environ/NAME (a secret of ${holder}) keeps it out`;

describe('credentials written out in config.yaml', () => {
  it('are warned about by path, never quoting the value; os.environ/ references, blanks and non-strings are not', () => {
    const values = { secret: 'sk-plain-value', ref: 'os.environ/SECRET', blank: '  ', number: 7 };
    const warnings = plainSecretWarnings('x', values, ['secret', 'ref', 'blank', 'number'], 'the Worker');
    expect(warnings).toEqual([plain('x.secret', 'the Worker')]);
    expect(plainSecretWarnings<{ secret?: string }>('x', undefined, ['secret'], 'the Worker')).toEqual([]);
  });

  it("name the Worker that reads them: the admin Worker for s3 and aws_sqs, both Workers for a team's Langfuse keys", () => {
    const s3 = s3CallbackWarnings({ s3_bucket_name: 'b', s3_aws_secret_access_key: 'AWS-SECRET', s3_aws_session_token: 'os.environ/TOKEN' }, true);
    expect(s3).toEqual([plain('litellm_settings.s3_callback_params.s3_aws_secret_access_key', 'the admin Worker')]);
    const sqs = sqsCallbackWarnings({ sqs_queue_url: 'https://sqs.example/q', sqs_aws_session_token: 'TOKEN', sqs_app_encryption_key_b64: 'a2V5' }, true);
    expect(sqs).toEqual([
      plain('litellm_settings.aws_sqs_callback_params.sqs_aws_session_token', 'the admin Worker'),
      plain('litellm_settings.aws_sqs_callback_params.sqs_app_encryption_key_b64', 'the admin Worker'),
    ]);
    const team = teamSettingsWarnings([{ team_id: 't', success_callback: ['langfuse'], langfuse_public_key: 'pk', langfuse_secret: 'sk-lf-plain' }]);
    expect(team).toEqual([plain('litellm_settings.default_team_settings[0].langfuse_secret', 'the Workers')]);
    for (const w of [...s3, ...sqs, ...team]) expect(w).not.toMatch(/AWS-SECRET|TOKEN|a2V5|sk-lf-plain/);
  });
});
