import { describe, expect, it } from 'vitest';
import { resolvePort, toPort, toPortRange, type PortInputs } from '../../../src/discovery/ports.js';

const inputs = (overrides: Partial<PortInputs>): PortInputs => ({
  networkMode: 'bridge',
  explicitPort: undefined,
  containerPort: undefined,
  portMappings: [],
  bindings: [],
  ...overrides,
});

const badPort = { reason: 'bad_port', detail: expect.any(String) as string };
const noBinding = { reason: 'no_port_binding', detail: expect.any(String) as string };

describe('toPort', () => {
  it.each([
    [1, 1],
    [9090, 9090],
    [65535, 65535],
    ['9090', 9090],
    [' 9090 ', 9090],
  ])('accepts %j as port %i', (value, port) => {
    expect(toPort(value)).toBe(port);
  });

  it.each([0, -1, 65536, 70000, 80.5, Number.NaN, '0', '70000', '9x9', '', ' ', '0x50', '1e3', '-80', '80.0', null, undefined, true, {}])(
    'rejects %j',
    (value) => {
      expect(toPort(value)).toBeUndefined();
    },
  );
});

describe('resolvePort: PROMETHEUS_PORT', () => {
  it('uses PROMETHEUS_PORT in bridge mode, whatever the bindings', () => {
    // Prepare
    const given = inputs({ explicitPort: '9000', bindings: [{ bindIP: '0.0.0.0', containerPort: 8080, hostPort: 32768 }] });

    // Act
    const result = resolvePort(given);

    // Assess
    expect(result).toEqual({ port: 9000 });
  });

  it('uses PROMETHEUS_PORT in bridge mode over PROMETHEUS_CONTAINER_PORT', () => {
    // Prepare
    const given = inputs({
      explicitPort: '9000',
      containerPort: '8080',
      bindings: [{ bindIP: '0.0.0.0', containerPort: 8080, hostPort: 32768 }],
    });

    // Act
    const result = resolvePort(given);

    // Assess
    expect(result).toEqual({ port: 9000 });
  });

  it.each(['host', 'awsvpc'])('uses PROMETHEUS_PORT in %s mode, whatever the port mappings', (networkMode) => {
    // Prepare
    const given = inputs({ networkMode, explicitPort: '9000', portMappings: [{ containerPort: 8080, hostPort: 8080 }] });

    // Act
    const result = resolvePort(given);

    // Assess
    expect(result).toEqual({ port: 9000 });
  });

  it('yields no port when PROMETHEUS_PORT is not a number ("9x9")', () => {
    // Prepare
    const given = inputs({ explicitPort: '9x9', bindings: [{ bindIP: '0.0.0.0', containerPort: 8080, hostPort: 32768 }] });

    // Act
    const result = resolvePort(given);

    // Assess
    expect(result).toEqual(badPort);
  });

  it('yields no port when PROMETHEUS_PORT is out of range (70000)', () => {
    // Prepare
    const given = inputs({ networkMode: 'awsvpc', explicitPort: '70000', portMappings: [{ containerPort: 8080 }] });

    // Act
    const result = resolvePort(given);

    // Assess
    expect(result).toEqual(badPort);
  });

  it('yields no port when PROMETHEUS_PORT is 0', () => {
    // Act
    const result = resolvePort(inputs({ networkMode: 'host', explicitPort: '0' }));

    // Assess
    expect(result).toEqual(badPort);
  });
});

