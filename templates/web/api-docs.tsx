import { Layout } from "../layout.tsx";

/** The API reference: Swagger UI (embedded) over /api/v1/openapi.json, inside the usual page frame. */
export function ApiDocsPage(p: { user: { name: string; isAdmin: boolean } | null; csrf?: string }) {
  return (
    <Layout title="API" user={p.user} csrf={p.csrf}>
      <link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css" />
      <section class="api-docs">
        <h1>HTTP API</h1>
        <p>
          Every route under <code>/api/v1</code>, with its parameters, bodies and answers. Scripts sign in with HTTP Basic or an API token (your{" "}
          <a href="/account">account page</a> makes one); the raw document is <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.
        </p>
        <div id="swagger-ui" data-spec="/api/v1/openapi.json"></div>
      </section>
      <script src="/static/vendor/swagger-ui/swagger-ui-bundle.js" defer></script>
      <script type="module" src="/static/api-docs.js"></script>
    </Layout>
  );
}
