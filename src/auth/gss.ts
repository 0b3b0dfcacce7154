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

/** Copies a GSS output buffer (gss_buffer_desc { size_t length; void *value }) and frees it. */
function takeBuffer(b: BigUint64Array): Buffer {
  const len = Number(b[0]);
  const out = len ? Buffer.from(new Uint8Array(toArrayBuffer(Number(b[1]) as never, 0, len))) : Buffer.alloc(0);
  if (len) lib!.gss.gss_release_buffer(ptr(new Uint32Array(1)), ptr(b));
  return out;
}

function statusText(major: number, minor: number): string {
  const msgs: string[] = [];
  for (const [code, type] of [[major, GSS_C_GSS_CODE], [minor, GSS_C_MECH_CODE]] as const) {
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
export type NegotiateResult =
  | { ok: true; principal: string; localName: string | null; outToken: string | null }
  | { ok: false; error: string };

/** A Kerberos acceptor bound to one keytab. */
export interface Negotiator {
  accept(base64Token: string): NegotiateResult;
}

const acceptors = new Map<string, Negotiator>();

/**
 * Opens the acceptor for `keytab`. KRB5_* settings in Bun's process.env never reach the C library's
 * getenv, so they are copied with libc setenv first (KRB5_CONFIG for the realm mapping, KRB5RCACHEDIR...).
 */
export function openNegotiator(keytab: string, env: Record<string, string | undefined> = process.env): Negotiator {
  const known = acceptors.get(keytab);
  if (known) return known;
  lib ??= openLibs();
  for (const [k, v] of Object.entries(env)) if (k.startsWith("KRB5") && v !== undefined) lib.libc.setenv(cstr(k), cstr(v), 1);
  const { gss } = lib;
  if (gss.krb5_gss_register_acceptor_identity(cstr(keytab)) !== 0) throw new Error(`Kerberos: cannot use keytab ${keytab}`);
  const minor = new Uint32Array(1);
  const credOut = new BigUint64Array(1);
  const major = gss.gss_acquire_cred(ptr(minor), null, GSS_C_INDEFINITE, null, GSS_C_ACCEPT, ptr(credOut), null, null);
  if (major !== GSS_S_COMPLETE) throw new Error(`Kerberos: no acceptor credentials in ${keytab}: ${statusText(major, minor[0]!)}`);
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
  acceptors.set(keytab, negotiator);
  return negotiator;
}