describe.each(['host', 'awsvpc'])('resolvePort: %s mode', (networkMode) => {
  it('uses the host port of the first port mapping', () => {
    // Prepare
    const given = inputs({
      networkMode,
      portMappings: [
        { containerPort: 8080, hostPort: 8080 },
        { containerPort: 9090, hostPort: 9090 },
      ],
    });

    // Act
    const result = resolvePort(given);

    // Assess
    expect(result).toEqual({ port: 8080 });
  });

  it('prefers the host port over the container port of the first mapping', () => {
    // Act
    const result = resolvePort(inputs({ networkMode, portMappings: [{ containerPort: 8080, hostPort: 18080 }] }));

    // Assess
    expect(result).toEqual({ port: 18080 });
  });

  it('uses the container port of the first mapping when it has no host port', () => {
    // Act
    const result = resolvePort(inputs({ networkMode, portMappings: [{ containerPort: 9102 }] }));

    // Assess
    expect(result).toEqual({ port: 9102 });
  });

  it('uses port 80 when there are no port mappings', () => {
    // Act
    const result = resolvePort(inputs({ networkMode, portMappings: [] }));

    // Assess
    expect(result).toEqual({ port: 80 });
  });

  it('ignores PROMETHEUS_CONTAINER_PORT and runtime bindings', () => {
    // Prepare
    const given = inputs({
      networkMode,
      containerPort: '9090',
      portMappings: [
        { containerPort: 8080, hostPort: 8080 },
        { containerPort: 9090, hostPort: 9090 },
      ],
      bindings: [{ bindIP: '0.0.0.0', containerPort: 9090, hostPort: 9090 }],
    });

    // Act
    const result = resolvePort(given);

    // Assess
    expect(result).toEqual({ port: 8080 });
  });

  it('accepts a port given as decimal text', () => {
    // Act
    const result = resolvePort(inputs({ networkMode, portMappings: [{ containerPort: '9090', hostPort: '9090' }] }));

    // Assess
    expect(result).toEqual({ port: 9090 });
  });

  it('yields no port when the first mapping has host port 0', () => {
    // Act
    const result = resolvePort(inputs({ networkMode, portMappings: [{ containerPort: 8080, hostPort: 0 }] }));

    // Assess
    expect(result).toEqual(badPort);
  });

  it('yields no port when the first mapping is out of range', () => {
    // Act
    const result = resolvePort(inputs({ networkMode, portMappings: [{ containerPort: 70000 }] }));

    // Assess
    expect(result).toEqual(badPort);
  });

  it('yields no port when the first mapping is not a number', () => {
    // Act
    const result = resolvePort(inputs({ networkMode, portMappings: [{ containerPort: '9x9' }] }));

    // Assess
    expect(result).toEqual(badPort);
  });
});

describe('resolvePort: bridge mode with PROMETHEUS_CONTAINER_PORT', () => {
  it('uses the host port of the binding whose container port matches', () => {
    // Prepare
    const given = inputs({
      containerPort: '9113',
      bindings: [
        { bindIP: '0.0.0.0', containerPort: 80, hostPort: 32770 },
        { bindIP: '0.0.0.0', containerPort: 9113, hostPort: 32772 },
      ],
    });

    // Act
    const result = resolvePort(given);

    // Assess
    expect(result).toEqual({ port: 32772 });
  });

  it('uses the IPv4 binding when the IPv6 binding of the same port comes first', () => {
    // Prepare
    const given = inputs({
      containerPort: '9113',
      bindings: [
        { bindIP: '::', containerPort: 80, hostPort: 32771 },
        { bindIP: '0.0.0.0', containerPort: 80, hostPort: 32770 },
        { bindIP: '::', containerPort: 9113, hostPort: 32773 },
        { bindIP: '0.0.0.0', containerPort: 9113, hostPort: 32772 },
      ],
    });

    // Act
    const result = resolvePort(given);

    // Assess
    expect(result).toEqual({ port: 32772 });
  });

  it('yields no port when no binding has that container port', () => {
    // Prepare
    const given = inputs({ containerPort: '9999', bindings: [{ bindIP: '0.0.0.0', containerPort: 8080, hostPort: 32768 }] });

    // Act
    const result = resolvePort(given);

    // Assess
    expect(result).toEqual(noBinding);
  });

  it('matches a container port given as decimal text in the binding', () => {
    // Prepare
    const given = inputs({ containerPort: '9113', bindings: [{ bindIP: '0.0.0.0', containerPort: '9113', hostPort: '32772' }] });

    // Act
    const result = resolvePort(given);

    // Assess
    expect(result).toEqual({ port: 32772 });
  });

  it('yields no port when the matching binding has host port 0', () => {
    // Prepare
    const given = inputs({ containerPort: '9113', bindings: [{ bindIP: '0.0.0.0', containerPort: 9113, hostPort: 0 }] });

    // Act
    const result = resolvePort(given);

    // Assess
    expect(result).toEqual(badPort);
  });

  it('yields no port when PROMETHEUS_CONTAINER_PORT is not a port', () => {
    // Prepare
    const given = inputs({ containerPort: '9x9', bindings: [{ bindIP: '0.0.0.0', containerPort: 9, hostPort: 32768 }] });

    // Act
    const result = resolvePort(given);

    // Assess
    expect(result).toHaveProperty('reason');
    expect(result).not.toHaveProperty('port');
  });
});

