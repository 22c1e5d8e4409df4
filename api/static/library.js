/* The library side of the page: the filter bar, the library view (#library) and language
 * versions side by side (中文 | English) with a language switch on every paragraph.
 *
 * Kept apart from app.js (answers, reader, routing): app.js calls the few hooks exported on
 * window.UNLibrary — filters(), showLibrary(), renderVersions(), renderCitationVersions();
 * library-edit.js (adding and removing documents) uses t(), languageName() and library().
 * Requests go through page-core.js (UNPage.request: the API key, the 401 flow, one-line errors).
 * Strings (library-strings.js) follow the interface language app.js sets on <html lang>.
 */
(() => {
  "use strict";

  const { el, clear, langAttr, textLang, uiLang, request, showError, hideError, setStatus, renderHighlighted, translator } = window.UNPage; // page-core.js, quotes.js
  const STRINGS = window.UNLibraryStrings; // library-strings.js
  const t = translator(STRINGS); // in the interface language app.js sets on <html lang>

  const LANGUAGE_ORDER = ["zh", "en", "fr", "es", "ru", "ar"];

  function languageName(code) {
    return STRINGS.zh[`language.${code}`] ? t(`language.${code}`) : code;
  }

  /** Text with its evidence spans (code-point offsets, as the API gives them) highlighted. */
  function highlighted(text, spans) {
    return renderHighlighted(el("p", { className: "version-text" }), text, spans);
  }

  // ---------------------------------------------------------------- the filter bar

  const FIELDS = ["lang", "symbol", "session", "since", "until", "body"];

  function field(name) {
    return document.getElementById(`filter-${name}`);
  }

  /** The filter fields for POST /ask (and GET /search): only those the user set. */
  function filters() {
    const out = {};
    for (const name of FIELDS) {
      const input = field(name);
      const value = input ? input.value.trim() : "";
      if (!value) continue;
      out[name] = name === "session" ? Number(value) : value;
    }
    return out;
  }

  function renderFilterSummary() {
    const summary = document.getElementById("filter-summary");
    if (!summary) return;
    const n = Object.keys(filters()).length;
    summary.textContent = n ? t("filters.active", { n }) : t("filters.summary");
    document.getElementById("filter-bar").classList.toggle("is-active", n > 0);
  }

  // ---------------------------------------------------------------- the library view

  const state = { library: null, lastVersions: null, lastCitation: null, choice: {} };

  async function loadLibrary() {
    state.library = await request("/library");
    renderLibrary();
    renderFilterChoices();
    return state.library;
  }

  async function showLibrary() {
    const status = document.getElementById("library-status");
    const error = document.getElementById("library-error");
    hideError(error);
    if (!state.library) setStatus(status, t("library.loading"), true);
    try {
      await loadLibrary();
    } catch (problem) {
      showError(error, String(problem.message || problem));
    } finally {
      setStatus(status, "", false);
    }
  }

  /** The filter bar offers what the library holds: its languages, symbols, sessions and bodies. */
  function renderFilterChoices() {
    const docs = state.library || [];
    const fill = (id, values) => {
      const list = document.getElementById(id);
      if (!list) return;
      clear(list);
      for (const value of values) list.append(el("option", { value }));
    };
    const unique = (values) => [...new Set(values.filter((v) => v !== null && v !== undefined && v !== ""))];
    fill("filter-symbols", unique(docs.map((d) => d.symbol)).sort());
    fill("filter-sessions", unique(docs.map((d) => d.session)).sort((a, b) => a - b).map(String));
    fill("filter-bodies", unique(docs.map((d) => d.body)).sort());
    const select = field("lang");
    if (!select || !docs.length) return;
    const current = select.value;
    const languages = unique([...docs.flatMap((d) => d.languages || []), current]).sort((a, b) => byLanguage({ language: a }, { language: b }));
    clear(select);
    select.append(el("option", { value: "", "data-lib-i18n": "filters.anyLang" }, t("filters.anyLang")));
    for (const code of languages) select.append(el("option", { value: code, lang: langAttr(code) }, languageName(code)));
    select.value = current;
  }

  function documentTitle(doc) {
    return uiLang() === "en" ? doc.title_en || doc.title : doc.title || doc.title_en;
  }

  function matchesFind(doc, query) {
    if (!query) return true;
    const haystack = [doc.document, doc.symbol, doc.title, doc.title_en, doc.body, doc.session, doc.date, ...doc.versions.map((v) => v.id)]
      .filter(Boolean)
      .join(" ")
      .toLowerCase();
    return query
      .toLowerCase()
      .split(/\s+/)
      .every((word) => haystack.includes(word));
  }

  function renderLibrary() {
    const table = document.getElementById("library-table");
    if (!table || !state.library) return;
    clear(table);
    const docs = state.library;
    const find = document.getElementById("library-find");
    const query = find ? find.value.trim() : "";
    const shown = docs.filter((d) => matchesFind(d, query));
    const versions = docs.reduce((n, d) => n + d.versions.length, 0);
    const count = docs.length ? t("library.count", { n: docs.length, v: versions }) : t("library.empty");
    document.getElementById("library-count").textContent = query ? `${count} · ${t("library.shown", { shown: shown.length, n: docs.length })}` : count;
    if (!docs.length) return;
    const columns = ["document", "title", "versions", "session", "date", "body", "units", "actions"];
    const head = el("tr", null, ...columns.map((k) => el("th", { scope: "col" }, t(`library.${k}`))));
    const body = el("tbody");
    for (const doc of shown) {
      const links = doc.versions.map((v) =>
        el("a", { className: "version-chip", href: `#doc/${encodeURIComponent(v.id)}/para/1`, lang: langAttr(v.language), "data-version": v.id, title: v.id }, languageName(v.language || "?")),
      );
      const counts = doc.versions.map((v) => `${v.paragraphs} / ${v.units}`).join(" · ");
      const title = documentTitle(doc);
      const name = doc.symbol || doc.document;
      body.append(
        el(
          "tr",
          { "data-document": doc.document },
          el("th", { scope: "row", className: "library-symbol" }, name, doc.symbol ? null : el("span", { className: "library-nosymbol" }, ` ${t("library.noSymbol")}`)),
          el("td", { lang: textLang(title) }, title || ""),
          el("td", { className: "library-versions" }, ...links),
          el("td", null, doc.session || ""),
          el("td", null, doc.date || ""),
          el("td", null, doc.body || ""),
          el("td", { className: "library-units" }, counts),
          // library-edit.js handles the click (event delegation on the table)
          el("td", { className: "library-actions" },
            el("button", { type: "button", className: "button button-small button-quiet library-remove", "data-document": doc.document, "aria-label": t("library.removeLabel", { doc: name }) }, t("library.remove"))),
        ),
      );
    }
    table.append(el("thead", null, head), body);
  }

  // ---------------------------------------------------------------- versions side by side

  /** Columns of one paragraph in each language, with a switch: one language, or side by side. */
  function versionsBlock(key, columns) {
    const block = el("section", { className: "versions", "data-key": key, "aria-label": t("versions.heading") });
    if (columns.length < 2) return null;
    const choice = state.choice[key] || "both";
    const switcher = el("div", { className: "version-switch", role: "group", "aria-label": t("versions.switch") });
    const options = [...columns.map((c) => c.language), "both"];
    for (const option of options) {
      switcher.append(
        el(
          "button",
          {
            type: "button",
            className: "version-button",
            "data-show": option,
            "aria-pressed": String(option === choice),
            onclick: () => {
              state.choice[key] = option;
              applyChoice(block, option);
            },
          },
          option === "both" ? t("versions.both") : languageName(option),
        ),
      );
    }
    const grid = el("div", { className: "version-grid" });
    for (const column of columns) {
      grid.append(
        el(
          "div",
          { className: "version-column", "data-language": column.language, lang: langAttr(column.language) },
          el("h4", { className: "version-label" }, languageName(column.language), column.reference ? el("span", { className: "version-ref" }, ` ${column.reference}`) : null),
          column.text === null ? el("p", { className: "version-missing" }, t("versions.missing")) : highlighted(column.text, column.spans),
        ),
      );
    }
    block.append(el("div", { className: "versions-head" }, el("h3", { className: "versions-heading" }, t("versions.heading")), switcher), grid);
    applyChoice(block, choice);
    return block;
  }

  function applyChoice(block, choice) {
    for (const button of block.querySelectorAll(".version-button")) button.setAttribute("aria-pressed", String(button.dataset.show === choice));
    for (const column of block.querySelectorAll(".version-column")) column.hidden = choice !== "both" && column.dataset.language !== choice;
    block.querySelector(".version-grid").classList.toggle("is-single", choice !== "both");
  }

  function byLanguage(a, b) {
    const rank = (x) => (LANGUAGE_ORDER.includes(x) ? LANGUAGE_ORDER.indexOf(x) : 99);
    return rank(a.language) - rank(b.language);
  }

  /** The reader's paragraph (GET /documents/{doc}/paragraphs/{n}) in every language version. */
  function renderVersions(container, data) {
    if (!container) return;
    state.lastVersions = { container, data };
    clear(container);
    const versions = (data && data.versions) || [];
    const block = versionsBlock(
      `${data && data.document ? data.document.document : ""}/${data && data.paragraph ? data.paragraph.para : ""}`,
      versions.slice().sort(byLanguage).map((v) => ({ language: v.language, text: v.paragraph.text, spans: [], reference: null })),
    );
    container.hidden = !block;
    if (block) container.append(block);
  }

  /** A cited unit in every language version, each with its own highlighted evidence. */
  function renderCitationVersions(container, citation) {
    if (!container) return;
    state.lastCitation = { container, citation };
    clear(container);
    const versions = (citation && citation.versions) || [];
    const block = versionsBlock(
      `cite/${citation ? citation.id : ""}`,
      versions.slice().sort(byLanguage).map((v) => ({ language: v.language, text: v.text, spans: v.spans, reference: v.reference })),
    );
    container.hidden = !block;
    if (block) container.append(block);
  }

  // ---------------------------------------------------------------- wiring

  function translateStatic() {
    for (const node of document.querySelectorAll("[data-lib-i18n]")) node.textContent = t(node.dataset.libI18n);
    for (const node of document.querySelectorAll("[data-lib-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.libI18nLabel));
    renderFilterSummary();
    renderLibrary();
    if (state.lastVersions) renderVersions(state.lastVersions.container, state.lastVersions.data);
    if (state.lastCitation) renderCitationVersions(state.lastCitation.container, state.lastCitation.citation);
  }

  function init() {
    translateStatic();
    new MutationObserver(translateStatic).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
    for (const name of FIELDS) {
      const input = field(name);
      if (input) input.addEventListener("input", renderFilterSummary);
    }
    const clearButton = document.getElementById("filter-clear");
    if (clearButton) {
      clearButton.addEventListener("click", () => {
        for (const name of FIELDS) if (field(name)) field(name).value = "";
        renderFilterSummary();
      });
    }
    const find = document.getElementById("library-find");
    if (find) find.addEventListener("input", renderLibrary);
    // a changed library (library-edit.js) or a new key (auth.js): the list and the filter choices again
    document.addEventListener("unrag:library-changed", showLibrary);
    document.addEventListener("unrag:key-changed", () => loadLibrary().catch(() => {}));
    loadLibrary().catch(() => {
      /* the filter choices are a convenience; the library view shows the error when opened */
    });
  }

  window.UNLibrary = { filters, showLibrary, renderVersions, renderCitationVersions, t, languageName, library: () => state.library };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
