"""A paragraph's list: its lead-in and its lettered items or targets, read together.

UN paragraphs state a context once and list what follows from it: "2013年6月……在首尔举行了一次……
专家协商会议。会议的目标是：(a) …… (c) 说明设立特设工作组的理由……". Item (c) means "the Seoul
consultation was to explain why an ad hoc working group is needed"; read alone it never names Seoul.
A question about an item carries the lead-in's context ("What was the Seoul consultation supposed
to explain about an ad hoc working group?"), so the lead sentence repeats more of the question's
words than the item that answers it, and gets quoted, cited to the paragraph instead of its item.

So when an item states at least two of the question's words that the whole lead-in does not
(:func:`item_in_context`), the question is about that item: the item is scored with its lead-in's
words, and the lead-in's sentences count as context, with no word bonus of their own
(:func:`rag.answer.focused` applies both). One word in common is chance (a dictionary's 地 for
"Land" in "非洲萨赫勒地区"); two say what the question asks. A question the lead-in answers ("When
was the Seoul consultation held?") finds no item that adds to it, and the lead sentence keeps its score.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.question_terms import Focus
from rag.units import Unit

__all__ = ["ITEM_WORDS_BEYOND_LEAD_IN", "item_in_context", "lead_in_end", "stated_words"]

ITEM_WORDS_BEYOND_LEAD_IN = 2


def lead_in_end(paragraph: Unit, items: Sequence[Unit]) -> int:
    """Offset in ``paragraph.text`` where its first item starts: its lead-in is ``text[:end]`` (0 when the
    paragraph has no items, or opens with one)."""
    first = min((item.start for item in items), default=None)
    if first is None:
        return 0
    for span in paragraph.spans:
        if span.end > first:
            return span.text_start + max(0, first - span.start)
    return 0


def item_in_context(focus: Focus, lead: str, lead_words: float, item: str) -> tuple[float, bool] | None:
    """The item's focus read with its lead-in, when that states at least :data:`ITEM_WORDS_BEYOND_LEAD_IN` more
    of the question's words than the lead-in alone (``lead_words``: :func:`stated_words` of it); else None."""
    together = f"{lead} {item}"
    stated = focus(together)
    if stated[0] * focus.size(together) - lead_words >= ITEM_WORDS_BEYOND_LEAD_IN - 1e-9:
        return stated
    return None


def stated_words(focus: Focus, text: str) -> float:
    """How many of the question's words ``text`` states."""
    return focus(text)[0] * focus.size(text)
