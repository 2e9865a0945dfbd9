import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { LOOP_SAMPLE_EVERY_MS, LoopBlockWatch } from '../../src/loopBlocks.js';
import { createMetrics } from '../../src/metrics.js';
import { afterLoopSample, blockLoopFor } from '../support/eventLoop.js';

describe('LoopBlockWatch', () => {
  it('reports a block of the event loop while it watches, less its sampling period', async () => {
    const watch = new LoopBlockWatch();
    watch.start();
    // The first sample only starts the count; the block after it makes the next one late.
    blockLoopFor(30);
    await afterLoopSample();
    blockLoopFor(150);
    await afterLoopSample();

    const blockedSeconds = watch.stop();

    // At least 150 ms passed between two samples: the block less one period, whatever the machine.
    expect(blockedSeconds).toBeGreaterThanOrEqual((150 - LOOP_SAMPLE_EVERY_MS) / 1000);
    // In whole microseconds, as /metrics prints it.
    expect(String(blockedSeconds)).toMatch(/^\d+(\.\d{1,6})?$/);
  });

  it('does not count the time between watches, nor a block while it was stopped', async () => {
    const watch = new LoopBlockWatch();
    watch.start();
    blockLoopFor(30);
    await afterLoopSample();
    watch.stop();
    blockLoopFor(1000);

    watch.start();
    // Samples after the restart: the first of them is where the stopped time would show.
    await afterLoopSample();
    await afterLoopSample();
    const blockedSeconds = watch.stop();

    // Counting the stopped second would give at least 0.98 s; a sample late by a busy machine, far less.
    expect(blockedSeconds).toBeLessThan(0.9);
  });

  it('samples only between start and stop: an idle process is not woken every period', () => {
    const histogram = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_EVERY_MS });
    const watch = new LoopBlockWatch(histogram);

    // enable() and disable() say whether they changed anything.
    watch.start();
    const samplingWhileWatching = !histogram.enable();
    watch.stop();
    const samplingAfterStop = histogram.disable();

    expect(samplingWhileWatching).toBe(true);
    expect(samplingAfterStop).toBe(false);
  });

  it('reports 0 when it took no sample', () => {
    const watch = new LoopBlockWatch();
    watch.start();

    expect(watch.stop()).toBe(0);
  });
});

describe('the process metrics', () => {
  it("leave out prom-client's event loop histogram, and keep the lag measured at each scrape", async () => {
    const metrics = createMetrics({ withProcessMetrics: true });

    const names = (await metrics.registry.getMetricsAsJSON()).map(({ name }) => name);

    expect(names.filter((name) => name.includes('eventloop'))).toEqual(['ecs_discoverer_nodejs_eventloop_lag_seconds']);
    expect(names).toContain('ecs_discoverer_round_event_loop_block_seconds');
  });
});
