// The dataset page's message box (#flash): shows an error for a few seconds.

/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;

/** @param {string} text */
export function flash(text) {
  const box = document.getElementById("flash");
  if (!box) return;
  box.innerHTML = "";
  const div = document.createElement("div");
  div.className = "error";
  div.textContent = text;
  box.appendChild(div);
  box.hidden = false;
  clearTimeout(timer);
  timer = setTimeout(() => (box.hidden = true), 8000);
}
