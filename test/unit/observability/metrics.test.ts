import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metrics, OTHER } from '../../../src/observability/metrics.js';

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const prefix = labels ? `${name}{${labels}} ` : `${name} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

describe('Metrics', () => {
  it('exposes every contract family with the counted labels and values', async () => {
    const servers = [
      { id: 'alpha', status: 'connected', restarts: 0 },
      { id: 'beta', status: 'restarting', restarts: 3 },
    ];
    const metrics = new Metrics({
      pool: { all: () => servers },
      locks: { list: async () => [{}, {}] },
      knownTool: (name) => name.startsWith('alpha__'),
    });
    metrics.observeCall('alpha', 'alpha__echo', 'ok', 0.02);
    metrics.observeCall('alpha', 'alpha__echo', 'ok', 0.03);
    metrics.observeCall('alpha', 'alpha__echo', 'tool_error', 0.5);
    metrics.observeCall('alpha', 'made_up_name', 'error', 2);
    metrics.observeOperation('tools/call', 0.04);
    metrics.observeOperation('tools/list', 0.001);
    metrics.countEvent('file:locked');
    metrics.countEvent('file:locked');
    metrics.countHttp('/api/servers/{id}', 200);
    metrics.countHttp('/api/servers/{id}', 404);
    metrics.countHttp('/api/servers/{id}', 200);

    const text = await metrics.text();
    const calls = 'mcp_coordinator_tool_calls_total';
    assert.equal(sample(text, calls, 'server="alpha",tool="alpha__echo",outcome="ok"'), 2);
    assert.equal(sample(text, calls, 'server="alpha",tool="alpha__echo",outcome="tool_error"'), 1);
    assert.equal(sample(text, calls, 'server="alpha",tool="other",outcome="error"'), 1);
    assert.ok(!text.includes('made_up_name'), 'a name outside the catalog is never a label');
    const duration = 'mcp_coordinator_tool_call_duration_seconds';
    assert.equal(sample(text, `${duration}_count`, 'server="alpha"'), 4);
    assert.equal(sample(text, `${duration}_bucket`, 'le="0.025",server="alpha"'), 1);
    assert.ok(Math.abs(sample(text, `${duration}_sum`, 'server="alpha"')! - 2.55) < 1e-9);
    assert.equal(sample(text, 'mcp_coordinator_downstream_up', 'server="alpha"'), 1);
    assert.equal(sample(text, 'mcp_coordinator_downstream_up', 'server="beta"'), 0);
    assert.equal(sample(text, 'mcp_coordinator_downstream_restarts_total', 'server="beta"'), 3);
    assert.equal(sample(text, 'mcp_coordinator_downstream_restarts_total', 'server="alpha"'), 0);
    assert.equal(sample(text, 'mcp_coordinator_locks_held'), 2);
    assert.equal(sample(text, 'mcp_coordinator_events_total', 'type="file:locked"'), 2);
    const http = 'mcp_coordinator_http_requests_total';
    assert.equal(sample(text, http, 'route="/api/servers/{id}",status="200"'), 2);
    assert.equal(sample(text, http, 'route="/api/servers/{id}",status="404"'), 1);
    const op = 'mcp_server_operation_duration_seconds';
    assert.equal(sample(text, `${op}_count`, 'mcp_method_name="tools/call"'), 1);
    assert.equal(sample(text, `${op}_count`, 'mcp_method_name="tools/list"'), 1);
    assert.match(text, /# TYPE mcp_server_operation_duration_seconds histogram/);
    assert.match(text, /# TYPE mcp_coordinator_tool_call_duration_seconds histogram/);
    // Process default metrics are collected into the same (own) registry.
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.match(metrics.contentType, /^text\/plain/);
  });

  it('scrape-time gauges follow the pool and the lock store', async () => {
    const servers = [{ id: 'alpha', status: 'starting', restarts: 0 }];
    let held = 1;
    const metrics = new Metrics({
      pool: { all: () => servers },
      locks: { list: async () => Array.from({ length: held }) },
      defaultMetrics: false,
    });
    let text = await metrics.text();
    assert.equal(sample(text, 'mcp_coordinator_downstream_up', 'server="alpha"'), 0);
    servers[0] = { id: 'alpha', status: 'connected', restarts: 2 };
    held = 0;
    text = await metrics.text();
    assert.equal(sample(text, 'mcp_coordinator_downstream_up', 'server="alpha"'), 1);
    assert.equal(sample(text, 'mcp_coordinator_downstream_restarts_total', 'server="alpha"'), 2);
    assert.equal(sample(text, 'mcp_coordinator_locks_held'), 0);
    assert.ok(!text.includes('process_cpu'), 'default metrics off when asked');
  });

  it('caps distinct label values per family; the rest count as other', async () => {
    const metrics = new Metrics({ maxLabelValues: 3, defaultMetrics: false });
    for (let i = 0; i < 10; i++) {
      metrics.observeCall('s', `tool_${i}`, 'ok', 0.01);
      metrics.countEvent(`type:${i}`);
      metrics.countHttp(`/route/${i}`, 200);
      metrics.observeOperation(`method/${i}`, 0.01);
    }
    for (let i = 0; i < 5; i++) metrics.observeCall(`server_${i}`, 'tool_0', 'ok', 0.01);
    const text = await metrics.text();
    const calls = 'mcp_coordinator_tool_calls_total';
    for (let i = 0; i < 3; i++)
      assert.equal(sample(text, calls, `server="s",tool="tool_${i}",outcome="ok"`), 1);
    assert.equal(sample(text, calls, `server="s",tool="${OTHER}",outcome="ok"`), 7);
    assert.ok(!text.includes('tool_3'));
    assert.equal(sample(text, 'mcp_coordinator_events_total', `type="${OTHER}"`), 7);
    assert.equal(sample(text, 'mcp_coordinator_http_requests_total', `route="${OTHER}",status="200"`), 7);
    const op = 'mcp_server_operation_duration_seconds_count';
    assert.equal(sample(text, op, `mcp_method_name="${OTHER}"`), 7);
    // Servers: s, server_0, server_1 fill the cap; server_2..4 are `other`.
    assert.equal(sample(text, calls, `server="server_1",tool="tool_0",outcome="ok"`), 1);
    assert.equal(sample(text, calls, `server="${OTHER}",tool="tool_0",outcome="ok"`), 3);
    const distinctCallSeries = text.split('\n').filter((l) => l.startsWith(`${calls}{`)).length;
    // ≤ (3 servers + other) × (3 tools + other) × 3 outcomes, however many names were seen.
    assert.ok(distinctCallSeries <= 4 * 4 * 3, `${distinctCallSeries} series`);
  });

  it('keeps its own registry: two instances do not collide', async () => {
    const a = new Metrics({ defaultMetrics: false });
    const b = new Metrics({ defaultMetrics: false });
    a.countEvent('task:claimed');
    assert.equal(sample(await a.text(), 'mcp_coordinator_events_total', 'type="task:claimed"'), 1);
    assert.equal(sample(await b.text(), 'mcp_coordinator_events_total', 'type="task:claimed"'), undefined);
  });

  it('a failing lock store does not fail the scrape', async () => {
    const metrics = new Metrics({
      defaultMetrics: false,
      locks: { list: async () => Promise.reject(new Error('redis down')) },
    });
    assert.match(await metrics.text(), /mcp_coordinator_locks_held 0/);
  });
});
