/* The web page of the UN documents question answerer: the interface language, routing and wiring.
 *
 * Plain JavaScript, no build step, no network calls other than to this service's own API.
 * The scripts (index.html, all defer, in this order): the strings (app-strings.js,
 * library-strings.js); page-core.js and quotes.js (window.UNPage: DOM, API requests, errors,
 * clipboard, quotations); auth.js (the API key); library.js and library-edit.js (the library
 * view, filters, language versions, adding and removing documents); app-state.js (window.UNApp:
 * state and the catalogue); answer-view.js (asking, the answer, the paragraph panel); reader.js
 * (the documents list and the paragraph reader); then this file, which starts the page.
 *
 * Views are chosen by the URL hash:  ""            the question and its answer
 *                                    "#documents"  the catalogue
 *                                    "#library"    the library (library.js)
 *                                    "#doc/<id>/para/<n>"  one paragraph of one document
 */
"use strict";

(() => {
  const { state, $, t, storeLanguage, loadDocuments, showError } = window.UNApp;
  const answer = window.UNApp.answer;
  const reader = window.UNApp.reader;

  // ---------------------------------------------------------------- interface language

  function applyLanguage() {
    const lang = state.lang;
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en"; // first: every t() reads it
    document.title = `${t("doc.title")} · ${lang === "zh" ? "UN Documents Q&A" : "联合国文件问答"}`;
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-attr]")) {
      for (const pair of node.dataset.i18nAttr.split(";")) {
        const [attr, key] = pair.split(":");
        if (attr && key) node.setAttribute(attr.trim(), t(key.trim()));
      }
    }
    for (const button of document.querySelectorAll(".lang-button")) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
    }
    // re-render what is on screen, in the new language
    if (state.result) answer.renderResult();
    if (state.reader) reader.renderReader();
    if (state.documents && !$("view-documents").hidden) reader.renderDocuments();
    if (state.panel) answer.renderPanel();
    answer.renderScope();
  }

  function setLanguage(lang) {
    if (lang !== "zh" && lang !== "en") return;
    storeLanguage(lang);
    applyLanguage();
  }

  // ---------------------------------------------------------------- routing

  function showView(name) {
    for (const view of ["ask", "documents", "doc", "library"]) $(`view-${view}`).hidden = view !== name;
    for (const link of document.querySelectorAll(".nav-link")) {
      const current =
        (link.dataset.nav === "ask" && name === "ask") ||
        (link.dataset.nav === "documents" && (name === "documents" || name === "doc")) ||
        (link.dataset.nav === "library" && name === "library");
      if (current) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  function route() {
    answer.closePanel(false);
    const hash = decodeURIComponentSafe(location.hash.replace(/^#\/?/, ""));
    if (hash === "" || hash === "ask") {
      showView("ask");
      return;
    }
    if (hash === "documents") {
      showView("documents");
      reader.showDocuments();
      return;
    }
    if (hash === "library" && window.UNLibrary) {
      showView("library"); // library.js renders the view
      window.UNLibrary.showLibrary();
      return;
    }
    const match = /^doc\/([^/]+)(?:\/para\/(\d+))?\/?$/.exec(hash);
    if (match) {
      showView("doc");
      reader.showParagraph(match[1], match[2] ? Number(match[2]) : 1);
      return;
    }
    showView("ask");
    showError($("ask-error"), t("error.route", { hash: location.hash }));
  }

  function decodeURIComponentSafe(text) {
    try {
      return decodeURIComponent(text);
    } catch (_) {
      return text;
    }
  }

  // ---------------------------------------------------------------- wiring

  function init() {
    applyLanguage();

    const question = $("question");
    $("ask-form").addEventListener("submit", (event) => {
      event.preventDefault();
      answer.ask(question.value);
    });
    question.addEventListener("keydown", (event) => {
      // Enter asks; Shift+Enter is a new line; Enter that confirms an IME composition does nothing
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        $("ask-form").requestSubmit();
      }
    });
    for (const example of document.querySelectorAll(".example")) {
      example.addEventListener("click", () => {
        question.value = example.textContent;
        answer.ask(question.value);
      });
    }

    $("result").addEventListener("click", answer.onResultClick);
    $("panel-close").addEventListener("click", () => answer.closePanel(true));
    $("panel-copy").addEventListener("click", answer.copyPanel);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !$("panel").hidden) {
        event.preventDefault();
        answer.closePanel(true);
      }
    });

    for (const button of document.querySelectorAll(".lang-button")) {
      button.addEventListener("click", () => setLanguage(button.dataset.lang));
    }

    $("reader-prev").addEventListener("click", (event) => {
      const target = event.currentTarget.dataset.target;
      if (target) reader.goToParagraph(target);
    });
    $("reader-next").addEventListener("click", (event) => {
      const target = event.currentTarget.dataset.target;
      if (target) reader.goToParagraph(target);
    });
    $("reader-goto").addEventListener("submit", (event) => {
      event.preventDefault();
      const n = parseInt($("reader-goto-input").value, 10);
      if (Number.isFinite(n) && n > 0) reader.goToParagraph(n);
    });
    $("reader-paragraph").addEventListener("click", reader.readerCopy);
    $("reader-back").addEventListener("click", (event) => {
      event.preventDefault();
      location.hash = "";
    });
    $("brand-link").addEventListener("click", () => setTimeout(() => question.focus(), 0));

    window.addEventListener("hashchange", route);
    const refreshDocuments = () => {
      state.documents = null;
      loadDocuments()
        .then(() => {
          answer.renderScope();
          if (state.result) answer.renderResult();
          if (state.panel) answer.renderPanel();
          if (!$("view-documents").hidden) reader.renderDocuments();
        })
        .catch(() => {
          /* the catalogue only adds titles; its failure shows where it is needed */
        });
    };
    // library-edit.js changed the library, or auth.js holds a new key: the catalogue again
    document.addEventListener("unrag:library-changed", refreshDocuments);
    document.addEventListener("unrag:key-changed", refreshDocuments);
    refreshDocuments();
    route();
    if ($("view-ask").hidden === false && !location.hash) question.focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
