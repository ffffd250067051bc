/**
 * Issue 10, item 4: on a cold start the first list waits (bounded by `startupWaitMs`) for the
 * eager servers still starting, so a client that lists once sees them.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { fixtureServer, startCoordinator, startV2, tempDir, writeConfig } from '../helpers/coordinator.js';

describe('a complete first list', () => {
  const dir = tempDir();
  after(() => dir.remove());

  const firstList = async (
    startupWaitMs: number,
    startDelayMs: number,
    era: 'legacy' | 'modern' = 'legacy',
  ) => {
    const file = writeConfig(
      dir.path,
      { servers: { slow: fixtureServer('slow', '--start-delay', String(startDelayMs)) }, startupWaitMs },
      `wait-${startupWaitMs}-${era}.yml`,
    );
    const c = era === 'legacy' ? await startCoordinator(file) : await startV2(file, { era: 'modern' });
    try {
      return (await c.client.listTools()).tools.map((t) => t.name);
    } finally {
      await c.close();
    }
  };

  test('waits for a server still starting, within startupWaitMs', async () => {
    const names = await firstList(20_000, 1_500);
    assert.ok(names.includes('slow__echo'), names.join(', '));
    assert.ok(names.includes('coordinator__health'));
  });

  test('startupWaitMs: 0 answers at once with what is ready', async () => {
    // The server needs far longer than any start-up of ours, loaded machine or not.
    const names = await firstList(0, 30_000);
    assert.ok(!names.includes('slow__echo'));
    assert.ok(names.includes('coordinator__health'));
  });

  test('a modern client (2026-07-28) gets the same complete first list', async () => {
    const names = await firstList(20_000, 1_500, 'modern');
    assert.ok(names.includes('slow__echo'), names.join(', '));
  });
});
