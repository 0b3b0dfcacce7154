// Kerberos SPNEGO acceptor ("Authorization: Negotiate") through bun:ffi on MIT libgssapi_krb5.
import { dlopen, FFIType, ptr, toArrayBuffer } from "bun:ffi";

const GSS_C_ACCEPT = 2;
const GSS_C_INDEFINITE = 0xffffffff;
const GSS_S_COMPLETE = 0;
const GSS_S_CONTINUE_NEEDED = 1;
const GSS_C_GSS_CODE = 1;
const GSS_C_MECH_CODE = 2;

let lib: ReturnType<typeof openLibs> | null = null;

function openLibs() {
  const { u32, i32, ptr: P, cstring } = FFIType;
  const gss = dlopen("libgssapi_krb5.so.2", {
    krb5_gss_register_acceptor_identity: { args: [cstring], returns: u32 },
    gss_acquire_cred: { args: [P, P, u32, P, i32, P, P, P], returns: u32 },
    gss_import_name: { args: [P, P, P, P], returns: u32 },
    gss_accept_sec_context: { args: [P, P, P, P, P, P, P, P, P, P, P], returns: u32 },
    gss_display_name: { args: [P, P, P, P], returns: u32 },
    gss_localname: { args: [P, P, P, P], returns: u32 },
    gss_display_status: { args: [P, u32, i32, P, P, P], returns: u32 },
    gss_release_buffer: { args: [P, P], returns: u32 },
    gss_release_name: { args: [P, P], returns: u32 },
    gss_delete_sec_context: { args: [P, P, P], returns: u32 },
  });
  const libc = dlopen("libc.so.6", { setenv: { args: [cstring, cstring, i32], returns: i32 } });
  return { gss: gss.symbols, libc: libc.symbols };
}

const cstr = (s: string) => Buffer.from(s + "\0", "utf8");

/** Holds buffers whose addresses were handed to C until after the call, so the collector cannot free them first. */
let sink = 0;
function keepAlive(...bufs: ArrayBufferView[]): void {
  for (const b of bufs) sink ^= b.byteLength;
}

/** Copies a GSS output buffer (gss_buffer_desc { size_t length; void *value }) and frees it. */
function takeBuffer(b: BigUint64Array): Buffer {
  const len = Number(b[0]);
  const out = len ? Buffer.from(new Uint8Array(toArrayBuffer(Number(b[1]) as never, 0, len))) : Buffer.alloc(0);
  if (len) lib!.gss.gss_release_buffer(ptr(new Uint32Array(1)), ptr(b));
  return out;
}

function statusText(major: number, minor: number): string {
  const msgs: string[] = [];
  for (const [code, type] of [
    [major, GSS_C_GSS_CODE],
    [minor, GSS_C_MECH_CODE],
  ] as const) {
    if (!code) continue;
    const more = new Uint32Array(1);
    do {
      const b = new BigUint64Array(2);
      lib!.gss.gss_display_status(ptr(new Uint32Array(1)), code >>> 0, type, null, ptr(more), ptr(b));
      msgs.push(takeBuffer(b).toString());
    } while (more[0] !== 0);
  }
  return msgs.join("; ");
}

/** The outcome of one Negotiate token. */
export type NegotiateResult = { ok: true; principal: string; localName: string | null; outToken: string | null } | { ok: false; error: string };

/** A Kerberos acceptor bound to one keytab. */
export interface Negotiator {
  accept(base64Token: string): NegotiateResult;
}

const acceptors = new Map<string, Negotiator>();

// GSS_C_NT_HOSTBASED_SERVICE, OID 1.2.840.113554.1.2.1.4 (DER body), for a gss_OID_desc { u32 length; void *elements }.
const HOSTBASED_OID_DER = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x01, 0x04];

/** "HTTP/host" or "HTTP@host" as a GSS host-based service name ("HTTP@host"), or an error for anything else. */
export function hostBasedName(service: string): string {
  const m = /^([A-Za-z][A-Za-z0-9_-]*)[/@]([A-Za-z0-9.-]+)$/.exec(service.trim());
  if (!m) throw new Error(`Kerberos: service must look like HTTP/host.example.org, got ${JSON.stringify(service)}`);
  return `${m[1]}@${m[2]}`;
}

