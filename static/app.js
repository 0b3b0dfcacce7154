// Shared page behaviour: send the CSRF token with every htmx request.
document.addEventListener("htmx:configRequest", (e) => {
  const token = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content");
  if (token) e.detail.headers["X-CSRF-Token"] = token;
});
