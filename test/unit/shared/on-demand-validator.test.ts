import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OnDemandSchemaValidator } from '../../../src/shared/on-demand-validator.js';

describe('OnDemandSchemaValidator', () => {
  it('builds nothing until a validator runs, then validates like Ajv', () => {
    const provider = new OnDemandSchemaValidator();
    const validate = provider.getValidator<{ n: number }>({
      type: 'object',
      properties: { n: { type: 'number' } },
      required: ['n'],
    });
    assert.equal((provider as unknown as { ajv?: unknown }).ajv, undefined);
    assert.deepEqual(validate({ n: 1 }), { valid: true, data: { n: 1 }, errorMessage: undefined });
    const bad = validate({ n: 'x' });
    assert.equal(bad.valid, false);
    assert.match(bad.errorMessage ?? '', /number/);
  });
});
