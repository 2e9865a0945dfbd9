import type { PortBinding, PortMapping } from './model.js';

/** Why a container has no port: the reason code (a metric label) and a readable detail. */
export interface PortProblem {
  reason: 'bad_port' | 'no_port_binding';
  detail: string;
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

const describe = (value: unknown): string => (typeof value === 'string' ? `"${value}"` : String(value));

const isIPv6Binding = (binding: PortBinding): boolean => binding.bindIP?.includes(':') ?? false;

/**
 * Among the bindings of one container port, the IPv4 one: dual-stack hosts report the same
 * port twice (`0.0.0.0` and `::`), and the IPv6 entry may come first.
 */
function preferIPv4(bindings: PortBinding[]): PortBinding | undefined {
  return bindings.find((binding) => !isIPv6Binding(binding)) ?? bindings[0];
}

function fromHostPort(binding: PortBinding | undefined, what: string): PortResult {
  if (binding === undefined) return { reason: 'no_port_binding', detail: `no network binding ${what}` };
  const port = toPort(binding.hostPort);
  return port === undefined
    ? { reason: 'bad_port', detail: `host port ${describe(binding.hostPort)} ${what} is not in 1..65535` }
    : { port };
}

export interface PortInputs {
  networkMode: string;
  /** `PROMETHEUS_PORT`, when set. */
  explicitPort: string | undefined;
  /** `PROMETHEUS_CONTAINER_PORT`, when set. */
  containerPort: string | undefined;
  portMappings: PortMapping[];
  /** Runtime bindings of the container (bridge mode). */
  bindings: PortBinding[];
}

/** The scrape port of a container: the first of the README's port rules ("Address and port") that applies. */
export function resolvePort(inputs: PortInputs): PortResult {
  if (inputs.explicitPort !== undefined) {
    const port = toPort(inputs.explicitPort);
    return port === undefined
      ? { reason: 'bad_port', detail: `PROMETHEUS_PORT ${describe(inputs.explicitPort)} is not a port in 1..65535` }
      : { port };
  }

  if (inputs.networkMode !== 'bridge') {
    const first = inputs.portMappings[0];
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
    const matching = inputs.bindings.filter((binding) => toPort(binding.containerPort) === wanted);
    return fromHostPort(preferIPv4(matching), `for container port ${wanted}`);
  }

  const first = inputs.bindings[0];
  if (first === undefined) return fromHostPort(undefined, 'in bridge mode');
  const sameContainerPort = inputs.bindings.filter((binding) => binding.containerPort === first.containerPort);
  return fromHostPort(preferIPv4(sameContainerPort), `for container port ${describe(first.containerPort)}`);
}
