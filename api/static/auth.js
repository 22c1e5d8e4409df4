/* The API key of a service that asks for one (served off loopback with RAG_API_KEY; changing the
 * library always asks). Kept in sessionStorage only — this tab, gone when it closes, never in
 * localStorage or a cookie — and sent as "Authorization: Bearer <key>" on every request the page
 * makes (page-core.js's UNPage.request takes its headers from window.UNAuth.headers()).
 *
 * The box in the masthead (#key-box) saves and forgets it; a 401 opens the box. Its labels are
 * translated by library.js (data-lib-i18n); its messages are in library-strings.js.
 */
(() => {
  "use strict";

  const STORAGE_KEY = "un-rag.api-key";
  const PRINTABLE_ASCII = /^[\x21-\x7e]+$/; // a header value; what RAG_API_KEY holds in practice

  let memory = ""; // where sessionStorage is refused (some private modes): this page only

  const t = window.UNPage.translator(window.UNLibraryStrings); // page-core.js, library-strings.js

  function key() {
    try {
      return window.sessionStorage.getItem(STORAGE_KEY) || "";
    } catch (_) {
      return memory;
    }
  }

  function store(value) {
    try {
      if (value) window.sessionStorage.setItem(STORAGE_KEY, value);
      else window.sessionStorage.removeItem(STORAGE_KEY);
    } catch (_) {
      memory = value;
    }
  }

  /** ``base`` plus the Authorization header when a key is held. */
  function headers(base) {
    const out = { ...(base || {}) };
    const held = key();
    if (held) out.Authorization = `Bearer ${held}`;
    return out;
  }

  function $(id) {
    return document.getElementById(id);
  }

  function say(message) {
    const status = $("key-status");
    if (status) status.textContent = message;
  }

  function renderState() {
    const mark = $("key-set");
    if (mark) mark.hidden = !key();
  }

  /** A request was refused for want of the key: open the box and put the cursor in it. */
  function needed() {
    const box = $("key-box");
    if (!box) return;
    box.open = true;
    const input = $("key-input");
    if (input && document.activeElement !== input) input.focus({ preventScroll: false });
  }

  function changed() {
    renderState();
    document.dispatchEvent(new CustomEvent("unrag:key-changed"));
  }

  function init() {
    renderState();
    const form = $("key-form");
    if (!form) return;
    const input = $("key-input");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = input.value.trim();
      if (!value) {
        say(t("key.empty"));
        input.focus();
        return;
      }
      if (!PRINTABLE_ASCII.test(value)) {
        say(t("key.bad"));
        input.focus();
        return;
      }
      store(value);
      input.value = "";
      say(t("key.saved"));
      $("key-box").open = false; // the ✓ beside "API key" says it is held
      changed();
    });
    $("key-forget").addEventListener("click", () => {
      store("");
      input.value = "";
      say(t("key.forgotten"));
      changed();
    });
  }

  window.UNAuth = { key, headers, needed };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
