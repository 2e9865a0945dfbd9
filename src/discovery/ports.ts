import type { PortBinding, PortMapping } from './model.js';

/** Why a container has no port: the reason code (a metric label) and a readable detail. */
export interface PortProblem {
  reason: 'bad_port' | 'no_port_binding';
  detail: string;
  /** The runtime data that would answer is not there yet (a bridge container without bindings): ask again. */
  transient?: boolean;
}

export type PortResult = { port: number } | PortProblem;

/** A port as ECS or a user wrote it: an integer in 1..65535, or its decimal text ("9090"). */
export function toPort(value: unknown): number | undefined {
  let port: number;
  if (typeof value === 'number') {
    port = value;
  } else if (typeof value === 'string' && /^\s*\d{1,5}\s*$/.test(value)) {
    port = Number(value);
  } else {
    return undefined;
  }
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined;
}

/** An ECS port range, `"9000-9099"`, as [first, last]; undefined when it is not one. */
export function toPortRange(value: unknown): [number, number] | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(value);
  const first = toPort(match?.[1]);
  const last = toPort(match?.[2]);
  return first !== undefined && last !== undefined && first <= last ? [first, last] : undefined;
}

const describe = (value: unknown): string => (typeof value === 'string' ? `"${value}"` : String(value));

/** Prometheus scrapes over TCP: UDP entries are never chosen. Absent means TCP, as in ECS. */
const isTcp = (entry: { protocol?: string }): boolean => entry.protocol === undefined || entry.protocol.toLowerCase() === 'tcp';
/** An entry for one port, not a range. */
const isSinglePort = (entry: { containerPortRange?: string }): boolean => entry.containerPortRange === undefined;
const isIPv6Binding = (binding: PortBinding): boolean => binding.bindIP?.includes(':') ?? false;

/**
 * Among the bindings of one container port, the IPv4 one: dual-stack hosts report the same
 * port twice (`0.0.0.0` and `::`), and the IPv6 entry may come first.
 */
function preferIPv4(bindings: PortBinding[]): PortBinding | undefined {
  return bindings.find((binding) => !isIPv6Binding(binding)) ?? bindings[0];
}

function fromHostPort(hostPort: unknown, what: string): PortResult {
  const port = toPort(hostPort);
  return port === undefined ? { reason: 'bad_port', detail: `host port ${describe(hostPort)} ${what} is not in 1..65535` } : { port };
}

/** The host port of a range binding (container a-b on host c-d) for container port p: c + (p − a). */
function hostPortInRange(binding: PortBinding, containerPort: number): number | undefined {
  const container = toPortRange(binding.containerPortRange);
  const host = toPortRange(binding.hostPortRange);
  if (container === undefined || host === undefined) return undefined;
  const [first, last] = container;
  if (containerPort < first || containerPort > last) return undefined;
  const port = host[0] + (containerPort - first);
  return port <= host[1] ? port : undefined;
}

/**
 * Bridge mode: the host port ECS bound to a container port, from the runtime bindings (TCP
 * only; a single-port binding, else a range binding that holds the port).
 */
export function hostPortOf(containerPort: number, bindings: readonly PortBinding[]): PortResult {
  const tcp = bindings.filter(isTcp);
  if (bindings.length === 0) {
    return { reason: 'no_port_binding', detail: `no network binding for container port ${containerPort} (none yet)`, transient: true };
  }
  const single = tcp.filter((binding) => isSinglePort(binding) && toPort(binding.containerPort) === containerPort);
  if (single.length > 0) return fromHostPort(preferIPv4(single)?.hostPort, `for container port ${containerPort}`);
  const inRange = preferIPv4(tcp.filter((binding) => hostPortInRange(binding, containerPort) !== undefined));
  if (inRange !== undefined) return { port: hostPortInRange(inRange, containerPort) as number };
  return { reason: 'no_port_binding', detail: `no network binding for container port ${containerPort}` };
}

export interface PortInputs {
  networkMode: string;
  /** `PROMETHEUS_PORT`, when set. */
  explicitPort: string | undefined;
  /** `PROMETHEUS_CONTAINER_PORT`, when set. */
  containerPort: string | undefined;
  portMappings: readonly PortMapping[];
  /** Runtime bindings of the container (bridge mode). */
  bindings: readonly PortBinding[];
}

/** The scrape port of a container: the first of SEMANTICS.md's port rules that applies. */
export function resolvePort(inputs: PortInputs): PortResult {
  if (inputs.explicitPort !== undefined) {
    const port = toPort(inputs.explicitPort);
    return port === undefined
      ? { reason: 'bad_port', detail: `PROMETHEUS_PORT ${describe(inputs.explicitPort)} is not a port in 1..65535` }
      : { port };
  }

  if (inputs.networkMode !== 'bridge') {
    const first = inputs.portMappings.find((mapping) => isTcp(mapping) && isSinglePort(mapping));
    if (first === undefined) return { port: 80 };
    const hostPort = first.hostPort ?? first.containerPort;
    const port = toPort(hostPort);
    return port === undefined
      ? { reason: 'bad_port', detail: `first port mapping ${describe(hostPort)} is not a port in 1..65535` }
      : { port };
  }

  if (inputs.containerPort !== undefined) {
    const wanted = toPort(inputs.containerPort);
    if (wanted === undefined) {
      return {
        reason: 'bad_port',
        detail: `PROMETHEUS_CONTAINER_PORT ${describe(inputs.containerPort)} is not a port in 1..65535`,
      };
    }
    return hostPortOf(wanted, inputs.bindings);
  }

  if (inputs.bindings.length === 0) {
    return { reason: 'no_port_binding', detail: 'no network binding in bridge mode (none yet)', transient: true };
  }
  const first = inputs.bindings.find((binding) => isTcp(binding) && isSinglePort(binding));
  if (first === undefined) return { reason: 'no_port_binding', detail: 'no TCP network binding of a single port in bridge mode' };
  const sameContainerPort = inputs.bindings.filter(
    (binding) => isTcp(binding) && isSinglePort(binding) && binding.containerPort === first.containerPort,
  );
  return fromHostPort(preferIPv4(sameContainerPort)?.hostPort, `for container port ${describe(first.containerPort)}`);
}

/**
 * The scrape port for a container port (`PROMETHEUS_SCRAPES`, teralytics' and ecs_observer's
 * port labels): in bridge mode the host port bound to it, in host and awsvpc mode that port.
 * With `mapped`, the port must be a TCP port mapping of the container definition (ecs_observer's rule).
 */
export function resolveContainerPort(
  containerPort: number,
  { networkMode, portMappings, bindings, mapped = false, setting }: Pick<PortInputs, 'networkMode' | 'portMappings' | 'bindings'> & { mapped?: boolean; setting: string },
): PortResult {
  if (mapped && !portMappings.some((mapping) => isTcp(mapping) && isSinglePort(mapping) && toPort(mapping.containerPort) === containerPort)) {
    return { reason: 'no_port_binding', detail: `${setting} ${containerPort} is not a TCP port mapping of the container` };
  }
  return networkMode === 'bridge' ? hostPortOf(containerPort, bindings) : { port: containerPort };
}
