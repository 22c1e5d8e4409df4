"""Optional generated answers through an OpenAI-compatible chat-completions endpoint.

Why: the extractive composer (:mod:`rag.answer`) can only quote sentences; a language model can
answer in one fluent sentence, and in the question's language when the evidence is in the
other one. It is off by default (``RAG_GENERATION_ENABLED``) and never replaces retrieval: the
model sees only the question and the numbered texts of the units the extractive answer would
draw on ([1] … [n], the top hits, each with its formatted reference), and must cite them as
[n] after every sentence.

The product's promise holds either way: the cited ids of a generated answer are always a
subset of that evidence. Every [n] of the reply is mapped back to its evidence unit and
rewritten into the product's citation style ("（第26段）", "(para. 85, target 11)"); a number
outside the evidence is removed from the text and flagged in the notes, and so is every
sentence left without a valid citation. A reply that cites nothing valid, and any endpoint
failure (connection refused, timeout, non-200, malformed JSON, missing fields, empty content),
gives no generated answer but a warning, and the caller keeps the extractive answer with the
warning in its notes.

The API key is sent as a Bearer token and never logged, printed or put in a warning.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from rag.answer import Answer
from rag.citation import Citation, format_reference, make_citation, segments_from_text
from rag.language import Language, detect_language
from rag.units import Unit

if TYPE_CHECKING:
    import httpx

    from index.store import LoadedIndex
    from rag.retriever import Hit

__all__ = [
    "ChatGenerator",
    "Evidence",
    "Generated",
    "GenerationError",
    "Generator",
    "GeneratorConfig",
    "build_messages",
    "collect_evidence",
    "generated_answer",
    "make_generator",
    "parse_reply",
]

log = logging.getLogger("rag.generation")

_LANGUAGE_NAMES: dict[str, str] = {"zh": "Chinese (简体中文)", "en": "English"}


@dataclass(frozen=True, slots=True)
class GeneratorConfig:
    """Where and how to call the endpoint; ``base_url`` is the part before ``/chat/completions``."""

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = 20.0

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One numbered evidence unit shown to the model."""

    number: int
    unit: Unit
    symbol: str | None
    language: Language  # the question's: references are formatted for it

    @property
    def reference(self) -> str:
        return format_reference(self.unit, self.symbol, self.language)

    def citation(self, spans: tuple[tuple[int, int], ...] = ()) -> Citation:
        return make_citation(self.unit, self.symbol, self.language, spans)


@dataclass(frozen=True, slots=True)
class Generated:
    """A parsed reply: text in the product's citation style and the evidence it cites."""

    text: str
    cited: tuple[Evidence, ...]  # in order of first citation, no repeats
    notes: tuple[str, ...]
    model: str = ""


class GenerationError(RuntimeError):
    """The endpoint gave no usable reply; the message says why (never contains the API key)."""


class Generator(Protocol):
    """What :class:`rag.qa.QuestionAnswerer` needs; :class:`ChatGenerator` is the real one."""

    @property
    def model(self) -> str: ...

    def generate(self, question: str, evidence: Sequence[Evidence], language: Language) -> tuple[Generated | None, str | None]: ...


# --------------------------------------------------------------------------- evidence and prompt


def collect_evidence(hits: Sequence[Hit], index: LoadedIndex, language: Language, limit: int) -> list[Evidence]:
    """Number the units of the first ``limit`` hits (paragraphs or sub-units) from 1."""
    evidence = []
    for number, hit in enumerate(hits[:limit], start=1):
        meta = index.documents.get(hit.unit.doc)
        symbol = meta.symbol if meta else None
        evidence.append(Evidence(number, hit.unit, symbol, language))
    return evidence


