/**
 * A credential written out in config.yaml rather than as `os.environ/NAME`: config.yaml is compiled into the
 * Worker bundle, so the value ships in it as plain text. Every section holding a secret (team settings, the
 * s3 and aws_sqs callbacks, Langfuse prompts) warns about it with the same words, naming the path, never the value.
 */
import { envRefName } from './env-ref.ts';

/** The Worker whose secret an `os.environ/NAME` should name: the one that reads the value. */
export type SecretHolder = 'the Worker' | 'the admin Worker' | 'the Workers';

/**
 * One warning for each of `fields` of `values` (at config path `at`) written out in plain text. A value that is
 * not a string, or is blank, is no secret (it reads as unset).
 */
export function plainSecretWarnings<T extends object>(at: string, values: T | undefined, fields: readonly (keyof T & string)[], holder: SecretHolder): string[] {
  return fields.flatMap((field) => {
    const value: unknown = values?.[field];
    return typeof value === 'string' && value.trim() !== '' && envRefName(value) === undefined
      ? [`${at}.${field}: compiled into the Worker bundle in plain text; os.environ/NAME (a secret of ${holder}) keeps it out`]
      : [];
  });
}
