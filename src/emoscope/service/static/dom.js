// DOM helpers shared by the page's modules. Every server string reaches the page through
// textContent, never as HTML.

export const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
export const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) node.append(c);
  return node;
};
const SVG_NS = "http://www.w3.org/2000/svg";
export const svgEl = (tag, attrs = {}) => {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
};
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
