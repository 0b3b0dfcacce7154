// Search-as-you-type lists for inputs marked `data-suggest` (tag keys, tag values, parent datasets), usable with the
// keyboard alone (arrows, Enter, Escape). Listeners sit on the document, so inputs htmx swaps in work as they come.

/** @typedef {{ value: string; id?: number; label: string; note: string; typo?: boolean }} Item */
/** @typedef {{ items: { term: string; datasets: number; match: string }[] }} TermsBody GET /api/v1/tags/suggest */
/** @typedef {{ items: { id: number; title: string; path: string }[] }} CandidatesBody GET /api/v1/relations/candidates */

/** @type {Record<string, (input: HTMLInputElement) => string>} */
const SOURCES = {
  keys: (input) => `/api/v1/tags/suggest?prefix=${encodeURIComponent(input.value)}`,
  values: (input) => {
    const keyInput = document.getElementById(input.dataset.keyInput ?? "");
    const key = keyInput instanceof HTMLInputElement ? keyInput.value : "";
    return `/api/v1/tags/suggest?key=${encodeURIComponent(key)}&prefix=${encodeURIComponent(input.value)}`;
  },
  datasets: (input) => `/api/v1/relations/candidates?q=${encodeURIComponent(input.value)}`,
};

let seq = 0;
/** @type {WeakMap<HTMLInputElement, { active: number }>} */
const state = new WeakMap();

/**
 * The input's list, made and wired on first use.
 * @param {HTMLInputElement} input
 */
function listFor(input) {
  let list = document.getElementById(`${input.id}-list`);
  if (!list) {
    list = document.createElement("ul");
    list.id = `${input.id}-list`;
    list.className = "suggest-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.insertAdjacentElement("afterend", list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    list.addEventListener("mousedown", (e) => {
      const li = e.target instanceof Element ? e.target.closest("li[role=option]") : null;
      if (!li) return;
      e.preventDefault();
      pick(input, li);
    });
  }
  return list;
}

/** @param {HTMLInputElement} input */
function close(input) {
  const list = document.getElementById(`${input.id}-list`);
  if (list) list.hidden = true;
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("aria-activedescendant");
}

/**
 * @param {HTMLInputElement} input
 * @param {Item[]} items
 * @param {string} query
 */
function render(input, items, query) {
  const list = listFor(input);
  list.innerHTML = "";
  list.dataset.for = query;
  items.forEach((it, i) => {
    const li = document.createElement("li");
    li.id = `${input.id}-opt-${i}`;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", "false");
    li.dataset.value = it.value;
    if (it.id !== undefined) li.dataset.id = String(it.id);
    const a = document.createElement("span");
    a.textContent = it.label;
    const b = document.createElement("span");
    b.className = it.typo ? "n typo" : "n";
    b.textContent = it.note;
    li.append(a, b);
    list.appendChild(li);
  });
  list.hidden = items.length === 0;
  input.setAttribute("aria-expanded", items.length ? "true" : "false");
  state.set(input, { active: -1 });
}

/** @param {HTMLInputElement} input */
async function refresh(input) {
  const kind = input.dataset.suggest ?? "";
  const source = SOURCES[kind];
  if (!source || (kind === "datasets" && input.value.trim() === "")) return close(input);
  const my = ++seq;
  const query = input.value;
  let data;
  try {
    const res = await fetch(source(input), { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!res.ok) return close(input);
    data = await res.json();
  } catch {
    return close(input);
  }
  if (my !== seq || document.activeElement !== input) return;
  const exclude = input.dataset.exclude;
  /** @type {Item[]} */
  const items =
    kind === "datasets"
      ? /** @type {CandidatesBody} */ (data).items
          .filter((d) => String(d.id) !== exclude)
          .map((d) => ({ value: d.title, id: d.id, label: d.title, note: d.path }))
      : /** @type {TermsBody} */ (data).items.map((t) => ({
          value: t.term,
          label: t.term,
          note: `${t.match === "typo" ? "similar · " : ""}${t.datasets} dataset${t.datasets === 1 ? "" : "s"}`,
          typo: t.match === "typo",
        }));
  render(input, items, query);
}

/**
 * Takes the chosen option: into the input, and for a dataset also into the hidden id field, then submits.
 * @param {HTMLInputElement} input
 * @param {Element} li
 */
function pick(input, li) {
  input.value = li.getAttribute("data-value") ?? "";
  close(input);
  if (input.dataset.pickInto) {
    const hidden = document.getElementById(input.dataset.pickInto);
    if (hidden instanceof HTMLInputElement) hidden.value = li.getAttribute("data-id") ?? "";
    input.form?.requestSubmit();
    return;
  }
  input.dispatchEvent(new Event("change", { bubbles: true }));
}

/**
 * Moves the highlight by delta; false when no list is open.
 * @param {HTMLInputElement} input
 * @param {number} delta
 */
function move(input, delta) {
  const list = document.getElementById(`${input.id}-list`);
  if (!list || list.hidden) return false;
  const options = [...list.querySelectorAll("li[role=option]")];
  if (!options.length) return false;
  const s = state.get(input) || { active: -1 };
  s.active = (s.active + delta + options.length) % options.length;
  options.forEach((o, i) => o.setAttribute("aria-selected", i === s.active ? "true" : "false"));
  const active = options[s.active];
  if (active) {
    input.setAttribute("aria-activedescendant", active.id);
    active.scrollIntoView({ block: "nearest" });
  }
  state.set(input, s);
  return true;
}

/** @type {WeakMap<HTMLInputElement, ReturnType<typeof setTimeout>>} */
const timers = new WeakMap();
document.addEventListener("input", (e) => {
  const input = e.target;
  if (!(input instanceof HTMLInputElement) || !input.dataset.suggest) return;
  if (input.dataset.pickInto) {
    const hidden = document.getElementById(input.dataset.pickInto);
    if (hidden instanceof HTMLInputElement) hidden.value = "";
  }
  clearTimeout(timers.get(input));
  timers.set(
    input,
    setTimeout(() => refresh(input), 120),
  );
});
document.addEventListener("focusin", (e) => {
  const input = e.target;
  if (input instanceof HTMLInputElement && input.dataset.suggest && input.dataset.suggest !== "datasets") refresh(input);
});
document.addEventListener("focusout", (e) => {
  const input = e.target;
  if (input instanceof HTMLInputElement && input.dataset.suggest) setTimeout(() => close(input), 150);
});
document.addEventListener("keydown", (e) => {
  const input = e.target;
  if (!(input instanceof HTMLInputElement) || !input.dataset.suggest) return;
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    if (move(input, e.key === "ArrowDown" ? 1 : -1)) e.preventDefault();
  } else if (e.key === "Enter") {
    const list = document.getElementById(`${input.id}-list`);
    const s = state.get(input);
    const li = list && !list.hidden && s && s.active >= 0 ? list.querySelectorAll("li[role=option]")[s.active] : undefined;
    if (li) {
      e.preventDefault();
      pick(input, li);
    }
  } else if (e.key === "Escape") {
    // Dismissed: a pending or in-flight lookup must not reopen the list afterwards.
    clearTimeout(timers.get(input));
    seq++;
    close(input);
  }
});
