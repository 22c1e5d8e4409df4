/* Changing the library from the page: the "Add a document" form (POST /documents, multipart)
 * and a Remove button on every row of the library view (DELETE /documents/{document}).
 *
 * Both always need the API key (auth.js). Each change rebuilds the index on the server before it
 * answers, so the form shows progress, then the server's own figures or its one-line reason for
 * refusing; on success the library view and the filter choices are loaded again
 * ("unrag:library-changed", which library.js and app.js listen for). One change at a time.
 *
 * Besides the file, its symbol and language, the form's "More details" give the catalogue
 * fields POST /documents accepts (title, title_en, session, date, body), checked here against
 * the API's own limits (api/routes/library_edit.py) before anything is sent.
 */
(() => {
  "use strict";

  const { el, clear, request, setStatus, showError, hideError } = window.UNPage; // page-core.js
  const lib = () => window.UNLibrary;
  const t = (key, vars) => lib().t(key, vars);
  const $ = (id) => document.getElementById(id);
  let busy = false;

  // The optional catalogue fields: the form field, its input, and the API's limit on it.
  const TEXT_FIELDS = [
    { name: "title", input: "add-title", max: 500 },
    { name: "title_en", input: "add-title-en", max: 500 },
    { name: "body", input: "add-body", max: 200 },
  ];
  const SESSION = { min: 1, max: 1000 };
  const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

  function setBusy(value) {
    busy = value;
    const form = $("library-add");
    form.classList.toggle("is-busy", value);
    form.setAttribute("aria-busy", String(value));
    for (const control of form.querySelectorAll("input, select, button")) control.disabled = value;
    for (const button of document.querySelectorAll("#library-table .library-remove, #library-table .library-confirm button")) button.disabled = value;
  }

  function progress(message) {
    setStatus($("library-edit-status"), message, Boolean(message));
  }

  function done(message) {
    const status = $("library-edit-status");
    setStatus(status, "", false);
    status.append(el("span", { className: "library-edit-done" }, message));
  }

  function fail(message) {
    progress("");
    showError($("library-edit-error"), message);
  }

  function resetMessages() {
    progress("");
    hideError($("library-edit-error"));
    for (const input of $("library-add").querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  function needsKey() {
    if (window.UNAuth && window.UNAuth.key()) return false;
    if (window.UNAuth) window.UNAuth.needed();
    fail(t("edit.needsKey"));
    return true;
  }

  function changed() {
    document.dispatchEvent(new CustomEvent("unrag:library-changed"));
  }

  /** A real calendar day written YYYY-MM-DD, as the API reads it (dt.date). */
  function isIsoDate(text) {
    const match = ISO_DATE.exec(text);
    if (!match) return false;
    const [year, month, day] = match.slice(1).map(Number);
    const date = new Date(Date.UTC(year, month - 1, day));
    return year >= 1 && date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  }

  /** The optional fields, checked: {fields: [[name, value], ...]} or {problem, input}. */
  function catalogueFields() {
    const fields = [];
    const symbol = $("add-symbol").value.trim();
    if (Array.from(symbol).length > 100) return { problem: t("edit.tooLong", { field: t("edit.symbolName"), max: 100 }), input: $("add-symbol") };
    if (symbol) fields.push(["symbol", symbol]);
    for (const spec of TEXT_FIELDS) {
      const input = $(spec.input);
      const value = input.value.trim();
      if (Array.from(value).length > spec.max) return { problem: t("edit.tooLong", { field: t(`edit.${spec.name}Name`), max: spec.max }), input };
      if (value) fields.push([spec.name, value]);
    }
    const session = $("add-session");
    const sessionText = session.value.trim();
    if (session.validity.badInput || (sessionText && !/^\d+$/.test(sessionText))) return { problem: t("edit.badSession", SESSION), input: session };
    if (sessionText) {
      const n = Number(sessionText);
      if (n < SESSION.min || n > SESSION.max) return { problem: t("edit.badSession", SESSION), input: session };
      fields.push(["session", String(n)]);
    }
    const date = $("add-date");
    const dateText = date.value.trim();
    if (date.validity.badInput || (dateText && !isIsoDate(dateText))) return { problem: t("edit.badDate"), input: date };
    if (dateText) fields.push(["date", dateText]);
    return { fields };
  }

  async function add(event) {
    event.preventDefault();
    if (busy) return;
    resetMessages();
    const input = $("add-file");
    const file = input.files && input.files[0];
    if (!file) {
      fail(t("edit.noFile"));
      input.focus();
      return;
    }
    const checked = catalogueFields();
    if (checked.problem) {
      fail(checked.problem);
      if (checked.input.closest("details")) checked.input.closest("details").open = true;
      checked.input.setAttribute("aria-invalid", "true");
      checked.input.focus();
      return;
    }
    if (needsKey()) return;
    const form = new FormData();
    form.append("file", file, file.name);
    for (const [name, value] of checked.fields) form.append(name, value);
    const lang = $("add-lang").value;
    if (lang) form.append("lang", lang);
    if ($("add-replace").checked) form.append("replace", "true");
    setBusy(true);
    progress(t("edit.adding", { file: file.name }));
    const before = new Set((lib().library() || []).flatMap((d) => d.versions.map((v) => v.id)));
    try {
      const body = await request("/documents", { method: "POST", body: form }); // the browser sets the multipart boundary
      const first = body.changed[0] || {};
      const replaced = before.has(first.id);
      done(t(replaced ? "edit.replaced" : "edit.added", {
        file: first.file || file.name, id: first.id || "?", lang: lib().languageName(first.language || "?"),
        embedded: body.embedded, reused: body.reused, seconds: body.seconds, documents: body.documents,
      }));
      $("library-add").reset();
      changed();
    } catch (problem) {
      fail(String(problem.message || problem));
    } finally {
      setBusy(false);
    }
  }

  function documentOf(key) {
    return (lib().library() || []).find((d) => d.document === key) || null;
  }

  /** The first click asks again in the row itself; "Yes, remove" sends the request. */
  function confirmRemoval(button) {
    const doc = documentOf(button.dataset.document);
    if (!doc || busy) return;
    resetMessages();
    const cell = button.closest("td");
    const name = doc.symbol || doc.document;
    const cancel = () => {
      clear(cell);
      cell.append(button);
      button.focus();
    };
    const yes = el("button", { type: "button", className: "button button-small button-danger library-confirm-yes", onclick: () => remove(doc) }, t("edit.confirmYes"));
    const no = el("button", { type: "button", className: "button button-small button-quiet", onclick: cancel }, t("edit.cancel"));
    clear(cell);
    const question = t(doc.versions.length > 1 ? "edit.confirm" : "edit.confirmOne", { doc: name, n: doc.versions.length });
    cell.append(el("div", { className: "library-confirm", role: "group", "aria-label": question }, el("span", null, question), el("div", { className: "library-confirm-buttons" }, yes, no)));
    yes.focus();
  }

  async function remove(doc) {
    if (busy || needsKey()) return;
    const name = doc.symbol || doc.document;
    // one version: by its id; several: by the document's key (which may hold slashes: A/70/1)
    const target = doc.versions.length === 1 ? doc.versions[0].id : doc.document;
    setBusy(true);
    progress(t("edit.removing", { doc: name }));
    try {
      const body = await request(`/documents/${target.split("/").map(encodeURIComponent).join("/")}`, { method: "DELETE" });
      done(t("edit.removed", { doc: name, ids: body.changed.map((c) => c.id).join(", "), seconds: body.seconds, documents: body.documents }));
      changed();
    } catch (problem) {
      fail(String(problem.message || problem));
      lib().showLibrary(); // put the row's Remove button back
    } finally {
      setBusy(false);
    }
  }

  function init() {
    const form = $("library-add");
    if (!form) return;
    form.addEventListener("submit", add);
    $("library-table").addEventListener("click", (event) => {
      const button = event.target.closest(".library-remove");
      if (button) confirmRemoval(button);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
