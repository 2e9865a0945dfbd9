/**
 * Which AWS calls go first when a bucket makes calls wait: those of the cluster that was listed
 * first. Clusters are read concurrently, and with a fair queue they would all finish at the end
 * of a cold round; in this order they finish one after the other, so the first targets are
 * published early and each cluster's resolution overlaps the calls of the next.
 * Lower goes first; calls outside any cluster (ListClusters) have priority 0.
 *
 * A priority rides on the input object of the SDK command, which the SDK hands to every
 * middleware as `args.input` (a paginator sends the one input it was given for every page).
 * Not AsyncLocalStorage: on Node.js 20 it turns on promise hooks for the whole process, and the
 * SDK's chains of promises then cost some 15 % more CPU in every round.
 */
const priorities = new WeakMap<object, number>();

/** `input`, marked with the priority of its calls. */
export function withCallPriority<Input extends object>(input: Input, priority: number): Input {
  if (priority !== 0) priorities.set(input, priority);
  return input;
}

/** The priority marked on a command's input; 0 when none was. */
export function callPriorityOf(input: unknown): number {
  return typeof input === 'object' && input !== null ? (priorities.get(input) ?? 0) : 0;
}
