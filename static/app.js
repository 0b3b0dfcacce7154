// Shared page behaviour: send the CSRF token with every htmx request.
document.addEventListener("htmx:configRequest", (e) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) e.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
});
