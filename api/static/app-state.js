/* The state of the question-and-reader side of the page (window.UNApp), and what answer-view.js,
 * reader.js and app.js share: the interface language's strings, the catalogue of documents
 * (GET /documents) with their titles, session ordinals and section paths.
 */
"use strict";

(() => {
  const { el, clear, textLang, request, translator } = window.UNPage;

  const STORAGE_KEY = "un-rag.ui-language";

  const state = {
    lang: initialLanguage(),
    documents: null, // [{id, symbol, title, title_en, language, ...}] once loaded
    result: null, // {question, data} of the last answer
    askToken: 0,
    reader: null, // last /documents/{doc}/paragraphs/{n} response
    readerToken: 0,
    panel: null, // {unit, reference, spans, lang, opener, cited}
  };

  /** The stored choice, else the browser's first language: Chinese or English. */
  function initialLanguage() {
    let stored = null;
    try {
      stored = window.localStorage.getItem(STORAGE_KEY);
    } catch (_) {
      stored = null;
    }
    if (stored === "zh" || stored === "en") return stored;
    const preferred = (navigator.languages && navigator.languages[0]) || navigator.language || "zh";
    return /^zh/i.test(preferred) ? "zh" : "en";
  }

  /** Remember the interface language (app.js applies it). */
  function storeLanguage(lang) {
    state.lang = lang;
    try {
      window.localStorage.setItem(STORAGE_KEY, lang);
    } catch (_) {
      /* private mode: the choice lasts for this page only */
    }
  }

  const $ = (id) => document.getElementById(id);

  // the page's strings (app-strings.js) in the interface language app.js sets on <html lang>
  const t = translator(window.UNPageStrings);

  function ordinal(n) {
    const tens = n % 100;
    if (tens >= 11 && tens <= 13) return "th";
    return { 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th";
  }

  async function loadDocuments() {
    if (state.documents) return state.documents;
    state.documents = await request("/documents");
    return state.documents;
  }

  function documentById(id) {
    return (state.documents || []).find((d) => d.id === id) || null;
  }

  function documentTitle(doc) {
    if (!doc) return "";
    if (state.lang === "en") return doc.title_en || doc.title || doc.id;
    return doc.title || doc.title_en || doc.id;
  }

  /** The headings above a unit, outermost first (the panel and the reader). */
  function renderSection(list, section) {
    clear(list);
    if (!section || !section.length) {
      list.append(el("li", { className: "section-none" }, t("panel.noSection")));
      return;
    }
    section.forEach((heading, depth) => list.append(el("li", { lang: textLang(heading), "data-depth": depth }, heading)));
  }

  /** An error box of this side of the page: "Something went wrong" above the reason. */
  function showError(box, message) {
    window.UNPage.showError(box, message, t("error.heading"));
  }

  window.UNApp = { state, $, t, storeLanguage, ordinal, loadDocuments, documentById, documentTitle, renderSection, showError };
})();
