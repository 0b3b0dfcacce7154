import { afterEach, describe, expect, test } from "bun:test";
import { createApp } from "../../src/app.ts";
import { formatBytes } from "../../templates/datasets/format.ts";
import { testContext } from "../support/env.ts";
import { addDataset, signIn } from "../metadata/support.ts";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

function setup() {
  const ctx = testContext();
  cleanups.push(ctx.cleanup);
  const app = createApp(ctx);
  const { headers } = signIn(ctx);
  const get = async (url: string) => (await app.request(url, { headers })).text();
  return { ctx, get };
}

function putPreview(ctx: ReturnType<typeof testContext>, datasetId: number, kind: "volume" | "image" | "mesh", state: "queued" | "ready" | "failed"): void {
  ctx.db
    .query("INSERT INTO previews (dataset_id, n, file, kind, state, content_key, updated_at) VALUES (?, 0, ?, ?, ?, ?, 1000)")
    .run(datasetId, `${kind}.bin`, kind, state, `k${datasetId}0123456789abcdef`);
}

describe("sizes read the same everywhere", () => {
  test("formatBytes is binary with one decimal below 10", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1024)).toBe("1.0 KiB");
    expect(formatBytes(8_400_000)).toBe("8.0 MiB");
    expect(formatBytes(52_000)).toBe("51 KiB");
    expect(formatBytes(8_400_000_000)).toBe("7.8 GiB");
    expect(formatBytes(3 * 1024 ** 5)).toBe("3.0 PiB");
  });

  test("the dataset list, the dataset page and search results show one dataset's size in the same words", async () => {
    const { ctx, get } = setup();
    const id = addDataset(ctx, { path: "ct-0001", title: "Sheep femur CT", files: 2, bytes: 8_400_000 });
    const list = await get("/datasets");
    const page = await get(`/datasets/${id}`);
    const search = await get("/search?q=femur");
    for (const html of [list, page, search]) {
      expect(html).toContain("8.0 MiB");
      expect(html).not.toMatch(/\d (KB|MB|GB|TB)\b/);
    }
  });
});

describe("the thumbnail slot of the dataset list", () => {
  test("names the preview's kind where no picture is shown, and says when there is none", async () => {
    const { ctx, get } = setup();
    const mesh = addDataset(ctx, { path: "a-mesh" });
    const volume = addDataset(ctx, { path: "b-volume" });
    const image = addDataset(ctx, { path: "c-image" });
    addDataset(ctx, { path: "d-nothing" });
    putPreview(ctx, mesh, "mesh", "ready");
    putPreview(ctx, volume, "volume", "queued");
    putPreview(ctx, image, "image", "failed");
    const html = await get("/datasets?sort=path");
    const slots = [...html.matchAll(/<span class="thumb-slot thumb-label"[^>]*>([^<]*)<\/span>/g)].map((m) => m[1]);
    expect(slots).toEqual(["3D mesh", "Volume", "Image", "No preview"]);
  });
});
