// Exit codes and the errors that carry them. gridctl prints one line per problem and exits:
// 0 ok, 1 failed (the server refused, a rollout aborted, Grid unreachable), 2 usage.

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A failure to report as it is: its message is what the user reads, one line per problem. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILED,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
  }
}

/** The field errors Grid's API answers with: `{ statusCode, error, message, errors?: [{path, message}] }`. */
export interface ApiErrorBody {
  statusCode?: number;
  error?: string;
  message?: string;
  errors?: Array<{ path: string; message: string }>;
}

export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody | undefined,
    readonly method: string,
    readonly url: string,
  ) {
    super(formatApiError(status, body, method, url));
  }
}

/** kubectl's words for a missing object, the same from every command: `service "api" not found`. */
export function notFound(kind: string, name: string): CliError {
  return new CliError(`${kind} "${name}" not found`);
}

/** `error: 400 Bad Request` then each field error on its own line (`spec.replicas: must be …`). */
export function formatApiError(status: number, body: ApiErrorBody | undefined, method: string, url: string): string {
  const errs = Array.isArray(body?.errors) ? body!.errors! : [];
  if (errs.length > 0) return errs.map((e) => `${e.path}: ${e.message}`).join('\n');
  let what = typeof body?.message === 'string' ? body.message : (body?.error ?? `HTTP ${status}`);
  // Grid says `service 'api' not found`; gridctl says it as its own lookups do.
  if (status === 404) what = what.replace(/^(service|pod|failover group) '([^']*)' not found/, (_m, kind: string, name: string) => `${kind.replace(' ', '')} "${name}" not found`);
  if (status === 401) return `${what} (${method} ${url}): send credentials with --api-key, --user/--password, GRID_API_KEY, GRID_USER or a context (gridctl config set-context)`;
  if (status === 403) return `${what} (${method} ${url})`;
  return what;
}
