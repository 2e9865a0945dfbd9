import { describe, expect, it } from 'vitest';
import { resolveTaskTargets, type Skip, type SkipReason } from '../../../src/discovery/resolveTargets.js';
import { toGroupsByInterval, toPublishedGroup } from '../../../src/discovery/targetGroups.js';
import { Status } from '../../../src/http/status.js';
import { renderStatusPage, type StatusView } from '../../../src/http/statusPage.js';
import type { ClusterState, RoundReport, Snapshot } from '../../../src/round.js';
import { DEFAULT_OPTIONS, PROD, changeContainer, loadContext } from '../../fixtures/ecsFixtures.js';

const PAYLOAD = '<script>alert("pwned")</script>';
const ESCAPED = '&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;';
const NOW = Date.parse('2026-11-24T10:00:00Z');

const report: RoundReport = {
  outcome: 'ok',
  startedAt: NOW - 1000,
  durationMs: 250,
  apiCalls: 12,
  clusters: 1,
  tasks: 1,
  pendingTasks: 0,
  targets: { generic: 0, '15s': 0, '30s': 1, '1m': 0, '5m': 0 },
  failures: [],
  unreadClusters: [],
};

function stateOf(partial: Partial<ClusterState> & Pick<ClusterState, 'cluster'>): ClusterState {
  return { region: 'eu-west-1', tasks: 1, pendingTasks: 0, targets: [], skips: [], warnings: [], lastSuccessAt: NOW - 500, error: undefined, ...partial };
}

function snapshotOf(states: ClusterState[]): Snapshot {
  return { finishedAt: NOW, clusters: states, groups: toGroupsByInterval(states.flatMap((state) => state.targets)) };
}

function view(snapshot: Snapshot | undefined, changes: Partial<StatusView> = {}): StatusView {
  return {
    version: '1.2.3',
    readiness: { ready: true, reason: 'ready' },
    lastRound: report,
    snapshot,
    startedAt: NOW - 3_600_000,
    settings: [
      ['interval', '15'],
      ['outputDir', 'targets'],
    ],
    progress: undefined,
    refreshSeconds: 15,
    ...changes,
  };
}

/** A Fargate task whose ECS data carries a script in a label value, a docker label, a metrics path, a port and a custom labels entry. */
function hostileCluster(): ClusterState {
  const context = loadContext('awsvpc-fargate');
  let definition = changeContainer(context.definition!, 'api', {
    environment: { PROMETHEUS_LABEL_team: PAYLOAD, PROMETHEUS_ENDPOINT: `30s:/metrics${PAYLOAD}` },
    dockerLabels: { 'com.example.owner': PAYLOAD, 'promed.custom_labels': `tier=web,${PAYLOAD}` },
  });
  definition = changeContainer(definition, 'log_router', { environment: { PROMETHEUS: 'true', PROMETHEUS_PORT: PAYLOAD } });
  const resolution = resolveTaskTargets(
    { ...context, definition },
    { ...DEFAULT_OPTIONS, fromDockerLabels: ['com.example.owner'], customLabelsDockerLabel: 'promed.custom_labels' },
  );
  return stateOf({
    cluster: PROD,
    targets: resolution.targets.map(toPublishedGroup),
    skips: resolution.skips,
    warnings: resolution.warnings,
  });
}

