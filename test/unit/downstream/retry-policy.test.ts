import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import { attemptFailure } from '../../../src/downstream/retry-policy.js';

describe('attemptFailure', () => {
  it('names the budget of what timed out: the era probe its own, a request the connect budget', () => {
    const probe = new SdkError(
      SdkErrorCode.RequestTimeout,
      'Version negotiation probe timed out after 5000ms',
      { timeout: 5_000 },
    );
    assert.equal(
      attemptFailure('web', 30_000, probe).message,
      'web: no answer to the era probe (server/discover) within 5000 ms',
    );
    const request = new SdkError(SdkErrorCode.RequestTimeout, 'Request timed out');
    const failure = attemptFailure('web', 30_000, request);
    assert.equal(failure.message, 'web: no answer to initialize or a list request within 30000 ms');
    assert.equal(failure.reason, 'timeout');
  });
});
