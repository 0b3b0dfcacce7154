import type { Hono } from "hono";
import type { TestUser } from "./auth.ts";

/** An app that sends every request signed in as `user` (headers given per call still win). */
export function signedIn(app: Hono<any>, user: TestUser) {
  return {
    request(url: string, init: RequestInit = {}) {
      return app.request(url, { ...init, headers: { ...user.headers, ...(init.headers as Record<string, string> | undefined) } });
    },
  };
}
