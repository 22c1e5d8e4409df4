/* References and quotations of a unit (window.UNPage, next to page-core.js): the reference as the
 * server formats it (rag/citation.py), a quote with its reference for the clipboard, and a text
 * with its evidence spans highlighted. Used by the answer and its panel (answer-view.js), the
 * reader (reader.js) and the language versions side by side (library.js).
 *
 * Character offsets from the API (spans) count Unicode code points (Python str indices), so
 * texts are split with Array.from before slicing: correct even outside the BMP.
 */
"use strict";

(() => {
  const { el, clear } = window.UNPage;

  /** The unit's reference in the given language, as formatted by the server (rag/citation.py). */
  function formatReference(unit, lang) {
    const references = unit.references || {};
    return references[lang] || references.en || unit.id;
  }

  /** “quote” (reference), with the punctuation of the language. */
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

  /** The spans of text joined with an ellipsis; the whole text when there are none. */
  function quotedText(text, spans, lang) {
    const chars = Array.from(text);
    const merged = normaliseSpans(spans, chars.length);
    if (!merged.length) return text.trim();
    return merged.map(([a, b]) => chars.slice(a, b).join("").trim()).join(lang === "zh" ? "……" : " … ");
  }

  /** Fill node with text, the spans wrapped in <mark class="evidence">. */
  function renderHighlighted(node, text, spans) {
    clear(node);
    const chars = Array.from(text || "");
    const merged = normaliseSpans(spans, chars.length);
    let cursor = 0;
    for (const [a, b] of merged) {
      if (a > cursor) node.append(chars.slice(cursor, a).join(""));
      node.append(el("mark", { className: "evidence" }, chars.slice(a, b).join("")));
      cursor = b;
    }
    if (cursor < chars.length) node.append(chars.slice(cursor).join(""));
    return node;
  }

  Object.assign(window.UNPage, { formatReference, withReference, normaliseSpans, quotedText, renderHighlighted });
})();
