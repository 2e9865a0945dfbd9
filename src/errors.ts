/** A setting or flag is wrong. The message is one line for the operator; no stack trace. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** An AWS call failed for a reason other than "not found" (throttled after retries, 5xx, network). */
export class AwsError extends Error {
  override name = 'AwsError';
}

/**
 * An AWS answer contradicts the shape of its API (a list that is null, a status that is a
 * number, a listing whose pages never end): it says nothing reliable about the fleet.
 */
export class MalformedAnswerError extends AwsError {
  override name = 'MalformedAnswerError';
}

/** The role of an account (`aws.roles`) cannot be assumed: that account is not read this round. */
export class AssumeRoleError extends AwsError {
  override name = 'AssumeRoleError';
}

/**
 * No complete AWS answer (headers and body) within aws.requestTimeout. Named as the SDK's retry
 * strategy names a timeout, so that it is retried as one.
 */
export class RequestTimeoutError extends Error {
  override name = 'TimeoutError';
}

/** An AWS answer grew past the size cap while it was read; abandoned, not retried. */
export class AnswerTooLargeError extends Error {
  override name = 'AnswerTooLargeError';
}

/** Writing a target file failed. */
export class OutputError extends Error {
  override name = 'OutputError';
}

/** The text of any thrown value, for one log line. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
}
