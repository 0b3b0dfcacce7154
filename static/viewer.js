// The preview panel's slice viewers (templates/preview/viewer.tsx), and the chooser that switches one to another volume.
import { eachPresent } from "./lib/dom.js";
import { loadViewer } from "./viewer/slice-viewer.js";

const startViewers = eachPresent(".mata-viewer[data-base]", HTMLElement, loadViewer);

eachPresent("select.viewer-choose", HTMLSelectElement, (sel) => {
  sel.addEventListener("change", () => {
    const host = document.getElementById(sel.getAttribute("data-target") ?? "");
    const old = host?.querySelector(".mata-viewer");
    const opt = sel.selectedOptions[0];
    if (!old || !opt) return;
    const fresh = /** @type {Element} */ (old.cloneNode(false));
    // The clone would carry the old viewer's "ready": the new one says so itself once its tiles' info loads.
    fresh.removeAttribute("data-state");
    fresh.setAttribute("data-base", sel.value);
    fresh.setAttribute("data-unit", opt.getAttribute("data-unit") || "px");
    fresh.setAttribute("data-version", opt.getAttribute("data-version") || "");
    fresh.setAttribute("data-flat", opt.getAttribute("data-flat") || "0");
    fresh.innerHTML = '<div class="viewer-toolbar"></div><div class="viewer-panes"></div>';
    old.replaceWith(fresh);
    startViewers(fresh);
  });
});
