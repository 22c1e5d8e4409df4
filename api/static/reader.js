/* The documents list (#documents) and the paragraph reader (#doc/<id>/para/<n>) (window.UNApp.reader):
 * one paragraph of one document at a time, its section path, its sub-units (each with a copy
 * button), previous / next / go-to navigation, and its language versions (library.js).
 */
"use strict";

(() => {
  const { el, clear, textLang, request, hideError, setStatus, copyAndReport, formatReference, withReference } = window.UNPage;
  const { state, $, t, ordinal, loadDocuments, documentTitle, renderSection, showError } = window.UNApp;

  // ---------------------------------------------------------------- the documents list

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

  // ---------------------------------------------------------------- the reader

  async function showParagraph(docId, para) {
    const token = ++state.readerToken;
    const status = $("reader-status");
    const box = $("reader-error");
    hideError(box);
    setStatus(status, t("loading.paragraph"), true);
    $("view-doc").setAttribute("aria-busy", "true");
    try {
      const [data] = await Promise.all([
        request(`/documents/${encodeURIComponent(docId)}/paragraphs/${encodeURIComponent(para)}`),
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

  function renderReaderHead(data) {
    const { document: doc, paragraph } = data;
    $("reader-head").hidden = false;
    $("reader-nav").hidden = false;
    const docTitle = documentTitle(doc);
    $("reader-crumb-doc").textContent = docTitle;
    const title = $("reader-doc-title");
    title.textContent = docTitle;
    title.lang = textLang(docTitle);
    const other = state.lang === "en" ? doc.title : doc.title_en;
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
  }

  function renderReader() {
    const data = state.reader;
    if (!data) return;
    const { paragraph, sub_units: subUnits } = data;
    renderReaderHead(data);

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
        if (piece.sub) list.append(subItem(piece.sub));
        else if (!MARKER_ONLY.test(piece.text)) {
          const rest = piece.text.replace(TRAILING_MARKER, "").trim();
          if (rest) list.append(el("li", { className: "sub-gap" }, rest));
        }
      }
      textNode.append(list);
      subsBlock.hidden = true;
    } else {
      textNode.append(el("p", null, paragraph.text));
      for (const sub of subs) subsList.append(subItem(sub));
      subsBlock.hidden = subs.length === 0;
    }
    clear($("reader-copy-status"));
    if (window.UNLibrary) window.UNLibrary.renderVersions($("reader-versions"), data); // library.js: 中文 | English
  }

  function subItem(sub) {
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

  /** The paragraph's copy button, or a sub-unit's: its text with its reference. */
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

  window.UNApp.reader = { showDocuments, renderDocuments, showParagraph, renderReader, readerCopy, goToParagraph };
})();