describe('the status page', () => {
  it('escapes every value from ECS: a label value, a docker label, a metrics path, a skipped port and a warning', () => {
    const state = hostileCluster();
    // The resolution really carried the payload into each place the page shows.
    expect(state.targets.map((group) => group.json).join()).toContain('alert');
    expect(state.skips.map((skip) => skip.detail).join()).toContain(PAYLOAD);
    expect(state.warnings.map((warning) => warning.message).join()).toContain(PAYLOAD);

    const page = renderStatusPage(view(snapshotOf([state])));

    // The page's own script, and no other.
    expect(page.match(/<script/gi)).toHaveLength(1);
    expect(page).not.toContain('alert("pwned")');
    expect(page).toContain(`team=${ESCAPED}`);
    expect(page).toContain(`com_example_owner=${ESCAPED}`);
    expect(page).toContain(`<td>/metrics${ESCAPED}</td>`);
    expect(page).toMatch(new RegExp(`bad_port</span>: PROMETHEUS_PORT &quot;${ESCAPED.replace(/[()]/g, '\\$&')}&quot;`));
    expect(page).toContain(ESCAPED);
  });

  it('allows only its own script to run (Content-Security-Policy with its hash)', async () => {
    const page = renderStatusPage(view(undefined));
    const script = /<script>([\s\S]*?)<\/script>/.exec(page)?.[1] ?? '';
    const { createHash } = await import('node:crypto');

    expect(page).toContain(`script-src 'sha256-${createHash('sha256').update(script).digest('base64')}'`);
    expect(page).toContain("default-src 'none'");
  });

  it('groups 1,500 skipped containers by reason, family and container, with counts, listing at most 100 tasks each', () => {
    const reasons: SkipReason[] = ['bad_port', 'no_port_binding', 'no_ip'];
    const clusters = ['a', 'b', 'c'].map((name) => ({ name, arn: `arn:aws:ecs:eu-west-1:123456789012:cluster/${name}` }));
    // Six kinds of problem, each in 250 tasks spread over three clusters.
    const skips: Skip[] = Array.from({ length: 1500 }, (_, index) => {
      const cluster = clusters[Math.floor(index / 500)]?.name ?? '';
      return {
        cluster,
        taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/${cluster}/t${String(index).padStart(4, '0')}`,
        container: index % 2 === 0 ? 'app' : 'sidecar',
        family: `family-${index % 6 < 3 ? 'x' : 'y'}`,
        revision: 3,
        service: 'svc',
        reason: reasons[index % 3] as SkipReason,
        detail: `detail ${index % 3}`,
      };
    });
    const states = clusters.map((cluster) => stateOf({ cluster, skips: skips.filter((skip) => skip.cluster === cluster.name) }));

    const page = renderStatusPage(view(snapshotOf(states)));
    const groups = page.match(/<details class="skip">/g) ?? [];
    const counts = [...page.matchAll(/<span class="count">([\d,]+) ×<\/span>/g)].map((match) => Number(match[1]?.replace(',', '')));
    const taskRows = page.match(/<tr><td>[abc]<\/td><td>t\d{4}<\/td>/g) ?? [];

    expect(page).toContain('Skipped containers (1,500)');
    expect(groups).toHaveLength(6);
    expect(counts).toEqual([250, 250, 250, 250, 250, 250]);
    expect(taskRows).toHaveLength(600);
    expect(page).toContain('and 150 more tasks');
    expect(page).toContain('container app of family-x:3 (service svc) in a, b, c');
  });

  it('lists clusters by account, region and name, field by field in code-unit order, and targets by host, then port', () => {
    const arn = (account: string, region: string, name: string) => `arn:aws:ecs:${region}:${account}:cluster/${name}`;
    const clusterAt = (account: string, region: string, name: string, addresses: string[] = []) =>
      stateOf({
        region,
        cluster: { name, arn: arn(account, region, name) },
        targets: addresses.map((address) => toPublishedGroup({ interval: 'generic', cluster: name, address, labels: { job: 'api' } })),
      });
    const states = [
      clusterAt('111111111111', 'eu-west-1', 'prod_a'),
      clusterAt('111111111111', 'eu-west-1', 'prod', ['127.0.0.10:80', '127.0.0.1:443', '127.0.0.1:80', '127.0.0.2:80']),
      clusterAt('222222222222', 'eu-central-1', 'api'),
      clusterAt('111111111111', 'eu-west-1', 'Billing'),
      clusterAt('111111111111', 'eu-west-1', 'prod-a'),
    ];
    const page = renderStatusPage(view(snapshotOf(states)));
    const section = (from: string, to: string) => page.slice(page.indexOf(from), page.indexOf(to, page.indexOf(from) + from.length));
    const linked = (html: string) => [...html.matchAll(/targets\?cluster=([^&]+)&amp;region=[^&]+&amp;account=(\d+)">[^<\d]/g)].map(([, name, account]) => `${account}/${name}`);

    expect(linked(section('<h2>Clusters</h2>', '<h2'))).toEqual(['111111111111/Billing', '111111111111/prod', '111111111111/prod-a', '111111111111/prod_a', '222222222222/api']);
    expect([...section('<h2 id="targets">', '</details>').matchAll(/<td>(127\.0\.0\.\d+:\d+)<\/td>/g)].map(([, address]) => address)).toEqual([
      '127.0.0.1:80',
      '127.0.0.1:443',
      '127.0.0.10:80',
      '127.0.0.2:80',
    ]);
  });

  it('links each cluster to its HTTP SD answer, and every other page, with relative links', () => {
    const state = stateOf({
      cluster: { name: 'prod-1', arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod-1' },
      targets: [toPublishedGroup({ interval: '15s', cluster: 'prod-1', address: '127.0.0.1:9100', labels: { job: 'node', __metrics_path__: '/metrics' } })],
    });

    const page = renderStatusPage(view(snapshotOf([state])));
    const hrefs = [...page.matchAll(/href="([^"]*)"/g)].map((match) => match[1] ?? '');

    // A cluster name repeats across accounts and regions: the link names all three.
    expect(hrefs).toContain('targets?cluster=prod-1&amp;region=eu-west-1&amp;account=123456789012');
    expect(hrefs).toEqual(expect.arrayContaining(['targets', 'metrics', '-/ready']));
    expect(hrefs.filter((href) => href.startsWith('/') || /^[a-z]+:/.test(href))).toEqual([]);
  });

  it('shows the version, since when it runs, the ages of the last round and of each cluster, and the settings', () => {
    const state = stateOf({ cluster: PROD, lastSuccessAt: NOW - 12_000 });

    const page = renderStatusPage(view(snapshotOf([state])));

    expect(page).toContain('<h1>prometheus-ecs-discoverer <span class="version">1.2.3</span></h1>');
    expect(page).toContain(`Up since <time datetime="2026-11-24T09:00:00.000Z" data-at="${NOW - 3_600_000}"`);
    expect(page).toContain(`data-at="${NOW - 12_000}"`);
    expect(page).toContain('<tr><td>interval</td><td>15</td></tr>');
    expect(page).toContain('Settings in force (interval 15 s)');
  });

  it('shows how a first round goes while it runs, and no more once it has ended', () => {
    const status = new Status({ unreadyAfterFailedRounds: 3, version: '1.2.3', now: () => NOW });
    status.showProgress({ startedAt: NOW - 8000, clustersListed: 10, clustersDone: 3, tasksDescribed: 4500, taskDefinitionsDescribed: 40, apiCalls: 97, throttled: 2 });

    const during = status.page;
    status.recordRound(report);
    const after = status.page;

    expect(during).toContain('First round in progress');
    expect(during).toContain('<progress max="10" value="3"></progress>');
    expect(during).toContain('3 of 10 clusters read; 4,500 tasks and 40 task definitions described; 97 AWS API calls (2 throttled)');
    expect(after).not.toContain('First round in progress');
  });

  it('is rendered once per round, with only the time it is served put in', () => {
    let now = NOW;
    const status = new Status({ unreadyAfterFailedRounds: 3, version: '1.2.3', now: () => now });
    status.publish(snapshotOf([stateOf({ cluster: PROD })]));
    status.recordRound(report);

    const first = status.page;
    now += 5000;
    const second = status.page;

    expect(first).toContain(`data-served-at="${NOW}"`);
    expect(second).toBe(first.replace(`data-served-at="${NOW}"`, `data-served-at="${NOW + 5000}"`));
  });
});
