import { closeSync, createReadStream, fstatSync, openSync, statSync } from "node:fs";
import { Readable } from "node:stream";

/** Parses a single `bytes=` range against a size; null for no/unsupported range, "unsatisfiable" when out of bounds. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | "unsatisfiable" {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Multiple ranges or other units: answer with the whole file, which RFC 9110 allows.
  if (!m || (m[1] === "" && m[2] === "")) return null;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "unsatisfiable";
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return "unsatisfiable";
  return { start, end };
}

/**
 * Streams a file with validators and HTTP Range (206/416), never reading it whole into memory. The file is a path,
 * or a descriptor opened by the caller (share content, opened beneath the root), which the answer closes.
 */
export function sendFile(
  file: string | Buffer | { fd: number },
  req: Request,
  opts: { contentType?: string; cacheControl?: string; downloadName?: string } = {},
): Response {
  if (typeof file === "object" && "fd" in file) {
    let handedOver = false;
    try {
      return sendFrom(fstatSync(file.fd), req, opts, (start, end) => {
        if (req.method === "HEAD") return new Blob([]);
        handedOver = true;
        return Readable.toWeb(createReadStream("", { fd: file.fd, start, end, autoClose: true })) as unknown as ReadableStream;
      });
    } finally {
      if (!handedOver) closeSync(file.fd);
    }
  }
  // Bun.file sends from the kernel; a path that is not valid UTF-8 (bytes) is streamed instead.
  const absPath = file;
  return sendFrom(statSync(absPath), req, opts, (start, end) =>
    typeof absPath === "string"
      ? Bun.file(absPath).slice(start, end + 1)
      : (Readable.toWeb(createReadStream("", { fd: openSync(absPath, "r"), start, end, autoClose: true })) as unknown as ReadableStream),
  );
}

function sendFrom(
  st: { size: number; mtimeMs: number; ino: number },
  req: Request,
  opts: { contentType?: string; cacheControl?: string; downloadName?: string },
  body: (start: number, end: number) => Blob | ReadableStream,
): Response {
  const etag = `"${st.size.toString(36)}-${Math.floor(st.mtimeMs).toString(36)}-${st.ino.toString(36)}"`;
  const lastModified = new Date(Math.floor(st.mtimeMs / 1000) * 1000).toUTCString();
  const headers = new Headers({
    "Accept-Ranges": "bytes",
    ETag: etag,
    "Last-Modified": lastModified,
    "Cache-Control": opts.cacheControl ?? "private, no-cache",
    "Content-Type": opts.contentType ?? "application/octet-stream",
    "X-Content-Type-Options": "nosniff",
  });
  if (opts.downloadName !== undefined) headers.set("Content-Disposition", `attachment; filename*=UTF-8''${encodeURIComponent(opts.downloadName)}`);
  const inm = req.headers.get("If-None-Match");
  const ims = req.headers.get("If-Modified-Since");
  if ((inm && inm === etag) || (!inm && ims && Date.parse(ims) >= Date.parse(lastModified))) return new Response(null, { status: 304, headers });

  const ifRange = req.headers.get("If-Range");
  const range = ifRange && ifRange !== etag && ifRange !== lastModified ? null : parseRange(req.headers.get("Range") ?? undefined, st.size);
  if (range === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${st.size}`);
    return new Response(null, { status: 416, headers });
  }
  if (range) {
    headers.set("Content-Range", `bytes ${range.start}-${range.end}/${st.size}`);
    headers.set("Content-Length", String(range.end - range.start + 1));
    return new Response(body(range.start, range.end), { status: 206, headers });
  }
  headers.set("Content-Length", String(st.size));
  return new Response(st.size === 0 ? "" : body(0, st.size - 1), { status: 200, headers });
}