def build_messages(question: str, evidence: Sequence[Evidence], language: Language) -> list[dict[str, str]]:
    """The system instructions and the user message (numbered evidence, then the question)."""
    name = _LANGUAGE_NAMES[language]
    system = (
        "You answer questions about United Nations documents using only the numbered evidence passages provided.\n"
        f"- Answer briefly (one to three sentences) in {name}, the language of the question, even when the evidence is in another language.\n"
        "- After every sentence, cite the passage or passages it is based on as [n], e.g. [1] or [1][2], "
        "using only the numbers of the evidence shown.\n"
        "- Use only facts stated in the evidence. Never invent, round or change numbers, dates, names or targets; copy them exactly.\n"
        "- If the evidence does not answer the question, say so in one sentence."
    )
    passages = "\n\n".join(f"[{item.number}] {item.reference}: {item.unit.text}" for item in evidence)
    user = f"Evidence:\n\n{passages}\n\nQuestion: {question}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


# --------------------------------------------------------------------------- parsing the reply

_OPEN, _CLOSE = r"\[［【", r"\]］】"  # escaped for character classes
_MARKER = re.compile(rf"\s*[{_OPEN}]\s*(\d+(?:\s*[,，、;；]\s*\d+)*)\s*[{_CLOSE}]")
_MARKER_AFTER = re.compile(rf"[ \t]*[{_OPEN}]\s*\d+(?:\s*[,，、;；]\s*\d+)*\s*[{_CLOSE}]")
_TERMINATOR = re.compile(rf"[。！？]|[.!?](?=[\s\"'”’)）{_OPEN}]|$)|\n+")
_CLOSERS = "\"'”’)）」』"
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_ABBREVIATIONS = frozenset({"para", "paras", "e.g", "i.e", "no", "nos", "mr", "mrs", "ms", "dr", "art", "vol", "cf", "vs", "approx", "st"})
_SNIPPET = 60


def _is_abbreviation(text: str, dot: int) -> bool:
    word = re.search(r"([A-Za-z][A-Za-z.]*)$", text[:dot])
    if not word:
        return False
    token = word.group(1)
    return token.lower() in _ABBREVIATIONS or (len(token) == 1 and token.isupper())


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans; citations right after a sentence's end belong to that sentence."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _TERMINATOR.finditer(text):
        if match.start() < start:
            continue
        if match.group() == "." and _is_abbreviation(text, match.start()):
            continue
        end = match.end()
        while end < len(text) and text[end] in _CLOSERS:
            end += 1
        while marker := _MARKER_AFTER.match(text, end):
            end = marker.end()
        spans.append((start, end))
        start = end
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _bracket(reference: str, language: Language) -> str:
    return f"（{reference}）" if language == "zh" else f" ({reference})"


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 1] + "…"


def parse_reply(reply: str, evidence: Sequence[Evidence], language: Language) -> Generated:
    """Map every [n] to its evidence unit and rewrite it in the product's citation style.

    Citations are gathered per sentence and placed after it, as the extractive answer does
    ("…。（第26段）", "…. (para. 85, target 11)"). Numbers outside the evidence are dropped and
    flagged; sentences without any valid citation are kept and flagged.
    """
    by_number = {item.number: item for item in evidence}
    text = _THINK.sub("", reply).strip()
    cited: dict[int, Evidence] = {}
    dropped: list[int] = []
    uncited: list[str] = []
    pieces: list[str] = []
    for start, end in _sentence_spans(text):
        chunk = text[start:end]
        core = chunk.strip()
        if not core:
            pieces.append(chunk)
            continue
        lead = chunk[: len(chunk) - len(chunk.lstrip())]
        trail = chunk[len(chunk.rstrip()) :]
        numbers: list[int] = []
        for match in _MARKER.finditer(core):
            for raw in re.split(r"\s*[,，、;；]\s*", match.group(1)):
                number = int(raw)
                if number in by_number:
                    if number not in numbers:
                        numbers.append(number)
                elif number not in dropped:
                    dropped.append(number)
        body = _MARKER.sub("", core).strip()
        references = "".join(_bracket(by_number[n].reference, language) for n in numbers)
        for number in numbers:
            cited.setdefault(number, by_number[number])
        if not any(ch.isalnum() for ch in body):
            # citations alone on a line, or bare punctuation: the citations go to the sentence before
            if references and pieces:
                previous = pieces[-1].rstrip()
                pieces[-1] = previous + references + pieces[-1][len(previous) :]
                references = ""
        elif not numbers:
            uncited.append(body)
        pieces.append(lead + body + references + trail)
    notes = [f"dropped citation [{n}]: not in the evidence" for n in dropped]
    notes += [f"sentence without a valid citation: “{_snippet(s)}”" for s in uncited]
    return Generated("".join(pieces).strip(), tuple(cited.values()), tuple(notes))


