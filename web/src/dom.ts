/** Small DOM helpers: the dashboard uses no framework, so views build and patch elements directly. */

type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;
type Child = Node | string | number | null | undefined | false;

/** An element with attributes (`on<event>` keys become listeners, `false`/null ones are left out) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = String(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  append(e, children);
  return e;
}

export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces the children of `parent`. */
export function replace(parent: Node, ...children: (Child | Child[])[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, children);
}

/** Sets text only when it changed: no layout work or screen-reader chatter for equal values. */
export function setText(node: Element, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

/** An empty state that explains why there is nothing and what to do. */
export function emptyState(title: string, detail: string): HTMLElement {
  return h('div', { class: 'empty', role: 'note' }, h('strong', {}, title), h('p', {}, detail));
}

/** An error shown plainly: what failed and the server's message (which names the field and the fix). */
export function errorBox(title: string, message: string): HTMLElement {
  return h('div', { class: 'error-box', role: 'alert' }, h('strong', {}, title), h('pre', {}, message));
}

/** Runs `fn` every `ms`, skipping ticks while the tab is hidden; returns the stop function. */
export function every(ms: number, fn: () => unknown): () => void {
  const t = setInterval(() => {
    if (document.visibilityState === 'visible') void fn();
  }, ms);
  return () => clearInterval(t);
}
