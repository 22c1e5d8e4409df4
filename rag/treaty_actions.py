"""Treaty actions not yet taken, and sentences that report them taken.

"Parties that have not yet ratified or acceded" (尚未批准或加入的缔约方) is the UN's standard way to
name whom a call is addressed to. A question about them is not answered by a sentence reporting
that parties *have* ratified ("14 个缔约方交存了其批准……或加入……的文书"), though it shares every word
with the call that does answer it ("吁请尚未批准或加入……的所有公约缔约方批准或加入"). Three actions
are read -- ratify (批准), accede or join (加入), sign (签署, 签字) -- each in both languages. A call to act
("urges parties to ratify", "吁请各国加入") reports nothing taken; only completed forms do:
"ratified", "have acceded", "deposited instruments of ratification", 已批准, 加入了, 交存了……文书.
"""

from __future__ import annotations

import re

__all__ = ["reports_taken", "undone_actions"]

# action -> (Chinese renderings, English forms)
_ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "ratify": (("批准",), r"ratif(?:y|ies|ied|ying|ication|ications)"),
    "accede": (("加入",), r"acced(?:e|es|ed|ing)|accessions?|join(?:s|ed|ing)?"),
    "sign": (("签署", "签字"), r"sign(?:s|ed|ing|atory|atories)?"),
}
_EN_ACTION = r"(?:" + "|".join(forms for _, forms in _ACTIONS.values()) + r")\b"
_EN_LIST = _EN_ACTION + r"(?:(?:,| or| and| nor)+ (?:to )?" + _EN_ACTION + r")*"
_EN_NOT_DONE = re.compile(
    r"\b(?:(?:have|has|had)(?: not|n't)(?: yet)?(?: been)?|not yet(?: been)?|yet to(?: be)?|never(?: been)?) " + _EN_LIST,
    re.IGNORECASE,
)
_ZH_ACTION = r"(?:批准|核准|接受|加入|签署|签字)"
_ZH_NOT_DONE = re.compile(r"(?:尚未|从未|未)" + _ZH_ACTION + r"(?:[或和及、，]" + _ZH_ACTION + r")*")
# completed: "ratified", "have acceded", "deposited (their) instruments of ratification"; 已批准, 加入了, 交存了……文书
_EN_DONE = re.compile(r"\b(?:ratified|acceded|joined|signed)\b|\bdeposit(?:ed|ing)\b[^.;]{0,60}?\b(?:ratification|accession)", re.IGNORECASE)
_ZH_DONE = re.compile(r"已(?:经)?[^。；，]{0,4}?" + _ZH_ACTION + r"|" + _ZH_ACTION + r"了|交存了?[^。；]{0,40}?(?:文书|书)")
_ZH_WORD = re.compile(_ZH_ACTION)
_EN_WORD = re.compile(_EN_ACTION, re.IGNORECASE)
_FORMS = {action: re.compile(r"\b(?:" + forms + r")\b", re.IGNORECASE) for action, (_, forms) in _ACTIONS.items()}


def _action_of(word: str) -> str | None:
    for action, (renderings, _) in _ACTIONS.items():
        if word in renderings or _FORMS[action].fullmatch(word):
            return action
    return None


def undone_actions(question: str) -> frozenset[str]:
    """The actions (ratify, accede, sign) a question says were not (yet) taken."""
    found: set[str] = set()
    for pattern, words in ((_ZH_NOT_DONE, _ZH_WORD), (_EN_NOT_DONE, _EN_WORD)):
        for match in pattern.finditer(question):
            for word in words.findall(match.group(0)):
                action = _action_of(word)
                if action is not None:
                    found.add(action)
    return frozenset(found)


def reports_taken(sentence: str, actions: frozenset[str]) -> bool:
    """Does ``sentence`` report one of ``actions`` as taken, and none as not yet taken?"""
    if actions & undone_actions(sentence):
        return False
    for pattern in (_ZH_DONE, _EN_DONE):
        for match in pattern.finditer(sentence):
            for action in actions:
                if any(r in match.group(0) for r in _ACTIONS[action][0]) or _FORMS[action].search(match.group(0)):
                    return True
    return False
