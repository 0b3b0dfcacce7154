// DOM helpers shared by the page modules.

/**
 * Calls init once for every element that matches selector and is a `type`: those on the page now and those htmx
 * swaps in later. A module runs once per page, so this is how content that arrives with a swap comes to life.
 * Returns the scan, for a module that puts new elements in by itself.
 * @template {Element} E
 * @param {string} selector
 * @param {{ new (): E; prototype: E }} type
 * @param {(el: E) => void} init
 * @returns {(root: Node) => void}
 */
export function eachPresent(selector, type, init) {
  /** @type {WeakSet<Element>} */
  const seen = new WeakSet();
  /** @param {Node} root */
  const scan = (root) => {
    if (!(root instanceof Element || root instanceof Document)) return;
    const found = [...root.querySelectorAll(selector)];
    if (root instanceof Element && root.matches(selector)) found.unshift(root);
    for (const el of found) {
      if (!(el instanceof type) || seen.has(el)) continue;
      seen.add(el);
      init(el);
    }
  };
  scan(document);
  htmx.onLoad(scan);
  return scan;
}

/**
 * A new element with attributes ("text" sets the text content instead) and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string>} [attrs]
 * @param {Node[]} [kids]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attrs = {}, kids = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...kids);
  return e;
}