describe('resolvePort: bridge mode', () => {
  it('uses the host port of the first binding', () => {
    // Prepare
    const given = inputs({
      bindings: [
        { bindIP: '0.0.0.0', containerPort: 8080, hostPort: 32768 },
        { bindIP: '0.0.0.0', containerPort: 9090, hostPort: 32790 },
      ],
    });

    // Act
    const result = resolvePort(given);

    // Assess
    expect(result).toEqual({ port: 32768 });
  });

  it('uses the IPv4 binding of the first port when its IPv6 binding is listed first', () => {
    // Prepare
    const given = inputs({
      bindings: [
        { bindIP: '::', containerPort: 8080, hostPort: 32769 },
        { bindIP: '0.0.0.0', containerPort: 8080, hostPort: 32768 },
      ],
    });

    // Act
    const result = resolvePort(given);

    // Assess
    expect(result).toEqual({ port: 32768 });
  });

  it('uses the IPv4 binding of the first port, not the IPv4 binding of another port listed before it', () => {
    // Prepare
    const given = inputs({
      bindings: [
        { bindIP: '::', containerPort: 8080, hostPort: 32769 },
        { bindIP: '0.0.0.0', containerPort: 9113, hostPort: 32772 },
        { bindIP: '0.0.0.0', containerPort: 8080, hostPort: 32768 },
      ],
    });

    // Act
    const result = resolvePort(given);

    // Assess
    expect(result).toEqual({ port: 32768 });
  });

  it('uses an IPv6-only binding when there is no IPv4 one', () => {
    // Act
    const result = resolvePort(inputs({ bindings: [{ bindIP: '::', containerPort: 8080, hostPort: 32769 }] }));

    // Assess
    expect(result).toEqual({ port: 32769 });
  });

  it('ignores the port mappings of the definition', () => {
    // Prepare
    const given = inputs({
      portMappings: [{ containerPort: 8080, hostPort: 8080 }],
      bindings: [{ bindIP: '0.0.0.0', containerPort: 8080, hostPort: 32768 }],
    });

    // Act
    const result = resolvePort(given);

    // Assess
    expect(result).toEqual({ port: 32768 });
  });

  it('accepts a host port given as decimal text', () => {
    // Act
    const result = resolvePort(inputs({ bindings: [{ bindIP: '0.0.0.0', containerPort: '8080', hostPort: '32768' }] }));

    // Assess
    expect(result).toEqual({ port: 32768 });
  });

  it('yields no port when there are no network bindings', () => {
    // Act
    const result = resolvePort(inputs({ portMappings: [{ containerPort: 8080, hostPort: 0 }], bindings: [] }));

    // Assess: ECS fills the bindings in later; the task is asked for again
    expect(result).toEqual({ ...noBinding, transient: true });
  });

  it('yields no port when the host port is 0', () => {
    // Act
    const result = resolvePort(inputs({ bindings: [{ bindIP: '0.0.0.0', containerPort: 8080, hostPort: 0 }] }));

    // Assess
    expect(result).toEqual(badPort);
  });

  it('yields no port when the host port is out of range', () => {
    // Act
    const result = resolvePort(inputs({ bindings: [{ bindIP: '0.0.0.0', containerPort: 8080, hostPort: 70000 }] }));

    // Assess
    expect(result).toEqual(badPort);
  });

  it('yields no port when the host port is text that is not a number', () => {
    // Act
    const result = resolvePort(inputs({ bindings: [{ bindIP: '0.0.0.0', containerPort: 8080, hostPort: '9x9' }] }));

    // Assess
    expect(result).toEqual(badPort);
  });
});

