import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { emptyFleet } from '../../src/fake/fleet.js';

/** The fake's rounds (first attempts of ListClusters), as integration tests hold them. */

let fake: FakeAws;
let ecs: ECSClient;

beforeEach(async () => {
  fake = new FakeAws(emptyFleet());
  const url = await fake.start();
  ecs = new ECSClient({ region: 'eu-west-1', endpoint: url, credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' }, maxAttempts: 1 });
});
afterEach(async () => {
  ecs.destroy();
  await fake.stop();
});

describe('the fake holding a round', () => {
  it('answers the rounds before it, holds the calls of the held round until released, and leaves no gate behind', async () => {
    // Prepare
    const release = fake.holdFromRound(2);
    await ecs.send(new ListClustersCommand({}));

    // Act
    const second = ecs.send(new ListClustersCommand({}));
    await vi.waitFor(() => expect(fake.heldRequests).toBe(1), { timeout: 10_000 });
    const answeredWhileHeld = fake.calls.length;
    release();
    await second;

    // Assess
    expect(answeredWhileHeld).toBe(1);
    expect(fake.calls.map((call) => call.round)).toEqual([1, 2]);
    expect(fake.faults.gate).toBeUndefined();
  });

  it('keeps a gate set before it, for the calls it held too, and one set after it', async () => {
    // Prepare
    const seenByEarlier: string[] = [];
    fake.faults.gate = ({ action }) => {
      seenByEarlier.push(action);
      return undefined;
    };
    const release = fake.holdFromRound(1);
    const held = ecs.send(new ListClustersCommand({}));
    await vi.waitFor(() => expect(fake.heldRequests).toBe(1), { timeout: 10_000 });
    const later: NonNullable<typeof fake.faults.gate> = () => undefined;

    // Act
    fake.faults.gate = later;
    release();
    await held;

    // Assess
    expect(seenByEarlier).toEqual(['ListClusters']);
    expect(fake.faults.gate).toBe(later);
  });
});
