import { afterEach, describe, expect, test } from "bun:test";
import { createApp } from "../../src/app.ts";
import { testContext } from "../support/env.ts";
import { addDataset, signIn } from "../metadata/support.ts";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

function setup() {
  const ctx = testContext();
  cleanups.push(ctx.cleanup);
  const app = createApp(ctx);
  const s = signIn(ctx);
  const id = addDataset(ctx, { path: "scan", title: "Scan" });
  const post = (url: string, fields: Record<string, string>, htmx: boolean) =>
    app.request(url, {
      method: "POST",
      headers: {
        Cookie: s.headers.Cookie!,
        "Content-Type": "application/x-www-form-urlencoded",
        ...(htmx ? { "HX-Request": "true", "X-CSRF-Token": s.csrf } : {}),
      },
      body: new URLSearchParams(htmx ? fields : { ...fields, _csrf: s.csrf }).toString(),
    });
  const version = () => String(ctx.db.query<{ v: number }, [number]>("SELECT tags_version AS v FROM datasets WHERE id = ?").get(id)!.v);
  return { ctx, app, s, id, post, version };
}

describe("a dataset page's forms, with and without htmx", () => {
  test("a plain post is sent back to the page (303) with a one-time message scoped to that page", async () => {
    const { app, s, id, post, version } = setup();
    const res = await post(`/datasets/${id}/tags/add`, { key: "Species", value: "sheep", version: version() }, false);
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`/datasets/${id}#tags-panel`);
    const cookie = res.headers.get("Set-Cookie")!;
    expect(cookie).toMatch(new RegExp(`^mata_flash=[^;]+; Max-Age=60; Path=/datasets/${id}; HttpOnly; SameSite=Lax`));
    const flash = cookie.split(";")[0]!;
    const page = await app.request(`/datasets/${id}`, { headers: { Cookie: `${s.headers.Cookie}; ${flash}` } });
    const html = await page.text();
    expect(html).toContain('<p class="notice page-flash" role="status">Added “Species”.</p>');
    expect(page.headers.get("Set-Cookie")).toMatch(/^mata_flash=; Max-Age=0; Path=\/datasets\/\d+/);
  });

  test("htmx still gets the panel, and a refusal keeps its status; without htmx the refusal is the whole page", async () => {
    const { id, post, version } = setup();
    const stale = version();
    const ok = await post(`/datasets/${id}/tags/add`, { key: "Species", value: "sheep", version: stale }, true);
    expect(ok.status).toBe(200);
    const fragment = await ok.text();
    expect(fragment.startsWith('<section id="tags-panel"')).toBe(true);
    const refused = await post(`/datasets/${id}/tags/add`, { key: "Organ", value: "femur", version: stale }, true);
    expect(refused.status).toBe(409);
    expect((await refused.text()).startsWith('<section id="tags-panel"')).toBe(true);
    const page = await post(`/datasets/${id}/tags/add`, { key: "Organ", value: "femur", version: stale }, false);
    expect(page.status).toBe(409);
    const html = await page.text();
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toMatch(/<section id="tags-panel"[\s\S]*class="error"[\s\S]*value="Organ"/);
  });

  test("the title form posts to a POST twin of the PATCH route", async () => {
    const { ctx, id, post } = setup();
    const res = await post(`/datasets/${id}/describe`, { title: "New title", description: "", version: "1" }, false);
    expect(res.status).toBe(303);
    expect(ctx.db.query<{ title: string }, [number]>("SELECT title FROM datasets WHERE id = ?").get(id)!.title).toBe("New title");
  });
});
