"""Chinese text into content words: segmentation with jieba-rs and a generic stop-word list."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import rjieba
import stopwordsiso

# A token carries content when it has a letter or a CJK character; digits alone do not
# (amounts and floors vary from message to message and would split themes by number).
_HAS_LETTER = re.compile(r"[^\W\d_]")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """The generic Chinese and English stop-word lists of stopwords-iso."""
    return frozenset(stopwordsiso.stopwords(["zh", "en"]))


def tokens(text: str) -> list[str]:
    """Segment text into words (jieba's dictionary, through its Rust port)."""
    return [t for t in rjieba.cut(_SPACE.sub(" ", text)) if t.strip()]


def content_words(text: str) -> list[str]:
    """The words of a text that carry meaning: no punctuation, emoji, numbers or stop words."""
    stops = stop_words()
    out = []
    for token in tokens(text):
        word = token.lower()
        if _HAS_LETTER.search(word) and word not in stops:
            out.append(word)
    return out


def content_words_many(texts: Iterable[str]) -> list[list[str]]:
    """Content words of each text."""
    return [content_words(t) for t in texts]


# Parts of speech (jieba's ICTCLAS tags) that cannot name a theme: time words, numerals,
# measure words, pronouns, adverbs, prepositions, conjunctions, particles, directions.
_NOT_KEYWORD_TAGS = ("t", "m", "q", "r", "d", "p", "c", "u", "f", "y", "e", "o", "x")
# Tags fit for a title, which reads best as a list of nouns (verbal nouns included).
_TITLE_TAGS = ("n", "vn", "an", "j", "eng", "l", "i")


@lru_cache(maxsize=1 << 16)
def _tag(word: str) -> str:
    tagged = rjieba.tag(word)
    return tagged[0][1] if len(tagged) == 1 else "l"


# Words of the genre rather than of a matter: every consultation is made of 意见 and 建议, so
# these say what kind of statement a line is, never what it is about ("加梯、建议、政策").
# A generic list for consultations, not drawn from any data set.
_SPEECH_ACT_WORDS = frozenset({"建议", "意见", "意见建议", "希望", "要求", "反映", "呼吁", "觉得"})
# Words that name no matter, three general classes of Chinese, none drawn from any data set:
# the light nouns that stand for anything (泛指名词: 东西, 地方, 事情, 问题, 情况, 方面…), the
# forms of address of a meeting (称谓: 同志, 委员, 代表, 领导, 朋友, 各位, 大家), and the
# courtesy words of the "十字文明用语" (您好、请、谢谢、对不起、再见) with their common variants.
COURTESY_WORDS = frozenset({"您好", "你好", "谢谢", "感谢", "对不起", "抱歉", "再见"})
_NAMES_NO_MATTER = frozenset(
    {"东西", "地方", "事情", "事儿", "问题", "情况", "方面", "样子", "时候"}
    | {"同志", "委员", "代表", "领导", "朋友", "各位", "大家"}
    | COURTESY_WORDS
)


def is_courteous(words: Iterable[str]) -> bool:
    """Whether a text, given as its content words, thanks, greets or apologises."""
    return not COURTESY_WORDS.isdisjoint(words)


def is_keyword(word: str) -> bool:
    """Whether a content word may describe a theme: two characters or more, a content class,
    not a word that only says what kind of statement a line is."""
    return (
        len(word) >= 2
        and word not in _SPEECH_ACT_WORDS
        and word not in _NAMES_NO_MATTER
        and not _tag(word).startswith(_NOT_KEYWORD_TAGS)
    )


def is_title_word(word: str) -> bool:
    """Whether a keyword reads well in a title (nouns and verbal nouns)."""
    return _tag(word).startswith(_TITLE_TAGS)
