/* The shared core of the page (window.UNPage): what app.js, answer-view.js, reader.js,
 * library.js, library-edit.js and auth.js all need, written once.
 *
 *   el, clear                    build and empty DOM nodes (never innerHTML)
 *   textLanguage, textLang,      which script a text is in, and the lang attribute for it
 *   langAttr, uiLang
 *   translator                   a t(key, vars) over a string table (app-strings.js, library-strings.js)
 *   request, ApiError,           the one way to call the API: JSON, the API key (auth.js), a 401 opens
 *   describeError                the key box, every failure becomes the server's one-line reason
 *   showError, hideError,        the page's error boxes and busy lines
 *   setStatus
 *   copyText, copyAndReport      the clipboard, with a fallback where navigator.clipboard is refused
 *
 * Loaded after the two string files and before every other script (index.html, all defer).
 */
"use strict";

(() => {
  // ---------------------------------------------------------------- DOM

  /** A new element: attrs (className, text, on<event> handlers, plain attributes), then children. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "className") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // ---------------------------------------------------------------- languages

  /** "zh" for text that contains Han characters, "en" otherwise. */
  function textLanguage(text) {
    return /[\u3400-\u9fff\uf900-\ufaff]/.test(text || "") ? "zh" : "en";
  }

  /** The lang attribute for a text: picks the right font and punctuation glyphs. */
  function textLang(text) {
    return textLanguage(text) === "zh" ? "zh-CN" : "en";
  }

  /** The lang attribute for a language code of the API ("zh" is written zh-CN on the page). */
  function langAttr(code) {
    return code === "zh" ? "zh-CN" : code || "";
  }

  /** The interface language, as app.js sets it on <html lang>: "zh" or "en". */
  function uiLang() {
    return (document.documentElement.lang || "zh").startsWith("en") ? "en" : "zh";
  }

  /** t(key, vars) over the given string tables ({zh: {...}, en: {...}}), first table that has the
   *  key wins; a key missing in the interface language falls back to English, then to the key. */
  function translator(...tables) {
    return (key, vars) => {
      const lang = uiLang();
      let text = key;
      const found = tables.find((table) => table && table[lang] && key in table[lang]);
      if (found) text = found[lang][key];
      else {
        const english = tables.find((table) => table && table.en && key in table.en);
        if (english) text = english.en[key];
      }
      for (const [name, value] of Object.entries(vars || {})) text = text.split(`{${name}}`).join(String(value));
      return text;
    };
  }

  // the core's own messages live in the two string files (error.*, copy.* and key.needed)
  const t = translator(window.UNPageStrings, window.UNLibraryStrings);

  // ---------------------------------------------------------------- the API

  class ApiError extends Error {}

  /** The server's one-line reason (its "detail"), or a sentence with the HTTP status. */
  function describeError(body, status) {
    const detail = body && body.detail;
    if (typeof detail === "string" && detail.trim()) return detail.trim();
    if (Array.isArray(detail)) {
      const messages = detail.map((d) => (d && typeof d.msg === "string" ? d.msg : "")).filter(Boolean);
      if (messages.length) return messages.join("; ");
    }
    return t("error.http", { status });
  }

  /** Fetch JSON from the API with the API key when auth.js holds one. Every failure becomes an
   *  ApiError whose message is a readable sentence; a 401 also opens the key box and says so. */
  async function request(path, options) {
    const init = { ...(options || {}) };
    const headers = { Accept: "application/json", ...(init.headers || {}) };
    init.headers = window.UNAuth ? window.UNAuth.headers(headers) : headers;
    let response;
    try {
      response = await fetch(path, init);
    } catch (_) {
      throw new ApiError(t("error.network"));
    }
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) {
      if (response.status === 401 && window.UNAuth) {
        window.UNAuth.needed(); // open the key box
        throw new ApiError(`${t("key.needed")} (${describeError(body, response.status)})`);
      }
      throw new ApiError(describeError(body, response.status));
    }
    if (body === null) throw new ApiError(t("error.http", { status: response.status }));
    return body;
  }

  // ---------------------------------------------------------------- error boxes and busy lines

  /** Show message in an error box (role=alert); with a heading, as "heading: message". */
  function showError(box, message, heading) {
    clear(box);
    if (heading) box.append(el("strong", { className: "error-heading" }, heading), el("span", { className: "error-detail" }, message));
    else box.textContent = message;
    box.hidden = false;
  }

  function hideError(box) {
    clear(box);
    box.hidden = true;
  }

  /** A status line (role=status): the message with a spinner while busy; "" empties it. */
  function setStatus(box, message, busy) {
    clear(box);
    if (message) box.append(el("span", { className: "spinner", "aria-hidden": "true" }), el("span", null, message));
    box.classList.toggle("is-busy", Boolean(busy));
  }

  // ---------------------------------------------------------------- the clipboard

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch (_) {
        /* fall through to the textarea */
      }
    }
    const area = el("textarea", { readonly: true, "aria-hidden": "true", className: "clipboard-helper" });
    area.value = text;
    document.body.append(area);
    const active = document.activeElement;
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (_) {
      ok = false;
    }
    area.remove();
    if (active && typeof active.focus === "function") active.focus();
    return ok;
  }

  /** Copy text and say so in statusNode (the copied text is kept in data-copied for tests and screen readers). */
  async function copyAndReport(text, statusNode) {
    const ok = await copyText(text);
    clear(statusNode);
    if (ok) statusNode.append(el("span", { className: "copy-ok" }, t("copy.done")), el("q", { className: "copied-text" }, text));
    else statusNode.append(el("span", { className: "copy-failed" }, t("copy.failed")));
    statusNode.dataset.copied = ok ? text : "";
  }

  window.UNPage = {
    el,
    clear,
    textLanguage,
    textLang,
    langAttr,
    uiLang,
    translator,
    ApiError,
    request,
    describeError,
    showError,
    hideError,
    setStatus,
    copyText,
    copyAndReport,
  };
})();
