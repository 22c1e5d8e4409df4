"""A paragraph's list: its lead-in and its lettered items or targets, read together.

UN paragraphs state a context once and list what follows from it: "2013年6月……在首尔举行了一次……
专家协商会议。会议的目标是：(a) …… (c) 说明设立特设工作组的理由……". Item (c) means "the Seoul
consultation was to explain why an ad hoc working group is needed"; read alone it never names Seoul.
A question about an item carries the lead-in's context ("What was the Seoul consultation supposed
to explain about an ad hoc working group?"), so the lead sentence repeats more of the question's
words than the item that answers it, and gets quoted, cited to the paragraph instead of its item.

So an item is scored with its lead-in's words (what the item states in context), and a lead-in is
only context when an item of its list states more of the question than the whole lead-in does: the
question then asks about that item. A question the lead-in answers ("When was the Seoul consultation
held?") finds no item that adds to it, and the lead sentence keeps its score.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.units import Unit

__all__ = ["lead_in"]


def lead_in(paragraph: Unit, items: Sequence[Unit]) -> str:
    """The paragraph's text before its first item ("" when the paragraph has no items, or opens with one)."""
    first = min((item.start for item in items), default=None)
    if first is None:
        return ""
    for span in paragraph.spans:
        if span.end > first:
            return paragraph.text[: span.text_start + max(0, first - span.start)].strip()
    return paragraph.text.strip()
