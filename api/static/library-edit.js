/* Changing the library from the page: the "Add a document" form (POST /documents, multipart)
 * and a Remove button on every row of the library view (DELETE /documents/{document}).
 *
 * Both always need the API key (auth.js). Each change rebuilds the index on the server before it
 * answers, so the form shows progress, then the server's own figures or its one-line reason for
 * refusing; on success the library view and the filter choices are loaded again
 * ("unrag:library-changed", which library.js and app.js listen for). One change at a time.
 */
(() => {
  "use strict";

  const lib = () => window.UNLibrary;
  const t = (key, vars) => lib().t(key, vars);
  const $ = (id) => document.getElementById(id);
  let busy = false;

  function setBusy(value) {
    busy = value;
    const form = $("library-add");
    form.classList.toggle("is-busy", value);
    form.setAttribute("aria-busy", String(value));
    for (const control of form.querySelectorAll("input, select, button")) control.disabled = value;
    for (const button of document.querySelectorAll("#library-table .library-remove, #library-table .library-confirm button")) button.disabled = value;
  }

  function progress(message) {
    const status = $("library-edit-status");
    lib().clear(status);
    if (message) status.append(lib().el("span", { className: "spinner", "aria-hidden": "true" }), lib().el("span", null, message));
    status.classList.toggle("is-busy", Boolean(message));
  }

  function done(message) {
    const status = $("library-edit-status");
    lib().clear(status);
    status.classList.remove("is-busy");
    status.append(lib().el("span", { className: "library-edit-done" }, message));
  }

  function fail(message) {
    progress("");
    const box = $("library-edit-error");
    box.textContent = message;
    box.hidden = false;
  }

  function resetMessages() {
    progress("");
    $("library-edit-error").hidden = true;
    $("library-edit-error").textContent = "";
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
    if (needsKey()) return;
    const form = new FormData();
    form.append("file", file, file.name);
    const symbol = $("add-symbol").value.trim();
    if (symbol) form.append("symbol", symbol);
    const lang = $("add-lang").value;
    if (lang) form.append("lang", lang);
    if ($("add-replace").checked) form.append("replace", "true");
    setBusy(true);
    progress(t("edit.adding", { file: file.name }));
    const before = new Set((lib().library() || []).flatMap((d) => d.versions.map((v) => v.id)));
    try {
      const body = await lib().request("/documents", { method: "POST", body: form }); // the browser sets the multipart boundary
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
      lib().clear(cell);
      cell.append(button);
      button.focus();
    };
    const yes = lib().el("button", { type: "button", className: "button button-small button-danger library-confirm-yes", onclick: () => remove(doc) }, t("edit.confirmYes"));
    const no = lib().el("button", { type: "button", className: "button button-small button-quiet", onclick: cancel }, t("edit.cancel"));
    lib().clear(cell);
    const question = t(doc.versions.length > 1 ? "edit.confirm" : "edit.confirmOne", { doc: name, n: doc.versions.length });
    cell.append(lib().el("div", { className: "library-confirm", role: "group", "aria-label": question }, lib().el("span", null, question), lib().el("div", { className: "library-confirm-buttons" }, yes, no)));
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
      const body = await lib().request(`/documents/${target.split("/").map(encodeURIComponent).join("/")}`, { method: "DELETE" });
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
