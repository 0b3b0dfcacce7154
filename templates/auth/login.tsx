import { Layout } from "../layout.tsx";

/** The sign-in form; shown for every page request without a session, and as the body of a Negotiate challenge. */
export function LoginPage(p: { next: string; error?: string; name?: string; kerberos?: boolean }) {
  return (
    <Layout title="Sign in">
      <section class="login">
        <h1>Sign in</h1>
        {p.error ? (
          <p class="error" role="alert">
            {p.error}
          </p>
        ) : null}
        <form method="post" action="/login" class="login-form">
          <input type="hidden" name="next" value={p.next} />
          <p>
            <label>
              Account <input name="name" autocomplete="username" required value={p.name ?? ""} autofocus />
            </label>
          </p>
          <p>
            <label>
              Password <input name="password" type="password" autocomplete="current-password" required />
            </label>
          </p>
          <p>
            <button type="submit" class="primary">
              Sign in
            </button>
          </p>
        </form>
        {p.kerberos ? <p class="muted">With a Kerberos ticket your browser signs you in without this form.</p> : null}
      </section>
    </Layout>
  );
}
