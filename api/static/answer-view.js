/* Asking and the answer (window.UNApp.answer): POST /ask, the answer text with a chip after each
 * quoted piece, the sources (or, for a refusal, the closest paragraphs), the scope selector, and
 * the paragraph panel that opens on a chip or a source with its quoted evidence highlighted.
 */
"use strict";

(() => {
  const { el, clear, textLang, textLanguage, request, hideError, setStatus, copyAndReport, quotedText, withReference, renderHighlighted } = window.UNPage;
  const { state, $, t, documentById, documentTitle, renderSection, showError } = window.UNApp;

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
      const data = await request("/ask", {
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
      showError(box, error instanceof window.UNPage.ApiError ? error.message : String(error));
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

  /** The scope selector: all documents, or one (shown once the catalogue holds two or more). */
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

  // ---------------------------------------------------------------- the answer

  function answerLang() {
    return state.result.data.language === "zh" ? "zh-CN" : "en";
  }

  function chip(citation, index, extraClass) {
    return el(
      "button",
      {
        type: "button",
        className: `chip${extraClass ? ` ${extraClass}` : ""}`,
        "data-citation": index,
        title: t("answer.sourcesHint"),
        lang: answerLang(),
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
        el("span", { className: "chip chip-static", lang: answerLang() }, citation.reference),
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
          el("p", { className: "refusal-answer", lang: answerLang() }, data.answer),
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

    const answerText = el("p", { className: "answer-text", lang: answerLang() });
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

  /** A click on a chip or a source opens the panel on that unit. */
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

  /** The panel's copy button: the highlighted evidence (or the whole unit) with its reference. */
  function copyPanel() {
    const p = state.panel;
    if (!p) return;
    const quote = quotedText(p.unit.text, p.spans, textLanguage(p.unit.text));
    copyAndReport(withReference(quote, p.reference, p.lang), $("panel-copy-status"));
  }

  window.UNApp.answer = { ask, renderScope, renderResult, onResultClick, renderPanel, closePanel, copyPanel };
})();
