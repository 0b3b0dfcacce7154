import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError } from "../errors.ts";
import { log } from "../log.ts";
import { ErrorPage, ErrorFragment } from "../../templates/error.tsx";
import { isDiskFull } from "../platform/disk-full.ts";
import { isMachineRequest } from "./request-info.ts";

/** The one error handler: JSON under /api, a fragment for htmx requests, a page otherwise. */
export function renderError(err: Error, c: Context): Response | Promise<Response> {
  const appErr = toAppError(err);
  if (appErr.status >= 500) log.error("request failed", { path: c.req.path, error: String(err.stack ?? err) });
  const status = appErr.status;
  if (isMachineRequest(c)) {
    const body: { error: { code: string; message: string; details?: unknown } } = { error: { code: appErr.code, message: appErr.message } };
    if (appErr.options.details !== undefined) body.error.details = appErr.options.details;
    return c.json(body, status);
  }
  if (c.req.header("HX-Request")) return c.html(ErrorFragment({ status, message: appErr.message }), status);
  return c.html(ErrorPage({ status, message: appErr.message, user: c.get("user") ?? null }), status);
}

function toAppError(err: Error): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof HTTPException) {
    const s = err.status as AppError["status"];
    return new AppError(s, err.message || "Request failed", { cause: err });
  }
  if (isDiskFull(err)) return new AppError(507, "The disk holding Mata's database is full: nothing was saved. Free space there and try again.", { cause: err });
  return new AppError(500, "Something went wrong on the server; the details are in its log.", { cause: err });
}
