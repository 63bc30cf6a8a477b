// Renders /asyncapi.json offline on /docs/ws (served as a file so the page passes the CSP).
"use strict";
const el = (tag, attrs, ...kids) => {
  const n = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => n.setAttribute(k, v));
  kids.forEach(k => n.append(k instanceof Node ? k : String(k)));
  return n;
};
let doc;
const deref = (r) => r.split("/").slice(1).reduce((o, k) => o[k], doc);
function type(s) {
  if (!s) return "any";
  if (s.$ref) { const name = s.$ref.split("/").pop();
    return el("a", {href: "#schema-" + name}, name); }
  if ("const" in s) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map(v => JSON.stringify(v)).join(" | ");
  if (s.anyOf || s.oneOf || s.allOf) {
    const parts = s.anyOf || s.oneOf || s.allOf, span = el("span");
    parts.forEach((p, i) => { if (i) span.append(s.allOf ? " & " : " | "); span.append(type(p)); });
    return span; }
  if (s.type === "array") { const span = el("span"); span.append(type(s.items), "[]");
    return span; }
  if (s.properties) return "{" + Object.keys(s.properties).join(", ") + "}";
  return (s.type || "any") + (s.format ? " (" + s.format + ")" : "");
}
function fields(schema) {
  const t = el("table", {}, el("tr", {}, el("th", {}, "field"), el("th", {}, "type")));
  const req = new Set(schema.required || []);
  Object.entries(schema.properties || {}).forEach(([k, v]) => t.append(el("tr", {},
    el("td", {}, el("code", {}, k), req.has(k) ? el("span", {class: "req"}, " *") : ""),
    el("td", {class: "t"}, type(v)))));
  return t;
}
function payload(m) { let p = m.payload; if (p.$ref) p = deref(p.$ref);
  if (p.allOf) return el("p", {class: "t"}, type(p)); return fields(p); }
function section(title, action) {
  const s = el("section", {}, el("h2", {}, title));
  Object.entries(doc.operations).filter(([, o]) => o.action === action).forEach(([id, o]) => {
    const msg = deref(deref(o.messages[0].$ref).$ref);
    s.append(el("h3", {id: "op-" + id}, el("code", {}, o.title)),
             el("p", {class: "desc"}, o.summary), payload(msg));
    if (o.reply) { const p = el("p", {}, "Reply: ");
      o.reply.messages.forEach((r, i) => { const m = deref(deref(r.$ref).$ref);
        if (i) p.append(" or "); p.append(el("span", {class: "t"}, type(m.payload))); });
      s.append(p); }
  });
  return s;
}
fetch("/asyncapi.json").then(r => r.json()).then(d => {
  doc = d;
  document.getElementById("title").textContent = d.info.title + " " + d.info.version;
  const main = document.getElementById("doc"); main.textContent = "";
  main.append(el("p", {class: "desc"}, d.info.description),
    el("p", {}, "AsyncAPI " + d.asyncapi + " \u00b7 channel ",
       el("code", {}, d.channels.ws.address)),
    section("Client ops (the hub receives)", "receive"),
    section("Server pushes (the hub sends)", "send"));
  const sc = el("section", {}, el("h2", {}, "Schemas"));
  Object.entries(d.components.schemas).forEach(([k, v]) =>
    sc.append(el("h3", {id: "schema-" + k}, el("code", {}, k)), fields(v)));
  main.append(sc);
}).catch(e => { document.getElementById("doc").textContent = "Could not load: " + e; });
