/** The one error type the app throws on purpose: its message is safe to show to the user. */
export class AppError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 503 | 507,
    message: string,
    readonly options: { code?: string; cause?: unknown; details?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
  }

  /** The machine-readable code in `{ error: { code } }`, derived from the status unless given. */
  get code(): string {
    return this.options.code ?? STATUS_CODES[this.status] ?? "error";
  }
}

const STATUS_CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  413: "too_large",
  415: "unsupported_media_type",
  422: "unprocessable",
  429: "too_many_requests",
  500: "internal",
  503: "unavailable",
  507: "disk_full",
};

export const badRequest = (msg: string, details?: unknown) => new AppError(400, msg, { details });
export const notFound = (msg = "Not found") => new AppError(404, msg);
export const conflict = (msg: string, details?: unknown) => new AppError(409, msg, { details });
export const forbidden = (msg = "You do not have permission to do that") => new AppError(403, msg);
export const tooLarge = (msg: string) => new AppError(413, msg);

/** A preview build refused by a configured cap (`max_voxels`, `max_tiles`, `max_triangles`, `max_vertices`); the message names it. */
export class PreviewLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PreviewLimitError";
  }
}
