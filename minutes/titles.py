"""Theme titles in the theme's own words: the phrases that set a theme apart from the others.

A secretary heads a section of 纪要 with the matter it covers ("护理员工资", "老果园改造",
"冷链集配中心"), not with a list of keywords. So a title is a phrase members wrote: a run of
up to four words (jieba's parts of speech: nouns, verbal nouns, adjectives, a verb after a noun
as in "果园改造"), beginning and ending on a word that can name a matter, found in at least two
of the theme's statements. Phrases are ranked by the distinctiveness of their words (each
word's share of the theme's Kullback-Leibler divergence from the whole discussion, the measure
the keywords use; words of the topic, which every reader knows, count nothing, and so do
words that are part of one or hold one: "湖州" of "湖州市", "养老院" of "养老"), times the
square root of the number of statements using the phrase. A second phrase on another matter
joins the first with "与", as headings of 纪要 do ("楼层系数与分摊方案"), when it scores at least
a third as well. Titles are given to the largest themes first, and no phrase heads
two themes.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import rjieba

from minutes.text import is_keyword, stop_words

# jieba's tags of words that may stand in a heading phrase, and of those that may end one.
# Idioms and set phrases (l, i: "说实话", "意见建议") name no matter and stay out.
_PHRASE_TAGS = ("n", "vn", "an", "a", "b", "j", "eng", "v")
_HEAD_TAGS = ("n", "vn", "an", "j", "eng")
_HAS_LETTER = re.compile(r"[^\W\d_]")
MAX_PHRASE_WORDS = 4
MAX_PHRASE_CHARS = 10
# A title of two phrases stays within this many characters (a heading of one line).
MAX_TITLE_CHARS = 16
# The second phrase joins when it scores at least this share of the first.
SECOND_PHRASE_SHARE = 0.3
# Statements read per theme: the most central ones say what the theme is about, and a title
# does not need a 10,000-statement theme read in full.
STATEMENTS_READ = 300

Phrase = tuple[str, ...]


def phrases(text: str) -> set[Phrase]:
    """Heading phrases in a text, each as its words."""
    stops = stop_words()
    found: set[Phrase] = set()
    run: list[tuple[str, str]] = []
    for word, tag in [*rjieba.tag(text), ("", "x")]:
        if (
            word
            and tag.startswith(_PHRASE_TAGS)
            and _HAS_LETTER.search(word)
            and word.lower() not in stops
        ):
            run.append((word, tag))
            continue
        for start in range(len(run)):
            for end in range(start + 1, min(len(run), start + MAX_PHRASE_WORDS) + 1):
                span = run[start:end]
                if _is_heading(span):
                    found.add(tuple(w for w, _ in span))
        run = []
    return found


def _is_heading(span: Sequence[tuple[str, str]]) -> bool:
    (first, first_tag), (last, last_tag) = span[0], span[-1]
    if not (is_keyword(first) and is_keyword(last)):
        return False
    if first_tag.startswith("v") and first_tag != "vn":
        return False  # "设立专项资金" is a proposal, not the name of a matter
    # The last word is a noun, or a verb after a noun ("果园改造", "人才培养").
    if not (last_tag.startswith(_HEAD_TAGS) or (last_tag.startswith("v") and len(span) > 1)):
        return False
    chars = sum(len(w) for w, _ in span)
    return 2 <= chars <= MAX_PHRASE_CHARS


@dataclass(frozen=True)
class ThemeText:
    """What a title is chosen from: the theme's statements, most central first, and the
    distinctiveness of each of its words."""

    texts: Sequence[str]
    word_scores: Mapping[str, float]


def ranked_phrases(theme: ThemeText, topic_words: set[str]) -> list[tuple[float, str, Phrase]]:
    """The theme's heading phrases found in two statements or more, best first."""
    counts: Counter[Phrase] = Counter()
    for text in theme.texts[:STATEMENTS_READ]:
        counts.update(phrases(text))
    ranked = []
    for phrase, count in counts.items():
        if count < 2:
            continue
        # A phrase several members use names the theme better than one two of them happen to
        # share; the square root keeps a frequent bare word from beating every phrase.
        distinct = sum(
            theme.word_scores.get(w, 0.0) for w in set(phrase) if not _of_topic(w, topic_words)
        )
        score = distinct * math.sqrt(count)
        if score > 0:
            ranked.append((score, "".join(phrase), phrase))
    ranked.sort(key=lambda t: (-t[0], len(t[1]), t[1]))
    return ranked


def choose_titles(
    themes: Sequence[ThemeText], topic_words: set[str], fallbacks: Sequence[str]
) -> list[str]:
    """A distinct title per theme (themes in the order they are shown, largest first)."""
    used: set[str] = set()
    titles: list[str] = []
    for theme, fallback in zip(themes, fallbacks, strict=True):
        ranked = [r for r in ranked_phrases(theme, topic_words) if r[1] not in used]
        if not ranked:
            title = fallback if fallback not in used else f"{fallback}（{len(titles) + 1}）"
            used.add(title)
            titles.append(title)
            continue
        score, first, words = ranked[0]
        title = first
        for other_score, second, other_words in ranked[1:]:
            if other_score < SECOND_PHRASE_SHARE * score:
                break
            if _overlaps(words, other_words, first, second):
                continue
            # "一楼" and "住户" read as the one phrase members wrote, "一楼住户", if they did.
            joined = next((r for r in ranked if set(words) | set(other_words) <= set(r[2])), None)
            if joined is not None:
                title = joined[1]
            elif len(first) + 1 + len(second) <= MAX_TITLE_CHARS:
                title = f"{first}与{second}"
            used.add(second)
            break
        used.update({first, title})
        titles.append(title)
    return titles


def _overlaps(a: Phrase, b: Phrase, a_text: str, b_text: str) -> bool:
    """Whether two phrases speak of the same thing: a shared word or one inside the other."""
    return bool(set(a) & set(b)) or a_text in b_text or b_text in a_text


def _of_topic(word: str, topic_words: set[str]) -> bool:
    """Whether a word names the topic: one of its words, or part of one or containing one
    ("湖州" of "湖州市", "养老院" of "养老")."""
    return word in topic_words or any(
        len(word) >= 2 and len(t) >= 2 and (word in t or t in word) for t in topic_words
    )
