// Dataset page behaviour (metadata feature): refusals swap in as fragments, and search-as-you-type lists
// for tag keys, tag values and parent datasets, usable with the keyboard alone (arrows, Enter, Escape).
(() => {
  // A refusal (400, 409, 413) comes back as the panel with the message in it: swap it in like a success.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "(400|409|413)", swap: true, error: false },
    { code: "[45]..", swap: false, error: true },
    { code: "...", swap: false },
  ];

  // Anything else that fails (permission, server error, no connection) is said out loud, never silently dropped.
  const flash = (text) => {
    const box = document.getElementById("flash");
    if (!box) return;
    box.innerHTML = "";
    const div = document.createElement("div");
    div.className = "error";
    div.textContent = text;
    box.appendChild(div);
    box.hidden = false;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => (box.hidden = true), 8000);
  };
  document.addEventListener("htmx:responseError", (e) => {
    const xhr = e.detail.xhr;
    const doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    flash(`${xhr.status}: ${(doc.body.textContent || xhr.statusText || "request failed").trim().slice(0, 400)}`);
  });
  document.addEventListener("htmx:sendError", () => flash("The server could not be reached; your change was not saved."));

  const SOURCES = {
    keys: (input) => `/api/v1/tags/suggest?prefix=${encodeURIComponent(input.value)}`,
    values: (input) => {
      const keyInput = document.getElementById(input.dataset.keyInput);
      const key = keyInput ? keyInput.value : "";
      return `/api/v1/tags/suggest?key=${encodeURIComponent(key)}&prefix=${encodeURIComponent(input.value)}`;
    },
    datasets: (input) => `/api/v1/relations/candidates?q=${encodeURIComponent(input.value)}`,
  };

  let seq = 0;
  const state = new WeakMap();

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
        const li = e.target.closest("li[role=option]");
        if (!li) return;
        e.preventDefault();
        pick(input, li);
      });
    }
    return list;
  }

  function close(input) {
    const list = document.getElementById(`${input.id}-list`);
    if (list) list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

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

  async function refresh(input) {
    const kind = input.dataset.suggest;
    if (kind === "datasets" && input.value.trim() === "") return close(input);
    const my = ++seq;
    const query = input.value;
    let data;
    try {
      const res = await fetch(SOURCES[kind](input), { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!res.ok) return close(input);
      data = await res.json();
    } catch {
      return close(input);
    }
    if (my !== seq || document.activeElement !== input) return;
    const exclude = input.dataset.exclude;
    const items =
      kind === "datasets"
        ? data.items.filter((d) => String(d.id) !== exclude).map((d) => ({ value: d.title, id: d.id, label: d.title, note: d.path }))
        : data.items.map((t) => ({ value: t.term, label: t.term, note: `${t.match === "typo" ? "similar · " : ""}${t.datasets} dataset${t.datasets === 1 ? "" : "s"}`, typo: t.match === "typo" }));
    render(input, items, query);
  }

  function pick(input, li) {
    input.value = li.dataset.value;
    close(input);
    if (input.dataset.pickInto) {
      const hidden = document.getElementById(input.dataset.pickInto);
      if (hidden) hidden.value = li.dataset.id;
      input.form.requestSubmit();
      return;
    }
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function move(input, delta) {
    const list = document.getElementById(`${input.id}-list`);
    if (!list || list.hidden) return false;
    const options = [...list.querySelectorAll("li[role=option]")];
    if (!options.length) return false;
    const s = state.get(input) || { active: -1 };
    s.active = (s.active + delta + options.length) % options.length;
    options.forEach((o, i) => o.setAttribute("aria-selected", i === s.active ? "true" : "false"));
    input.setAttribute("aria-activedescendant", options[s.active].id);
    options[s.active].scrollIntoView({ block: "nearest" });
    state.set(input, s);
    return true;
  }

  const timers = new WeakMap();
  document.addEventListener("input", (e) => {
    const input = e.target;
    if (!(input instanceof HTMLInputElement) || !input.dataset.suggest) return;
    if (input.dataset.pickInto) {
      const hidden = document.getElementById(input.dataset.pickInto);
      if (hidden) hidden.value = "";
    }
    clearTimeout(timers.get(input));
    timers.set(input, setTimeout(() => refresh(input), 120));
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
      if (list && !list.hidden && s && s.active >= 0) {
        e.preventDefault();
        pick(input, list.querySelectorAll("li[role=option]")[s.active]);
      }
    } else if (e.key === "Escape") {
      // Dismissed: a pending or in-flight lookup must not reopen the list afterwards.
      clearTimeout(timers.get(input));
      seq++;
      close(input);
    }
  });
})();
