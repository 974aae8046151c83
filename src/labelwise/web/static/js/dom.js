// Building DOM nodes from data. Item data only ever becomes text nodes or checked
// attributes here: nothing in the app parses a string as HTML.

/** h("p", {class: "x", onclick: fn}, "text", child) -> a new element. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "checked" || key === "value") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** The element with this id, which the page template must contain. */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el;
}

/** Data attributes of the page's root element, with the project spec and layout parsed. */
export function pageData(rootId) {
  const root = byId(rootId);
  const parsed = (name) => (root.dataset[name] ? JSON.parse(root.dataset[name]) : null);
  return { root, ...root.dataset, spec: parsed("spec"), layout: parsed("layout") };
}

export function kbd(key) {
  return h("kbd", {}, key);
}

let uid = 0;
/** A page-unique id for label/for pairs. */
export function newId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** True while focus is somewhere typing happens: single keys must then not act. */
export function isTyping(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement) return true;
  if (target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement &&
    !["radio", "checkbox", "button", "submit", "reset", "file", "range"].includes(target.type);
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
