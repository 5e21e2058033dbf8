// fields.js: the "Fields" panel: the key fields of a receipt (company, date, address, total) or of an
// ID document's machine-readable zone, as py/localocr/fields computed them in the worker (page.fields).
// Each value is linked to its boxes: hovering or focusing a row outlines them on the image overlay.
// Copy as JSON (the fields object as is) or CSV (field,value,normalized,confidence). Nothing is sent anywhere.

import { el, quadPoints } from "./view.js";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";

const LABELS = {
  company: "Company", date: "Date", address: "Address", total: "Total",
  document_type: "Document type", issuing_state: "Issuing state", surname: "Surname", given_names: "Given names",
  number: "Document number", nationality: "Nationality", birth_date: "Date of birth", sex: "Sex",
  expiry_date: "Date of expiry", optional: "Optional data",
};
const ORDER = {
  receipt: ["company", "date", "address", "total"],
  mrz: ["document_type", "issuing_state", "surname", "given_names", "number", "nationality", "birth_date", "sex",
    "expiry_date", "optional"],
};

let shown = null;   // the fields object on screen

export function clearFields() {
  shown = null;
  $("fields-body").replaceChildren();
  $("fields-summary").textContent = "";
  for (const b of ["fields-json", "fields-csv"]) $(b).disabled = true;
  document.querySelector("#overlay .fields")?.remove();
}

// Draws `fields` (page.fields) in the panel and its boxes in the overlay (after view.js drew the page).
export function showFields(fields) {
  clearFields();
  if (!fields) return;
  shown = fields;
  const names = ORDER[fields.kind] || [];
  const found = names.filter((n) => fields[n]);
  const summary = fields.kind === "mrz"
    ? (fields.format ? `Machine-readable zone ${fields.format}: ${fields.valid ? "all check digits hold" : "check digits fail: " +
      Object.entries(fields.checks).filter(([, ok]) => !ok).map(([k]) => k.replace("_", " ")).join(", ")}`
      : "No machine-readable zone found.")
    : `Receipt: ${found.length} of ${names.length} fields found.`;
  $("fields-summary").textContent = summary;
  $("fields").dataset.kind = fields.kind;
  $("fields").dataset.valid = String(fields.kind !== "mrz" || Boolean(fields.valid));
  const overlay = $("overlay");
  const group = document.createElementNS(SVG, "g");
  group.setAttribute("class", "fields");
  const body = $("fields-body");
  for (const name of names) {
    const f = fields[name];
    const row = el("tr", f ? "field" : "field missing");
    row.dataset.field = name;
    row.append(el("th", "", LABELS[name] || name));
    const value = el("td", "field-value", f ? f.value : "not found");
    if (f && f.normalized && f.normalized !== f.value) value.append(el("span", "field-norm", ` (${f.normalized})`));
    if (f && f.currency) value.append(el("span", "field-norm", ` ${f.currency}`));
    row.append(value, el("td", "field-conf", f ? `${Math.round(f.confidence * 100)}%` : ""));
    if (f) {
      row.tabIndex = 0;
      for (const quad of f.quads) {
        const poly = document.createElementNS(SVG, "polygon");
        poly.setAttribute("points", quadPoints(quad));
        poly.setAttribute("class", "field");
        poly.dataset.field = name;
        group.append(poly);
      }
      const on = () => light(name);
      row.addEventListener("pointerenter", on);
      row.addEventListener("focus", on);
      row.addEventListener("pointerleave", () => light(null));
      row.addEventListener("blur", () => light(null));
    }
    body.append(row);
  }
  overlay.append(group);
  for (const b of ["fields-json", "fields-csv"]) $(b).disabled = false;
}

function light(name) {
  for (const node of document.querySelectorAll("[data-field].on")) node.classList.remove("on");
  if (name) for (const node of document.querySelectorAll(`[data-field="${name}"]`)) node.classList.add("on");
}

const csvCell = (v) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

// field,value,normalized,confidence: one row per field (empty value when absent).
export function fieldsCSV(fields) {
  const rows = [["field", "value", "normalized", "confidence"]];
  for (const name of ORDER[fields.kind] || []) {
    const f = fields[name];
    rows.push([name, f ? f.value : "", f ? (f.normalized || "") : "", f ? String(f.confidence) : ""]);
  }
  return rows.map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

async function copy(kind, say) {
  if (!shown) return;
  const text = kind === "json" ? JSON.stringify(shown, null, 2) + "\n" : fieldsCSV(shown);
  try {
    await navigator.clipboard.writeText(text);
    say(`Copied the fields as ${kind.toUpperCase()}.`);
  } catch (e) {
    say(`The browser did not allow copying (${e.message || e}).`, "error");
  }
}

// onKind(kind) is called when the person picks another kind (auto, receipt, mrz).
export function setupFields({ onKind, say }) {
  $("fields-kind").addEventListener("change", () => onKind($("fields-kind").value));
  $("fields-json").addEventListener("click", () => copy("json", say));
  $("fields-csv").addEventListener("click", () => copy("csv", say));
}

export function fieldsKind() {
  return $("fields-kind").value;
}
