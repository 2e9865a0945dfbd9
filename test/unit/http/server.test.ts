import type { Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toPublishedGroup } from '../../../src/discovery/targetGroups.js';
import type { ClusterState, RoundReport, Snapshot } from '../../../src/round.js';
import { close, createHttpServer, listen } from '../../../src/http/server.js';
import { Status } from '../../../src/http/status.js';
import type { EventsView } from '../../../src/http/statusPage.js';
import { silentLogger } from '../../../src/log.js';
import { createMetrics } from '../../../src/metrics.js';

const report = (outcome: RoundReport['outcome'], failure?: string): RoundReport => ({
  outcome,
  startedAt: Date.parse('2026-11-24T10:00:00Z'),
  durationMs: 120,
  apiCalls: 5,
  clusters: 1,
  tasks: 2,
  pendingTasks: 0,
  targets: { generic: 1, '15s': 1, '30s': 0, '1m': 0, '5m': 0 },
  failures: failure ? [failure] : [],
  unreadClusters: [],
});

const cluster: ClusterState = {
  region: 'eu-west-1',
  cluster: { name: 'prod', arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod' },
  tasks: 2,
  pendingTasks: 0,
  targets: [],
  skips: [
    {
      cluster: 'prod',
      taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/prod/abc123',
      container: '<script>',
      family: 'jobs',
      revision: 2,
      service: 'jobs',
      reason: 'bad_port',
      detail: 'PROMETHEUS_PORT "9x9" is not a port in 1..65535',
    },
  ],
  warnings: [],
  lastSuccessAt: Date.parse('2026-11-24T10:00:00Z'),
  error: undefined,
};

const prodGroups = {
  generic: toPublishedGroup({ interval: 'generic', cluster: 'prod', address: '127.0.0.1:8080', labels: { __meta_ecs_cluster: 'prod', job: 'api' } }),
  '15s': toPublishedGroup({ interval: '15s', cluster: 'prod', address: '127.0.0.2:9100', labels: { __meta_ecs_cluster: 'prod', job: 'node' } }),
};
/** Another account's cluster of the same name and region. */
const otherProd: ClusterState = {
  ...cluster,
  cluster: { name: 'prod', arn: 'arn:aws:ecs:eu-west-1:222222222222:cluster/prod' },
  skips: [],
  targets: [toPublishedGroup({ interval: '15s', cluster: 'prod', address: '127.0.0.3:9100', labels: { __meta_ecs_account_id: '222222222222', job: 'node' } })],
};

const snapshot: Snapshot = {
  finishedAt: Date.parse('2026-11-24T10:00:01Z'),
  clusters: [{ ...cluster, targets: [prodGroups.generic, prodGroups['15s']] }],
  groups: { generic: [prodGroups.generic], '15s': [prodGroups['15s']], '30s': [], '1m': [], '5m': [] },
};

let server: Server;
let base: string;
let status: Status;
let metrics: ReturnType<typeof createMetrics>;

beforeEach(async () => {
  status = new Status({ unreadyAfterFailedRounds: 2, version: '1.2.3' });
  metrics = createMetrics();
  server = createHttpServer({ status, registry: metrics.registry, logger: silentLogger });
  const address = await listen(server, '127.0.0.1', 0);
  base = `http://127.0.0.1:${address.port}`;
});
afterEach(async () => {
  await close(server);
});

const page = (of: Status) => of.page;

describe('HTTP server', () => {
  it('answers 503 on /targets before the first published round', async () => {
    const response = await fetch(`${base}/targets`);

    expect(response.status).toBe(503);
    expect(await response.text()).toBe('no round has published targets yet\n');
  });

  it('serves the snapshot as HTTP SD JSON, with filters', async () => {
    status.publish(snapshot);

    const all = await fetch(`${base}/targets`);
    const fifteen = await fetch(`${base}/targets?interval=15s&cluster=prod`);
    const none = await fetch(`${base}/targets?cluster=staging`);

    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toBe('application/json');
    expect(await all.json()).toEqual([
      { targets: ['127.0.0.2:9100'], labels: { __meta_ecs_cluster: 'prod', job: 'node', __scrape_interval__: '15s', __scrape_timeout__: '10s' } },
      { targets: ['127.0.0.1:8080'], labels: { __meta_ecs_cluster: 'prod', job: 'api' } },
    ]);
    expect(((await fifteen.json()) as unknown[]).length).toBe(1);
    expect(none.status).toBe(200);
    expect(await none.text()).toBe('[]');
  });

  it('tells apart clusters of one name in two accounts: filters by account, region and cluster', async () => {
    const clusters = [snapshot.clusters[0]!, otherProd];
    status.publish({ ...snapshot, clusters, groups: { ...snapshot.groups, '15s': [prodGroups['15s'], otherProd.targets[0]!] } });
    const addresses = async (query: string) => ((await (await fetch(`${base}/targets?${query}`)).json()) as { targets: string[] }[]).map((group) => group.targets[0]);

    expect(await addresses('cluster=prod')).toEqual(['127.0.0.2:9100', '127.0.0.3:9100', '127.0.0.1:8080']);
    expect(await addresses('account=222222222222&region=eu-west-1&cluster=prod')).toEqual(['127.0.0.3:9100']);
    expect(await addresses('account=123456789012&cluster=prod&interval=15s')).toEqual(['127.0.0.2:9100']);
    expect(await addresses('region=us-east-1')).toEqual([]);
    expect(await addresses('account=333333333333')).toEqual([]);
  });

  it('answers 400 with a one-line reason for a bad filter', async () => {
    status.publish(snapshot);

    const response = await fetch(`${base}/targets?interval=2m`);

    expect(response.status).toBe(400);
    expect(await response.text()).toBe('interval "2m" is not one of 15s, 30s, 1m, 5m, generic\n');
  });

  it('serves the metrics registry on /metrics', async () => {
    metrics.apiCalls.inc({ action: 'ListTasks', outcome: 'ok' }, 3);

    const response = await fetch(`${base}/metrics`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(await response.text()).toContain('ecs_discoverer_aws_api_calls_total{action="ListTasks",outcome="ok"} 3');
  });

  it('is healthy while running, and ready only once a round has published and not all recent rounds failed', async () => {
    const ready = async () => {
      const response = await fetch(`${base}/-/ready`);
      return `${response.status} ${(await response.text()).trim()}`;
    };

    expect((await fetch(`${base}/-/healthy`)).status).toBe(200);
    expect(await ready()).toBe('503 no round has published targets yet');
    status.publish(snapshot);
    status.recordRound(report('ok'));
    expect(await ready()).toBe('200 ready');
    status.recordRound(report('failed', 'region eu-west-1: ListClusters failed'));
    expect(await ready()).toBe('200 ready');
    status.recordRound(report('failed', 'region eu-west-1: ListClusters failed'));
    expect(await ready()).toBe(
      '503 the last 2 rounds failed (serving the last good targets): region eu-west-1: ListClusters failed',
    );
    status.recordRound(report('partial'));
    expect(await ready()).toBe('200 ready');
  });

  it('renders a status page with the last round, the clusters and the skipped containers, escaped', async () => {
    status.publish(snapshot);
    status.recordRound(report('ok'));

    const response = await fetch(`${base}/`);
    const page = await response.text();

    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page).toContain('<h1>prometheus-ecs-discoverer <span class="version">1.2.3</span></h1>');
    expect(page).toContain('<td>120 ms</td><td>ok</td><td>5</td>');
    expect(page).toContain('<tr><td>123456789012</td><td>eu-west-1</td><td><a href="targets?cluster=prod&amp;region=eu-west-1&amp;account=123456789012">prod</a></td><td>2</td>');
    expect(page).toContain('<span class="what">bad_port</span>: PROMETHEUS_PORT &quot;9x9&quot; is not a port in 1..65535');
    expect(page).toContain('<tr><td>prod</td><td>abc123</td><td>2</td><td>PROMETHEUS_PORT &quot;9x9&quot; is not a port in 1..65535</td></tr>');
    expect(page).toContain('container &lt;script&gt; of jobs:2 (service jobs) in prod');
    expect(page.match(/<script/g), 'the page\'s own script alone').toHaveLength(1);
  });

  it('shows on the status page whether the event queue answers, what came of its messages, and again when that changes', async () => {
    // Prepare
    let events: EventsView = {
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ecs-events',
      listening: true,
      since: Date.parse('2026-11-24T10:00:00Z'),
      lastError: undefined,
      counts: { applied: 12, stale: 3, ignored: 1, unreadable: 0, failed: 0 },
      lastAppliedAt: Date.parse('2026-11-24T10:05:00Z'),
      resyncSeconds: 300,
      intervalSeconds: 15,
    };
    const withEvents = new Status({ unreadyAfterFailedRounds: 2, version: '1.2.3', events: () => events });
    withEvents.publish(snapshot);
    withEvents.recordRound(report('ok'));

    // Act
    const listening = withEvents.page;
    events = { ...events, listening: false, since: Date.parse('2026-11-24T10:06:00Z'), lastError: 'ReceiveMessage failed: <ServiceUnavailable>' };
    const cached = withEvents.page;
    withEvents.eventsChanged();
    const down = withEvents.page;

    // Assess
    const time = (iso: string) => `<time datetime="${iso}" data-at="${Date.parse(iso)}" title="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time>`;
    expect(listening).toContain(`Listening since ${time('2026-11-24T10:00:00.000Z')}: full rounds every 300 s.`);
    expect(listening).toContain('<tr><td>12</td><td>3</td><td>1</td><td>0</td><td>0</td></tr>');
    expect(listening).toContain(`last change applied: ${time('2026-11-24T10:05:00.000Z')}`);
    expect(cached).toBe(listening);
    expect(down).toContain(`The queue does not answer since ${time('2026-11-24T10:06:00.000Z')}: full rounds every 15 s until it does. ReceiveMessage failed: &lt;ServiceUnavailable&gt;`);
    expect(page(withEvents)).not.toContain('<ServiceUnavailable>');
  });

  it('shows no events section without events', async () => {
    status.publish(snapshot);

    expect(page(status)).not.toContain('<h2>Events</h2>');
  });

  it('answers 404 for other paths, 405 for other methods, and HEAD without a body', async () => {
    status.publish(snapshot);

    const missing = await fetch(`${base}/nope`);
    const post = await fetch(`${base}/targets`, { method: 'POST' });
    const head = await fetch(`${base}/targets`, { method: 'HEAD' });

    expect(missing.status).toBe(404);
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(2);
  });
});
