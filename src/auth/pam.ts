// libpam through bun:ffi (no native addon). Blocking: only pam.worker.ts calls it, off the request thread.
import { dlopen, FFIType, JSCallback, ptr, read, toArrayBuffer } from "bun:ffi";

const PAM_SUCCESS = 0;
const PAM_BUF_ERR = 5;
const PAM_PROMPT_ECHO_OFF = 1;
const PAM_PROMPT_ECHO_ON = 2;
const PAM_RHOST = 4;
const PAM_FAIL_DELAY = 10;
const PAM_SILENT = 0x8000;
const PAM_DISALLOW_NULL_AUTHTOK = 0x1;

/** The PAM return codes the app tells apart (Linux-PAM numbering). */
export const PAM_CODES = { success: 0, authErr: 7, credInsufficient: 8, userUnknown: 10, maxTries: 11, newAuthtokReqd: 12, acctExpired: 13 } as const;

/** What one PAM conversation ended with; `step` says whether the password or the account check failed. */
export interface PamOutcome {
  ok: boolean;
  code: number;
  step: "pam_start" | "pam_authenticate" | "pam_acct_mgmt";
  message: string;
}

let lib: ReturnType<typeof openLibs> | null = null;

function openLibs() {
  const pam = dlopen("libpam.so.0", {
    pam_start: { args: [FFIType.cstring, FFIType.cstring, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    pam_start_confdir: { args: [FFIType.cstring, FFIType.cstring, FFIType.ptr, FFIType.cstring, FFIType.ptr], returns: FFIType.i32 },
    pam_authenticate: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    pam_acct_mgmt: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    pam_end: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    pam_set_item: { args: [FFIType.ptr, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    pam_strerror: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.cstring },
  });
  const libc = dlopen("libc.so.6", {
    calloc: { args: [FFIType.u64, FFIType.u64], returns: FFIType.ptr },
    strdup: { args: [FFIType.ptr], returns: FFIType.ptr },
  });
  return { pam: pam.symbols, libc: libc.symbols };
}

const cstr = (s: string) => Buffer.from(s + "\0", "utf8");

/**
 * Lowers the calling thread's CPU priority to nice 10 (weight 110 against 1024 at nice 0). The PAM worker
 * threads call it, so a burst of password hashing yields to the thread serving files and tiles; not 19,
 * so sign-ins still progress while CPU-bound tiling runs at normal priority.
 */
export function lowerThreadPriority(): boolean {
  const libc = dlopen("libc.so.6", {
    gettid: { args: [], returns: FFIType.i32 },
    setpriority: { args: [FFIType.i32, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
  });
  try {
    // PRIO_PROCESS with a thread id changes only that thread on Linux.
    return libc.symbols.setpriority(0, libc.symbols.gettid(), 10) === 0;
  } finally {
    libc.close();
  }
}

/**
 * Checks a password and the account (expiry, lock) with PAM service `service`, read from `confdir`
 * when given (tests bring their own service file) or /etc/pam.d. pam_unix's own ~2 s sleep on failure
 * is replaced by an empty PAM_FAIL_DELAY callback: the caller delays every failure itself, known user or not.
 */
export function pamCheck(service: string, user: string, password: string, rhost?: string, confdir?: string): PamOutcome {
  lib ??= openLibs();
  const { pam, libc } = lib;
  const pwBuf = cstr(password);
  // int conv(int num_msg, const struct pam_message **msg, struct pam_response **resp, void *appdata)
  const conv = new JSCallback(
    (numMsg: number, msgPP: number, respPP: number): number => {
      // PAM frees the responses with free(): allocate them with libc. struct pam_response is 16 bytes.
      const arr = libc.calloc(numMsg, 16);
      if (!arr) return PAM_BUF_ERR;
      for (let i = 0; i < numMsg; i++) {
        const m = read.ptr(msgPP as never, i * 8);
        const style = read.i32(m as never, 0);
        if (style === PAM_PROMPT_ECHO_OFF || style === PAM_PROMPT_ECHO_ON) {
          new BigUint64Array(toArrayBuffer(arr, i * 16, 8))[0] = BigInt(libc.strdup(ptr(pwBuf)) as number);
        }
      }
      new BigUint64Array(toArrayBuffer(respPP as never, 0, 8))[0] = BigInt(arr as number);
      return PAM_SUCCESS;
    },
    { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  );
  const noDelay = new JSCallback(() => {}, { args: [FFIType.i32, FFIType.u32, FFIType.ptr], returns: FFIType.void });
  const convStruct = new BigUint64Array([BigInt(conv.ptr as number), 0n]);
  const handleOut = new BigUint64Array(1);
  let rc = confdir
    ? pam.pam_start_confdir(cstr(service), cstr(user), ptr(convStruct), cstr(confdir), ptr(handleOut))
    : pam.pam_start(cstr(service), cstr(user), ptr(convStruct), ptr(handleOut));
  if (rc !== PAM_SUCCESS) {
    conv.close();
    noDelay.close();
    pwBuf.fill(0);
    return { ok: false, code: rc, step: "pam_start", message: `pam_start failed with code ${rc}` };
  }
  const h = Number(handleOut[0]) as never;
  let step: PamOutcome["step"] = "pam_authenticate";
  const rhostBuf = rhost ? cstr(rhost) : null;
  try {
    pam.pam_set_item(h, PAM_FAIL_DELAY, noDelay.ptr);
    if (rhostBuf) pam.pam_set_item(h, PAM_RHOST, ptr(rhostBuf));
    rc = pam.pam_authenticate(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    if (rc === PAM_SUCCESS) {
      step = "pam_acct_mgmt";
      rc = pam.pam_acct_mgmt(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    }
    return { ok: rc === PAM_SUCCESS, code: rc, step, message: String(pam.pam_strerror(h, rc)) };
  } finally {
    pam.pam_end(h, rc);
    pwBuf.fill(0);
    conv.close();
    noDelay.close();
  }
}
