// Tiny DOM helpers. Everything the desk shows is built with these, never with innerHTML,
// so text from the API (customer ids, reasons) can never become markup.

/**
 * Create an element.
 * attrs: `class`, `text`, `dataset` (object), `on` (object of listeners), any other key is
 * set as an attribute (`true` sets a boolean attribute, `false`/null/undefined skips it).
 * children: nodes, strings, or (nested) arrays of them; null/undefined/false are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key === "on") {
      for (const [type, listener] of Object.entries(value)) element.addEventListener(type, listener);
    } else element.setAttribute(key, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace all children of `parent`, keeping keyboard focus on the "same" control.
 *  Controls that should keep focus across re-renders carry a `data-focus-key`. */
export function replaceChildrenKeepingFocus(parent, ...children) {
  const active = document.activeElement;
  const focusKey = active instanceof HTMLElement && parent.contains(active) ? active.dataset.focusKey : undefined;
  parent.replaceChildren();
  append(parent, children);
  if (focusKey) {
    const again = parent.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
    if (again instanceof HTMLElement && !again.hasAttribute("disabled")) again.focus();
  }
}
