// The API reference page (templates/web/api-docs.tsx): Swagger UI over the generated OpenAPI document.
// "Try it out" runs as the signed-in browser session, so state-changing calls carry the page's CSRF token.
const mount = document.getElementById("swagger-ui");
const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content");

function start() {
  // The global of the vendor bundle, a deferred classic script that has run before this module.
  const SwaggerUIBundle = window.SwaggerUIBundle;
  if (!mount || !SwaggerUIBundle) return;
  SwaggerUIBundle({
    url: mount.dataset.spec,
    domNode: mount,
    deepLinking: true,
    requestInterceptor: (req) => {
      if (csrf) req.headers["X-CSRF-Token"] = csrf;
      return req;
    },
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
