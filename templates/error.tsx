import { Layout } from "./layout.tsx";
import type { Principal } from "../src/context.ts";

/** A whole page for an error met while rendering a page; signed out (no `user`), its header offers only the sign-in link. */
export function ErrorPage(p: { status: number; message: string; user?: Principal | null }) {
  return (
    <Layout title={`Error ${p.status}`} user={p.user}>
      <section class="error">
        <h1>Error {p.status}</h1>
        <p>{p.message}</p>
      </section>
    </Layout>
  );
}

/** The same message as a fragment an htmx request swaps into place. */
export function ErrorFragment(p: { status: number; message: string }) {
  return (
    <div class="error" role="alert">
      {p.message}
    </div>
  );
}
