/** The session's CSRF token as the `_csrf` field of a plain form post (htmx sends it as a header instead). */
export function CsrfField(p: { token?: string }) {
  return p.token ? <input type="hidden" name="_csrf" value={p.token} /> : null;
}
