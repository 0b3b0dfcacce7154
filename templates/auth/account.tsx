import { Layout } from "../layout.tsx";

/** An API token as the account page lists it. */
export interface TokenView {
  id: number;
  label: string;
  prefix: string;
  createdAt: number;
  lastUsedAt: number | null;
}

const when = (ms: number | null) => (ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "never");

/** The signed-in user's own page: API tokens (create, revoke), password change and sign-out. */
export function AccountPage(p: {
  user: { name: string; isAdmin: boolean; groups: string[] };
  csrf: string;
  backend: "local" | "pam";
  tokens: TokenView[];
  newToken?: { label: string; secret: string };
  message?: string;
  error?: string;
}) {
  return (
    <Layout title="Account" user={p.user} csrf={p.csrf}>
      <section class="account">
        <h1>Account {p.user.name}</h1>
        <p class="muted">
          {p.user.isAdmin ? "Administrator. " : ""}
          {p.user.groups.length ? `Groups: ${p.user.groups.join(", ")}` : ""}
        </p>
        {p.message ? (
          <p class="ok" role="status">
            {p.message}
          </p>
        ) : null}
        {p.error ? (
          <p class="error" role="alert">
            {p.error}
          </p>
        ) : null}
        <form method="post" action="/logout">
          <input type="hidden" name="_csrf" value={p.csrf} />
          <button type="submit">Sign out</button>
        </form>

        <h2>API tokens</h2>
        <p class="muted">
          Scripts send a token as <code>Authorization: Bearer TOKEN</code>.
        </p>
        {p.newToken ? (
          <p class="new-token" role="status">
            New token “{p.newToken.label}”: <code id="new-token">{p.newToken.secret}</code> (copy it now; it is not shown again)
          </p>
        ) : null}
        <table class="tokens">
          <thead>
            <tr>
              <th>Label</th>
              <th>Starts with</th>
              <th>Created</th>
              <th>Last used</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {p.tokens.map((t) => (
              <tr>
                <td>{t.label}</td>
                <td>
                  <code>{t.prefix}…</code>
                </td>
                <td>{when(t.createdAt)}</td>
                <td>{when(t.lastUsedAt)}</td>
                <td>
                  <form method="post" action={`/account/tokens/${t.id}/revoke`}>
                    <input type="hidden" name="_csrf" value={p.csrf} />
                    <button type="submit">Revoke</button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <form method="post" action="/account/tokens" class="new-token-form">
          <input type="hidden" name="_csrf" value={p.csrf} />
          <label>
            Label <input name="label" required maxlength={100} />
          </label>{" "}
          <button type="submit">Create token</button>
        </form>

        <h2>Password</h2>
        {p.backend === "pam" ? <p class="muted">This changes your system password and your share (Samba) password together.</p> : null}
        <form method="post" action="/account/password" class="password-form">
          <input type="hidden" name="_csrf" value={p.csrf} />
          <p>
            <label>
              Current password <input name="current" type="password" autocomplete="current-password" required />
            </label>
          </p>
          <p>
            <label>
              New password <input name="password" type="password" autocomplete="new-password" minlength={8} required />
            </label>
          </p>
          <p>
            <label>
              Repeat new password <input name="confirm" type="password" autocomplete="new-password" minlength={8} required />
            </label>
          </p>
          <p>
            <button type="submit">Change password</button>
          </p>
        </form>
      </section>
    </Layout>
  );
}