/**
 * Opens the acceptor for `keytab`, for any key in it or only for `service` (e.g. "HTTP/mata.lab.example").
 * KRB5_* settings in Bun's process.env never reach the C library's getenv, so they are copied with libc
 * setenv first (KRB5_CONFIG for the realm mapping, KRB5RCACHEDIR...).
 */
export function openNegotiator(keytab: string, service?: string, env: Record<string, string | undefined> = process.env): Negotiator {
  const cacheKey = `${keytab}\0${service ?? ""}`;
  const known = acceptors.get(cacheKey);
  if (known) return known;
  lib ??= openLibs();
  for (const [k, v] of Object.entries(env)) if (k.startsWith("KRB5") && v !== undefined) lib.libc.setenv(cstr(k), cstr(v), 1);
  const { gss } = lib;
  if (gss.krb5_gss_register_acceptor_identity(cstr(keytab)) !== 0) throw new Error(`Kerberos: cannot use keytab ${keytab}`);
  const minor = new Uint32Array(1);
  let name: number | null = null;
  if (service) {
    const text = new Uint8Array(new TextEncoder().encode(hostBasedName(service)));
    const nameBuf = new BigUint64Array([BigInt(text.length), BigInt(ptr(text) as number)]);
    const oidBytes = new Uint8Array(HOSTBASED_OID_DER);
    const oid = new BigUint64Array([BigInt(oidBytes.length), BigInt(ptr(oidBytes) as number)]);
    const nameOut = new BigUint64Array(1);
    const maj = gss.gss_import_name(ptr(minor), ptr(nameBuf), ptr(oid), ptr(nameOut));
    keepAlive(text, nameBuf, oidBytes, oid);
    if (maj !== GSS_S_COMPLETE) throw new Error(`Kerberos: bad service name ${service}: ${statusText(maj, minor[0]!)}`);
    name = Number(nameOut[0]);
  }
  const credOut = new BigUint64Array(1);
  const major = gss.gss_acquire_cred(ptr(minor), name as never, GSS_C_INDEFINITE, null, GSS_C_ACCEPT, ptr(credOut), null, null);
  if (name !== null) gss.gss_release_name(ptr(new Uint32Array(1)), ptr(new BigUint64Array([BigInt(name)])));
  if (major !== GSS_S_COMPLETE)
    throw new Error(`Kerberos: no acceptor credentials${service ? ` for ${service}` : ""} in ${keytab}: ${statusText(major, minor[0]!)}`);
  const cred = Number(credOut[0]) as never;

  const negotiator: Negotiator = {
    accept(b64) {
      const tok = Buffer.from(b64, "base64");
      if (tok.length === 0) return { ok: false, error: "empty Negotiate token" };
      const inBuf = new BigUint64Array([BigInt(tok.length), BigInt(ptr(tok) as number)]);
      const mn = new Uint32Array(1);
      const ctx = new BigUint64Array(1);
      const srcName = new BigUint64Array(1);
      const outBuf = new BigUint64Array(2);
      const m2 = new Uint32Array(1);
      const maj = gss.gss_accept_sec_context(ptr(mn), ptr(ctx), cred, ptr(inBuf), null, ptr(srcName), null, ptr(outBuf), null, null, null);
      keepAlive(tok, inBuf);
      const out = takeBuffer(outBuf);
      try {
        if (maj === GSS_S_CONTINUE_NEEDED) return { ok: false, error: "multi-step Negotiate (NTLM) is not supported" };
        if (maj !== GSS_S_COMPLETE) return { ok: false, error: statusText(maj, mn[0]!) };
        const nameBuf = new BigUint64Array(2);
        gss.gss_display_name(ptr(m2), Number(srcName[0]) as never, ptr(nameBuf), null);
        const principal = takeBuffer(nameBuf).toString();
        // auth_to_local (by default: strip the default realm) gives the unix/account name.
        const lnBuf = new BigUint64Array(2);
        const lmaj = gss.gss_localname(ptr(m2), Number(srcName[0]) as never, null, ptr(lnBuf));
        const localName = lmaj === GSS_S_COMPLETE ? takeBuffer(lnBuf).toString() : null;
        return { ok: true, principal, localName, outToken: out.length ? out.toString("base64") : null };
      } finally {
        if (srcName[0]) gss.gss_release_name(ptr(m2), ptr(srcName));
        if (ctx[0]) gss.gss_delete_sec_context(ptr(m2), ptr(ctx), null);
      }
    },
  };
  acceptors.set(cacheKey, negotiator);
  return negotiator;
}
