/**
 * How the command line ends. Its failures are not library errors (nothing catches them in code):
 * each is a message for a person and an exit code for a script.
 */

/** Exit codes of `quickpost-cache`, documented in the README. */
export const Exit = {
  /** The command did what it was asked (a pattern matching nothing included). */
  Ok: 0,
  /** `inspect`: no such key. */
  NotFound: 1,
  /** The command cannot run as given: unknown command or option, bad value, bad pattern or key, ioredis not installed. */
  Usage: 2,
  /** Redis could not be reached, or stopped answering (connection refused or lost, timeout). */
  Unreachable: 3,
  /** Redis answered with an error (a refused command: ACL, Cluster down, …). */
  RedisError: 4,
} as const;

/** One of the {@link Exit} codes. */
export type ExitCode = (typeof Exit)[keyof typeof Exit];

/** A failure the command line reports with its message and exit code. */
export class CliFailure extends Error {
  override name = 'CliFailure' as const;
  /** The process's exit code. */
  readonly exitCode: ExitCode;

  constructor(exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}
