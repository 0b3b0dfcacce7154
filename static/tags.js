// Dataset page behaviour (metadata feature): refusals swap in as fragments, other failures are said out loud, and
// the search-as-you-type lists for tag keys, tag values and parent datasets.
import { flash } from "./tags/flash.js";
import "./tags/suggest.js";

// A refusal (400, 409, 413) comes back as the panel with the message in it: swap it in like a success.
htmx.config.responseHandling = [
  { code: "204", swap: false },
  { code: "[23]..", swap: true },
  { code: "(400|409|413)", swap: true, error: false },
  { code: "[45]..", swap: false, error: true },
  { code: "...", swap: false },
];

// Anything else that fails (permission, server error, no connection) is said out loud, never silently dropped.
document.addEventListener("htmx:responseError", (e) => {
  const xhr = e.detail.xhr;
  const doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
  flash(`${xhr.status}: ${(doc.body.textContent || xhr.statusText || "request failed").trim().slice(0, 400)}`);
});
document.addEventListener("htmx:sendError", () => flash("The server could not be reached; your change was not saved."));
