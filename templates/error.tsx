import { Layout } from "./layout.tsx";

/** A whole page for an error met while rendering a page. */
export function ErrorPage(p: { status: number; message: string }) {
  return (
    <Layout title={`Error ${p.status}`}>
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
