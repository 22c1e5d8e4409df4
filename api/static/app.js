/* The web page of the UN documents question answerer.
 *
 * Plain JavaScript, no build step, no network calls other than to this service's own API
 * (POST /ask, GET /documents, GET /documents/{doc}/paragraphs/{n}).
 *
 * Views are chosen by the URL hash:  ""            the question and its answer
 *                                    "#documents"  the catalogue
 *                                    "#doc/<id>/para/<n>"  one paragraph of one document
 * Character offsets from the API (spans) count Unicode code points (Python str indices), so
 * texts are split with Array.from before slicing: correct even outside the BMP.
 */
"use strict";

(() => {
  const STORAGE_KEY = "un-rag.ui-language";

  const STRINGS = window.UNPageStrings;

  // ---------------------------------------------------------------- state

  const state = {
    lang: initialLanguage(),
    documents: null, // [{id, symbol, title, title_en, language, ...}] once loaded
    result: null, // {question, data} of the last answer
    askToken: 0,
    reader: null, // last /documents/{doc}/paragraphs/{n} response
    readerToken: 0,
    panel: null, // {unit, reference, spans, lang, opener, cited}
  };

  const $ = (id) => document.getElementById(id);

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

  function ordinal(n) {
    const tens = n % 100;
    if (tens >= 11 && tens <= 13) return "th";
    return { 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th";
  }

  function t(key, vars) {
    const table = STRINGS[state.lang] || STRINGS.zh;
    let text = key in table ? table[key] : STRINGS.en[key] || key;
    if (vars) {
      for (const [name, value] of Object.entries(vars)) text = text.split(`{${name}}`).join(String(value));
    }
    return text;
  }

  // ---------------------------------------------------------------- small DOM helpers

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [name, value] of Object.entries(attrs)) {
        if (value === null || value === undefined || value === false) continue;
        if (name === "className") node.className = value;
        else if (name === "text") node.textContent = value;
        else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
        else node.setAttribute(name, value === true ? "" : String(value));
      }
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

  /** "zh" for text that contains Han characters, "en" otherwise. */
  function textLanguage(text) {
    return /[\u3400-\u9fff\uf900-\ufaff]/.test(text || "") ? "zh" : "en";
  }

  /** The lang attribute for a text: picks the right font and punctuation glyphs. */
  function textLang(text) {
    return textLanguage(text) === "zh" ? "zh-CN" : "en";
  }

  function showError(box, message) {
    clear(box);
    box.append(el("strong", { className: "error-heading" }, t("error.heading")), el("span", { className: "error-detail" }, message));
    box.hidden = false;
  }

  function hideError(box) {
    clear(box);
    box.hidden = true;
  }

  function setStatus(box, message, busy) {
    clear(box);
    if (message) {
      box.append(el("span", { className: "spinner", "aria-hidden": "true" }), el("span", null, message));
    }
    box.classList.toggle("is-busy", Boolean(busy));
  }

  // ---------------------------------------------------------------- API

  class ApiError extends Error {}

  /** Fetch JSON from the API; failures become an ApiError whose message is a readable sentence. */
  async function api(path, options) {
    let response;
    const init = { ...(options || {}) };
    const headers = { Accept: "application/json", ...(init.headers || {}) };
    init.headers = window.UNAuth ? window.UNAuth.headers(headers) : headers; // auth.js: the API key, when one is set
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
      if (response.status === 401 && window.UNAuth && window.UNLibrary) {
        window.UNAuth.needed(); // open the key box
        throw new ApiError(`${window.UNLibrary.t("key.needed")} (${describeError(body, response.status)})`);
      }
      throw new ApiError(describeError(body, response.status));
    }
    if (body === null) throw new ApiError(t("error.http", { status: response.status }));
    return body;
  }

  function describeError(body, status) {
    const detail = body && body.detail;
    if (typeof detail === "string" && detail.trim()) return detail;
    if (Array.isArray(detail)) {
      const messages = detail.map((d) => (d && typeof d.msg === "string" ? d.msg : "")).filter(Boolean);
      if (messages.length) return messages.join("; ");
    }
    return t("error.http", { status });
  }

  async function loadDocuments() {
    if (state.documents) return state.documents;
    state.documents = await api("/documents");
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

  // ---------------------------------------------------------------- references and quotations

  /** The unit's reference in the page language, as formatted by the server (rag/citation.py). */
  function formatReference(unit, lang) {
    const references = unit.references || {};
    return references[lang] || references.en || unit.id;
  }

  function withReference(quote, reference, lang) {
    return lang === "zh" ? `“${quote}”（${reference}）` : `“${quote}” (${reference})`;
  }

  /** Merged, sorted, clamped [start, end) spans in code points. */
  function normaliseSpans(spans, length) {
    const clean = (spans || [])
      .map(([a, b]) => [Math.max(0, Math.min(length, a | 0)), Math.max(0, Math.min(length, b | 0))])
      .filter(([a, b]) => b > a)
      .sort((x, y) => x[0] - y[0]);
    const merged = [];
    for (const span of clean) {
      const last = merged[merged.length - 1];
      if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
      else merged.push(span.slice());
    }
    return merged;
  }

  function quotedText(text, spans, lang) {
    const chars = Array.from(text);
    const merged = normaliseSpans(spans, chars.length);
    if (!merged.length) return text.trim();
    return merged.map(([a, b]) => chars.slice(a, b).join("").trim()).join(lang === "zh" ? "……" : " … ");
  }

  /** Fill node with text, the spans wrapped in <mark>. */
  function renderHighlighted(node, text, spans) {
    clear(node);
    const chars = Array.from(text);
    const merged = normaliseSpans(spans, chars.length);
    let cursor = 0;
    for (const [a, b] of merged) {
      if (a > cursor) node.append(chars.slice(cursor, a).join(""));
      node.append(el("mark", { className: "evidence" }, chars.slice(a, b).join("")));
      cursor = b;
    }
    if (cursor < chars.length) node.append(chars.slice(cursor).join(""));
  }

  // ---------------------------------------------------------------- clipboard

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

  async function copyAndReport(text, statusNode) {
    const ok = await copyText(text);
    clear(statusNode);
    if (ok) {
      statusNode.append(el("span", { className: "copy-ok" }, t("copy.done")), el("q", { className: "copied-text" }, text));
    } else {
      statusNode.append(el("span", { className: "copy-failed" }, t("copy.failed")));
    }
    statusNode.dataset.copied = ok ? text : "";
  }

  // ---------------------------------------------------------------- interface language

  function applyLanguage() {
    const lang = state.lang;
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
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
    if (state.result) renderResult();
    if (state.reader) renderReader();
    if (state.documents && !$("view-documents").hidden) renderDocuments();
    if (state.panel) renderPanel();
    renderScope();
  }

  function setLanguage(lang) {
    if (lang !== "zh" && lang !== "en") return;
    state.lang = lang;
    try {
      window.localStorage.setItem(STORAGE_KEY, lang);
    } catch (_) {
      /* private mode: the choice lasts for this page only */
    }
    applyLanguage();
  }

  // ---------------------------------------------------------------- asking

  async function ask(question) {
    const box = $("ask-error");
    hideError(box);
    if (!question.trim()) {
      showError(box, t("ask.empty"));
      $("question").focus();
      return;
    }
    const token = ++state.askToken;
    $("ask-announce").textContent = "";
    const form = $("ask-form");
    const result = $("result");
    form.classList.add("is-busy");
    form.setAttribute("aria-busy", "true");
    $("ask-button").disabled = true;
    result.setAttribute("aria-busy", "true");
    result.classList.add("is-stale");
    setStatus($("ask-status"), t("loading.answer"), true);
    closePanel(false);
    const body = { question, k: 5 };
    const scope = $("scope-select").value;
    if (scope) body.doc = scope;
    if (window.UNLibrary) Object.assign(body, window.UNLibrary.filters()); // library.js: the filter bar
    try {
      const data = await api("/ask", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
      if (token !== state.askToken) return;
      state.result = { question, data };
      renderResult();
      $("ask-announce").textContent = data.refused
        ? t("announce.refused", { n: data.see_also.length })
        : t("announce.answered", { n: data.citations.length });
    } catch (error) {
      if (token !== state.askToken) return;
      showError(box, error instanceof ApiError ? error.message : String(error));
    } finally {
      if (token === state.askToken) {
        form.classList.remove("is-busy");
        form.removeAttribute("aria-busy");
        $("ask-button").disabled = false;
        result.removeAttribute("aria-busy");
        result.classList.remove("is-stale");
        setStatus($("ask-status"), "", false);
      }
    }
  }

  function chip(citation, index, extraClass) {
    return el(
      "button",
      {
        type: "button",
        className: `chip${extraClass ? ` ${extraClass}` : ""}`,
        "data-citation": index,
        title: t("answer.sourcesHint"),
        lang: state.result.data.language === "zh" ? "zh-CN" : "en",
      },
      citation.reference,
    );
  }

  /** The answer from its segments: each quoted piece followed by the chip of the unit it quotes.
   *  References come formatted from the server (rag/citation.py); a run of segments quoting one
   *  unit gets one chip, after its last piece, as in the flat answer text. */
  function renderAnswerText(node, data) {
    const segments = data.segments && data.segments.length ? data.segments : [{ text: data.answer, citation: null }];
    const placed = new Set();
    segments.forEach((segment, i) => {
      if (i > 0 && data.language !== "zh") node.append(" ");
      node.append(segment.text);
      const next = segments[i + 1];
      const index = segment.citation;
      if (index !== null && index !== undefined && data.citations[index] && (!next || next.citation !== index)) {
        node.append(" ", chip(data.citations[index], index, "chip-inline"));
        placed.add(index);
      }
    });
    // a citation no segment points to still gets its chip
    data.citations.forEach((c, i) => {
      if (!placed.has(i)) node.append(" ", chip(c, i, "chip-inline"));
    });
  }

  function sourceItem(citation, index, kind) {
    const lastHeading = citation.section.length ? citation.section[citation.section.length - 1] : "";
    const doc = documentById(citation.doc);
    const excerpt = citation.spans.length ? quotedText(citation.text, citation.spans, textLanguage(citation.text)) : citation.text;
    return el(
      "li",
      null,
      el(
        "button",
        { type: "button", className: `source source-${kind}`, "data-citation": index, "data-kind": kind },
        el("span", { className: "chip chip-static", lang: state.result.data.language === "zh" ? "zh-CN" : "en" }, citation.reference),
        el(
          "span",
          { className: "source-body" },
          lastHeading ? el("span", { className: "source-section", lang: textLang(lastHeading) }, lastHeading) : null,
          el("span", { className: "source-excerpt", lang: textLang(excerpt) }, excerpt),
          doc && (state.documents || []).length > 1 ? el("span", { className: "source-doc" }, documentTitle(doc)) : null,
        ),
      ),
    );
  }

  function renderResult() {
    const node = $("result");
    clear(node);
    if (!state.result) {
      node.hidden = true;
      return;
    }
    const { question, data } = state.result;
    node.hidden = false;
    node.classList.toggle("is-refused", data.refused);
    node.dataset.state = data.refused ? "refused" : "answered";
    node.dataset.kind = data.kind || (data.refused ? "refusal" : "answer");
    const asked = el("p", { className: "result-question" }, el("span", { className: "result-question-label" }, t("answer.question")), el("span", { lang: textLang(question) }, question));
    const timing = data.timings_ms && typeof data.timings_ms.total === "number" ? el("span", { className: "timing" }, t("answer.timing", { ms: Math.round(data.timings_ms.total) })) : null;

    if (data.refused) {
      node.append(
        el(
          "div",
          { className: "refusal" },
          el("h2", { className: "result-heading refusal-heading", tabindex: "-1" }, el("span", { className: "refusal-icon", "aria-hidden": "true" }, "∅"), t("refusal.heading")),
          asked,
          el("p", { className: "refusal-answer", lang: data.language === "zh" ? "zh-CN" : "en" }, data.answer),
          el("p", { className: "refusal-body" }, t("refusal.body")),
        ),
      );
      if (data.see_also.length) {
        node.append(
          el("h3", { className: "sources-heading" }, t("refusal.closest")),
          el("ol", { className: "sources closest" }, ...data.see_also.map((c, i) => sourceItem(c, i, "see_also"))),
        );
      }
      if (timing) node.append(el("p", { className: "result-meta" }, timing));
      return;
    }

    const answerText = el("p", { className: "answer-text", lang: data.language === "zh" ? "zh-CN" : "en" });
    renderAnswerText(answerText, data);
    const header = el("div", { className: "result-head" }, el("h2", { className: "result-heading", tabindex: "-1" }, t("answer.heading")), timing);
    node.append(header, asked, answerText);
    // The API flags untranslated evidence (cross_lingual); its own English note for it is replaced by ours.
    const notes = data.notes.filter((n) => !/not translated/i.test(n));
    if (data.cross_lingual) notes.unshift(t("note.crossLingual"));
    if (notes.length) node.append(el("ul", { className: "notes" }, ...notes.map((n) => el("li", null, n))));
    if (!data.citations.length) return; // "本文件只有第1至90段。": a statement about the document, nothing quoted
    node.append(
      el("h3", { className: "sources-heading" }, t("answer.sources")),
      el("p", { className: "sources-hint" }, t("answer.sourcesHint")),
      el("ol", { className: "sources" }, ...data.citations.map((c, i) => sourceItem(c, i, "citation"))),
    );
  }

  function onResultClick(event) {
    const target = event.target.closest("button[data-citation]");
    if (!target || !state.result) return;
    const { data } = state.result;
    const index = Number(target.dataset.citation);
    const list = target.dataset.kind === "see_also" ? data.see_also : data.citations;
    const citation = list[index];
    if (!citation) return;
    openPanel({
      unit: citation,
      reference: citation.reference,
      spans: citation.spans,
      lang: data.language,
      cited: target.dataset.kind !== "see_also",
      opener: target,
    });
  }

  // ---------------------------------------------------------------- the paragraph panel

  function openPanel(panelState) {
    state.panel = panelState;
    renderPanel();
    const panel = $("panel");
    panel.hidden = false;
    document.body.classList.add("panel-open");
    for (const node of document.querySelectorAll(".chip.is-active, .source.is-active")) node.classList.remove("is-active");
    if (panelState.opener) panelState.opener.classList.add("is-active");
    $("panel-title").focus({ preventScroll: true });
    const mark = $("panel-text").querySelector("mark");
    if (mark) mark.scrollIntoView({ block: "nearest" });
  }

  function renderPanel() {
    const p = state.panel;
    if (!p) return;
    const unit = p.unit;
    const doc = documentById(unit.doc);
    $("panel-doc").textContent = doc ? documentTitle(doc) : unit.doc;
    const title = $("panel-title");
    title.textContent = p.reference;
    title.lang = p.lang === "zh" ? "zh-CN" : "en";
    renderSection($("panel-section"), unit.section);
    const text = $("panel-text");
    text.lang = textLang(unit.text);
    renderHighlighted(text, unit.text, p.spans);
    $("panel-note").textContent = p.spans && p.spans.length ? t("panel.evidence") : p.cited ? "" : t("panel.noEvidence");
    const open = $("panel-open");
    if (unit.para !== null && unit.para !== undefined) {
      open.hidden = false;
      open.href = `#doc/${encodeURIComponent(unit.doc)}/para/${unit.para}`;
    } else {
      open.hidden = true;
    }
    clear($("panel-copy-status"));
    if (window.UNLibrary) window.UNLibrary.renderCitationVersions($("panel-versions"), unit); // library.js: 中文 | English
  }

  function closePanel(restoreFocus = true) {
    const panel = $("panel");
    if (panel.hidden) return;
    const opener = state.panel && state.panel.opener;
    panel.hidden = true;
    document.body.classList.remove("panel-open");
    state.panel = null;
    if (opener) opener.classList.remove("is-active");
    if (restoreFocus && opener && document.body.contains(opener)) opener.focus();
  }

  function renderSection(list, section) {
    clear(list);
    if (!section || !section.length) {
      list.append(el("li", { className: "section-none" }, t("panel.noSection")));
      return;
    }
    section.forEach((heading, depth) => list.append(el("li", { lang: textLang(heading), "data-depth": depth }, heading)));
  }

  // ---------------------------------------------------------------- documents and the reader

  function renderScope() {
    const select = $("scope-select");
    const docs = state.documents || [];
    const current = select.value;
    clear(select);
    select.append(el("option", { value: "" }, t("ask.allDocs")));
    for (const doc of docs) select.append(el("option", { value: doc.id }, documentTitle(doc)));
    select.value = docs.some((d) => d.id === current) ? current : "";
    $("scope").hidden = docs.length < 2;
  }

  async function showDocuments() {
    const status = $("documents-status");
    hideError($("documents-error"));
    if (!state.documents) setStatus(status, t("loading.documents"), true);
    try {
      await loadDocuments();
      renderDocuments();
    } catch (error) {
      showError($("documents-error"), error.message);
    } finally {
      setStatus(status, "", false);
    }
  }

  function renderDocuments() {
    const list = $("documents-list");
    clear(list);
    const docs = state.documents || [];
    if (!docs.length) {
      list.append(el("li", { className: "documents-empty" }, t("documents.empty")));
      return;
    }
    for (const doc of docs) {
      const other = state.lang === "en" ? doc.title : doc.title_en;
      list.append(
        el(
          "li",
          { className: "document-card" },
          el("h2", { className: "document-title" }, el("a", { href: `#doc/${encodeURIComponent(doc.id)}/para/1`, lang: textLang(documentTitle(doc)) }, documentTitle(doc))),
          other ? el("p", { className: "document-subtitle", lang: textLang(other) }, other) : null,
          el("p", { className: "document-meta" }, metaLine(doc)),
        ),
      );
    }
  }

  function metaLine(doc) {
    const parts = [];
    parts.push(doc.symbol || `${t("reader.symbol")}: ${t("reader.symbolUnknown")}`);
    if (doc.session) parts.push(t("documents.session", { n: doc.session, ordinal: ordinal(doc.session) }));
    if (doc.agenda_items && doc.agenda_items.length) parts.push(`${t("reader.agenda")} ${doc.agenda_items.join(", ")}`);
    parts.push(t("documents.paragraphs", { n: doc.paragraphs }));
    return parts.join(" · ");
  }

  async function showParagraph(docId, para) {
    const token = ++state.readerToken;
    const status = $("reader-status");
    const box = $("reader-error");
    hideError(box);
    setStatus(status, t("loading.paragraph"), true);
    $("view-doc").setAttribute("aria-busy", "true");
    try {
      const [data] = await Promise.all([
        api(`/documents/${encodeURIComponent(docId)}/paragraphs/${encodeURIComponent(para)}`),
        loadDocuments().catch(() => null),
      ]);
      if (token !== state.readerToken) return;
      state.reader = data;
      renderReader();
      const active = document.activeElement;
      const keepFocus = active && ($("reader-nav").contains(active) || active === $("reader-goto-input"));
      if (keepFocus && !active.disabled) active.focus();
      else $("reader-para-heading").focus({ preventScroll: false });
    } catch (error) {
      if (token !== state.readerToken) return;
      state.reader = null;
      $("reader-paragraph").hidden = true;
      $("reader-head").hidden = true;
      $("reader-nav").hidden = true;
      $("reader-crumb-doc").textContent = "";
      showError(box, error.message);
    } finally {
      if (token === state.readerToken) {
        setStatus(status, "", false);
        $("view-doc").removeAttribute("aria-busy");
      }
    }
  }

  function subLabel(unit) {
    if (unit.label) return unit.label;
    const sub = unit.sub || "";
    if (sub.startsWith("target ")) {
      const n = sub.split(" ").slice(1).join(" ");
      return state.lang === "zh" ? `目标 ${n}` : `Target ${n}`;
    }
    return `(${sub})`;
  }

  const MARKER_ONLY = /^[\s\u3000]*(?:\([a-z]{1,5}\)|\(?[ivxlc]{1,6}\)|目标\s*\d+\s*[.．、]?|target\s*\d+\s*[.:]?|\d+\s*[.．])?[\s\u3000]*$/i;
  const TRAILING_MARKER = /[\s\u3000]*(?:\([a-z]{1,5}\)|\(?[ivxlc]{1,6}\)|目标\s*\d+\s*[.．、]?|target\s*\d+\s*[.:]?)[\s\u3000]*$/i;

  /** Split a paragraph's text around its sub-units (located by their text), or null if they cannot be found. */
  function splitParagraph(text, subs) {
    const pieces = [];
    let cursor = 0;
    for (const sub of subs) {
      const at = sub.text ? text.indexOf(sub.text, cursor) : -1;
      if (at < 0) return null;
      pieces.push({ text: text.slice(cursor, at) }, { sub });
      cursor = at + sub.text.length;
    }
    pieces.push({ text: text.slice(cursor) });
    return pieces;
  }

  function renderReader() {
    const data = state.reader;
    if (!data) return;
    const { document: doc, paragraph, sub_units: subUnits } = data;
    const lang = state.lang;
    $("reader-head").hidden = false;
    $("reader-nav").hidden = false;
    const docTitle = documentTitle(doc);
    $("reader-crumb-doc").textContent = docTitle;
    const title = $("reader-doc-title");
    title.textContent = docTitle;
    title.lang = textLang(docTitle);
    const other = lang === "en" ? doc.title : doc.title_en;
    const subtitle = $("reader-doc-subtitle");
    subtitle.textContent = other && other !== docTitle ? other : "";
    subtitle.lang = textLang(other || "");
    const meta = $("reader-meta");
    clear(meta);
    const rows = [
      [t("reader.symbol"), doc.symbol || t("reader.symbolUnknown")],
      doc.session ? [t("reader.session"), t("reader.sessionValue", { n: doc.session, ordinal: ordinal(doc.session) })] : null,
      doc.agenda_items && doc.agenda_items.length ? [t("reader.agenda"), doc.agenda_items.join(", ")] : null,
      doc.language ? [t("reader.language"), t(`language.${doc.language}`)] : null,
    ];
    for (const row of rows) if (row) meta.append(el("div", null, el("dt", null, row[0]), el("dd", null, row[1])));

    $("reader-back").hidden = !state.result;
    const prev = $("reader-prev");
    const next = $("reader-next");
    prev.disabled = data.previous === null || data.previous === undefined;
    next.disabled = data.next === null || data.next === undefined;
    prev.dataset.target = prev.disabled ? "" : String(data.previous);
    next.dataset.target = next.disabled ? "" : String(data.next);
    const input = $("reader-goto-input");
    input.value = String(paragraph.para);
    input.max = String(doc.paragraphs || "");
    $("reader-count").textContent = doc.paragraphs ? t("reader.count", { n: doc.paragraphs }) : "";

    const card = $("reader-paragraph");
    card.hidden = false;
    card.dataset.para = String(paragraph.para);
    renderSection($("reader-section"), paragraph.section);
    $("reader-para-heading").textContent = t("reader.paragraph", { n: paragraph.para });
    $("reader-para-heading").setAttribute("tabindex", "-1");

    const textNode = $("reader-text");
    clear(textNode);
    textNode.lang = textLang(paragraph.text);
    const subs = subUnits.slice().sort((a, b) => a.start - b.start);
    const pieces = subs.length ? splitParagraph(paragraph.text, subs) : null;
    const subsBlock = $("reader-subs-block");
    const subsList = $("reader-subs");
    clear(subsList);
    if (pieces) {
      // lead text, then the sub-units as a list with their labels, then any closing text
      const lead = pieces[0].text.replace(TRAILING_MARKER, "").trim();
      if (lead) textNode.append(el("p", null, lead));
      const list = el("ol", { className: "subs subs-inline" });
      for (const piece of pieces.slice(1)) {
        if (piece.sub) list.append(subItem(piece.sub, doc));
        else if (!MARKER_ONLY.test(piece.text)) {
          const rest = piece.text.replace(TRAILING_MARKER, "").trim();
          if (rest) list.append(el("li", { className: "sub-gap" }, rest));
        }
      }
      textNode.append(list);
      subsBlock.hidden = true;
    } else {
      textNode.append(el("p", null, paragraph.text));
      for (const sub of subs) subsList.append(subItem(sub, doc));
      subsBlock.hidden = subs.length === 0;
    }
    clear($("reader-copy-status"));
    if (window.UNLibrary) window.UNLibrary.renderVersions($("reader-versions"), data); // library.js: 中文 | English
  }

  function subItem(sub, doc) {
    const reference = formatReference(sub, state.lang);
    return el(
      "li",
      { className: "sub-unit", "data-sub": sub.sub || "" },
      el("span", { className: "sub-label" }, subLabel(sub)),
      el("span", { className: "sub-text", lang: textLang(sub.text) }, sub.text),
      el(
        "button",
        {
          type: "button",
          className: "button button-quiet button-small sub-copy",
          "data-copy-sub": sub.id,
          "aria-label": t("copy.subLabel", { ref: reference }),
        },
        t("copy.sub"),
      ),
    );
  }

  function readerCopy(event) {
    const data = state.reader;
    if (!data) return;
    const button = event.target.closest("button");
    if (!button) return;
    let unit = null;
    if (button.id === "reader-copy") unit = data.paragraph;
    else if (button.dataset.copySub) unit = data.sub_units.find((u) => u.id === button.dataset.copySub) || null;
    if (!unit) return;
    const reference = formatReference(unit, state.lang);
    copyAndReport(withReference(unit.text.trim(), reference, state.lang), $("reader-copy-status"));
  }

  function goToParagraph(n) {
    if (!state.reader) return;
    const doc = state.reader.document.id;
    location.hash = `#doc/${encodeURIComponent(doc)}/para/${n}`;
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
    closePanel(false);
    const hash = decodeURIComponentSafe(location.hash.replace(/^#\/?/, ""));
    if (hash === "" || hash === "ask") {
      showView("ask");
      return;
    }
    if (hash === "documents") {
      showView("documents");
      showDocuments();
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
      showParagraph(match[1], match[2] ? Number(match[2]) : 1);
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
      ask(question.value);
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
        ask(question.value);
      });
    }

    $("result").addEventListener("click", onResultClick);
    $("panel-close").addEventListener("click", () => closePanel(true));
    $("panel-copy").addEventListener("click", () => {
      const p = state.panel;
      if (!p) return;
      const quote = quotedText(p.unit.text, p.spans, textLanguage(p.unit.text));
      copyAndReport(withReference(quote, p.reference, p.lang), $("panel-copy-status"));
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !$("panel").hidden) {
        event.preventDefault();
        closePanel(true);
      }
    });

    for (const button of document.querySelectorAll(".lang-button")) {
      button.addEventListener("click", () => setLanguage(button.dataset.lang));
    }

    $("reader-prev").addEventListener("click", (event) => {
      const target = event.currentTarget.dataset.target;
      if (target) goToParagraph(target);
    });
    $("reader-next").addEventListener("click", (event) => {
      const target = event.currentTarget.dataset.target;
      if (target) goToParagraph(target);
    });
    $("reader-goto").addEventListener("submit", (event) => {
      event.preventDefault();
      const n = parseInt($("reader-goto-input").value, 10);
      if (Number.isFinite(n) && n > 0) goToParagraph(n);
    });
    $("reader-paragraph").addEventListener("click", readerCopy);
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
          renderScope();
          if (state.result) renderResult();
          if (state.panel) renderPanel();
          if (!$("view-documents").hidden) renderDocuments();
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