# --------------------------------------------------------------------------- the client


class ChatGenerator:
    """Calls ``POST {base_url}/chat/completions`` (OpenAI protocol) with temperature 0."""

    def __init__(self, config: GeneratorConfig, *, transport: httpx.BaseTransport | None = None) -> None:
        import httpx

        self.config = config
        self._httpx = httpx
        self._client = httpx.Client(timeout=httpx.Timeout(config.timeout_s), transport=transport)

    @property
    def model(self) -> str:
        return self.config.model

    def __repr__(self) -> str:
        return f"ChatGenerator(url={self.config.url!r}, model={self.config.model!r})"

    def close(self) -> None:
        self._client.close()

    def complete(self, messages: list[dict[str, str]]) -> str:
        """The content of the first choice.

        Raises:
            GenerationError: any failure, with a short reason.
        """
        httpx = self._httpx
        headers = {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}
        body = {"model": self.config.model, "messages": messages, "temperature": 0}
        try:
            response = self._client.post(self.config.url, json=body, headers=headers)
        except httpx.TimeoutException:
            raise GenerationError(f"no reply within {self.config.timeout_s:g} s") from None
        except httpx.ConnectError:
            raise GenerationError("cannot connect to the endpoint") from None
        except Exception as error:
            raise GenerationError(f"request failed ({type(error).__name__})") from None
        if response.status_code != 200:
            hint = " (check RAG_GENERATION_API_KEY)" if response.status_code in (401, 403) else ""
            raise GenerationError(f"HTTP {response.status_code}{hint}")
        try:
            payload = response.json()
        except ValueError:
            raise GenerationError("the reply is not valid JSON") from None
        try:
            content = payload["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise GenerationError("the reply has no choices[0].message.content") from None
        if not isinstance(content, str) or not content.strip():
            raise GenerationError("the reply is empty")
        return content

    def generate(self, question: str, evidence: Sequence[Evidence], language: Language) -> tuple[Generated | None, str | None]:
        """A parsed answer and no warning, or None and the warning that explains why."""
        try:
            content = self.complete(build_messages(question, evidence, language))
        except GenerationError as error:
            return None, _warning(str(error))
        generated = parse_reply(content, evidence, language)
        if not generated.cited:
            return None, _warning("the generated answer cited none of the evidence")
        return replace(generated, model=self.config.model), None


def _warning(reason: str) -> str:
    log.warning("generation failed: %s", reason)
    return f"generation failed: {reason}; showing the extractive answer"


def make_generator(config: GeneratorConfig | None) -> ChatGenerator | None:
    """A client for ``config``, or None when generation is off (``Settings.generator_config``)."""
    return None if config is None else ChatGenerator(config)


# --------------------------------------------------------------------------- the answer


def generated_answer(extractive: Answer, generated: Generated) -> Answer:
    """The generated text with only the evidence it cites; spans kept where the extractive answer quoted the same unit."""
    quoted = {c.id: c for c in extractive.citations}
    citations = tuple(quoted[e.unit.id] if e.unit.id in quoted else e.citation() for e in generated.cited)
    notes = [f"generated by {generated.model}"]
    if any(detect_language(c.text) != extractive.language for c in citations):
        notes.append("the model answered from evidence in another language; the cited paragraphs are the source")
    notes += generated.notes
    return Answer(
        question=extractive.question,
        language=extractive.language,
        answer=generated.text,
        refused=False,
        citations=citations,
        see_also=(),
        evidence_score=extractive.evidence_score,
        cross_lingual=extractive.cross_lingual,
        notes=tuple(notes),
        segments=segments_from_text(generated.text, citations, extractive.language),
        confidence=extractive.confidence,
    )