describe('resolvePort: UDP and port ranges', () => {
  it.each(['host', 'awsvpc'])('skips UDP mappings and ranges for the first port mapping in %s mode', (networkMode) => {
    // Prepare: a statsd exporter takes 9125/udp, then a range, then 9102/tcp
    const given = inputs({
      networkMode,
      portMappings: [
        { containerPort: 9125, hostPort: 9125, protocol: 'udp' },
        { containerPortRange: '9000-9099' },
        { containerPort: 9102, hostPort: 9102 },
      ],
    });

    // Act
    const result = resolvePort(given);

    // Assess
    expect(result).toEqual({ port: 9102 });
  });

  it('uses port 80 when the only mappings are UDP or ranges', () => {
    const given = inputs({ networkMode: 'awsvpc', portMappings: [{ containerPort: 8125, protocol: 'udp' }, { containerPortRange: '9000-9099' }] });

    expect(resolvePort(given)).toEqual({ port: 80 });
  });

  it('skips UDP bindings and ranges for the first binding in bridge mode', () => {
    const given = inputs({
      bindings: [
        { bindIP: '0.0.0.0', containerPort: 9125, hostPort: 32800, protocol: 'udp' },
        { bindIP: '0.0.0.0', containerPortRange: '9000-9009', hostPortRange: '33000-33009' },
        { bindIP: '0.0.0.0', containerPort: 9102, hostPort: 32801 },
      ],
    });

    expect(resolvePort(given)).toEqual({ port: 32801 });
  });

  it('maps PROMETHEUS_CONTAINER_PORT inside a range binding to its host port', () => {
    // Prepare: container 9000-9099 is bound to host 33000-33099
    const given = inputs({
      containerPort: '9042',
      bindings: [
        { bindIP: '::', containerPortRange: '9000-9099', hostPortRange: '34000-34099' },
        { bindIP: '0.0.0.0', containerPortRange: '9000-9099', hostPortRange: '33000-33099' },
      ],
    });

    // Act
    const result = resolvePort(given);

    // Assess: the IPv4 binding, and c + (p − a)
    expect(result).toEqual({ port: 33042 });
  });

  it('prefers the binding of the single port to a range that also holds it', () => {
    const given = inputs({
      containerPort: '9042',
      bindings: [
        { bindIP: '0.0.0.0', containerPortRange: '9000-9099', hostPortRange: '33000-33099' },
        { bindIP: '0.0.0.0', containerPort: 9042, hostPort: 32999 },
      ],
    });

    expect(resolvePort(given)).toEqual({ port: 32999 });
  });

  it('never scrapes PROMETHEUS_CONTAINER_PORT on its UDP binding', () => {
    const given = inputs({ containerPort: '9125', bindings: [{ bindIP: '0.0.0.0', containerPort: 9125, hostPort: 32800, protocol: 'udp' }] });

    expect(resolvePort(given)).toEqual(noBinding);
  });

  it.each([
    ['outside the range', '9100'],
    ['in a malformed range', '9042'],
  ])('yields no port for a container port %s', (_case, containerPort) => {
    const given = inputs({
      containerPort,
      bindings: [{ bindIP: '0.0.0.0', containerPortRange: containerPort === '9100' ? '9000-9099' : '9099-9000', hostPortRange: '33000-33099' }],
    });

    expect(resolvePort(given)).toEqual(noBinding);
  });
});

describe('toPortRange', () => {
  it.each([
    ['9000-9099', [9000, 9099]],
    [' 1 - 65535 ', [1, 65535]],
    ['8080-8080', [8080, 8080]],
  ])('reads %j', (text, range) => {
    expect(toPortRange(text)).toEqual(range);
  });

  it.each(['9099-9000', '0-10', '9000', '9000-70000', 'a-b', 9000, undefined])('rejects %j', (value) => {
    expect(toPortRange(value)).toBeUndefined();
  });
});
