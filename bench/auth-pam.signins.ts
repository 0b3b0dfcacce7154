// Sign-in load for bench/auth-pam.ts, in its own process (run under `nice`, as remote browsers would be):
// keeps PARALLEL `POST /login` in flight until SIGTERM, then prints {"done":N,"ok":M}.
// Usage: bun bench/auth-pam.signins.ts BASE_URL NAME PASSWORD PARALLEL
const [base, name, password, parallelArg] = process.argv.slice(2);
if (!base || !name || !password) throw new Error("usage: auth-pam.signins.ts BASE_URL NAME PASSWORD PARALLEL");
let running = true;
let done = 0;
let ok = 0;
process.on("SIGTERM", () => {
  running = false;
});
const body = new URLSearchParams({ name, password, next: "/" }).toString();
async function one(): Promise<void> {
  while (running) {
    const res = await fetch(`${base}/login`, { method: "POST", body, redirect: "manual", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    await res.arrayBuffer();
    done++;
    if (res.status === 303) ok++;
  }
}
await Promise.all(Array.from({ length: Number(parallelArg ?? 50) }, one));
console.log(JSON.stringify({ done, ok }));
export {};
