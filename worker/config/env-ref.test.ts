import { describe, expect, it } from 'vitest';
import { resolveEnvRef } from './env-ref.ts';

// One reading of a per-call credential for Langfuse's, the key/team loggers' and the AWS signers' settings.
describe('resolveEnvRef', () => {
  const env = { SET: '  sk-from-env\n', BLANK: '   ', NUMBER: 5 };

  it('reads an os.environ/NAME value from the environment, trimmed', () => {
    expect(resolveEnvRef('os.environ/SET', env)).toEqual({ value: 'sk-from-env' });
  });

  it('names the variable when it is unset, blank or not text', () => {
    expect(resolveEnvRef('os.environ/UNSET', env)).toEqual({ missing: 'UNSET' });
    expect(resolveEnvRef('os.environ/BLANK', env)).toEqual({ missing: 'BLANK' });
    expect(resolveEnvRef('os.environ/NUMBER', env)).toEqual({ missing: 'NUMBER' });
  });

  it('takes a literal as written but trimmed, a blank one as unset', () => {
    expect(resolveEnvRef(' lsv2_pt_literal \n', env)).toEqual({ value: 'lsv2_pt_literal' });
    expect(resolveEnvRef('  ', env)).toEqual({});
    expect(resolveEnvRef(undefined, env)).toEqual({});
    // Not a reference (no valid variable name): a literal.
    expect(resolveEnvRef('os.environ/not-a-name', env)).toEqual({ value: 'os.environ/not-a-name' });
  });
});
