"""The summarizer: what members said in, faithful themes out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from minutes import ConsultationInfo, Minutes, PollSummary, Stance, Statement, summarize
from minutes.embed import E5Embedder
from tests.minutes.support import NIGHT_MARKET, StatementFactory, all_quotes

CHATTER_TEXTS = {"收到", "+1", "👍👍", "同意楼上"}


def themed_ids(minutes: Minutes) -> list[int]:
    return [q.id for theme in minutes.themes for q in theme.opinions]


def test_every_quote_is_a_verbatim_statement_with_its_id(
    info: ConsultationInfo, statements: list[Statement], stances: list[Stance]
) -> None:
    minutes = summarize(info, statements, stances)
    by_id = {s.id: s for s in statements}
    quotes = list(all_quotes(minutes))
    assert quotes
    for quote in quotes:
        said = by_id[quote.id]
        assert (quote.text, quote.author, quote.author_id) == (
            said.text,
            said.author,
            said.author_id,
        )


def test_greetings_and_plus_ones_are_set_aside_as_chatter(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    minutes = summarize(info, statements)
    chatter = {s.id for s in statements if s.text in CHATTER_TEXTS}
    assert chatter <= set(minutes.chatter_ids)
    assert not chatter & set(themed_ids(minutes))


def test_each_opinion_sits_in_exactly_one_theme(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    minutes = summarize(info, statements)
    ids = themed_ids(minutes)
    assert len(ids) == len(set(ids))
    assert set(ids) | set(minutes.chatter_ids) == {s.id for s in statements}


def test_a_repeated_opinion_is_folded_with_the_members_behind_it(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    minutes = summarize(info, statements)
    # #3 and #16 say the same thing about grill smoke, in almost the same words.
    assert (3, 16) in minutes.duplicates
    fold = next(
        f
        for t in minutes.themes
        for f in t.folds
        if {f.kept.id, *(q.id for q in f.folded)} >= {3, 16}
    )
    assert {"m03", "m16"} <= set(fold.member_ids)


def test_titles_name_the_matter_not_the_topic_or_the_kind_of_statement(
    info: ConsultationInfo, statements: list[Statement], statement_factory: StatementFactory
) -> None:
    # "夜市" is the topic everyone knows; "建议" and "意见" only say what kind of line it is.
    said = statements + statement_factory(
        [
            ("m21", "建议夜市停车位增加，意见很多", "suggestion"),
            ("m22", "停车位的意见：建议夜市周边增设停车位", "suggestion"),
        ],
        first_id=len(statements) + 1,
    )
    minutes = summarize(info, said)
    titles = [theme.title for theme in minutes.themes]
    assert any("停车位" in title for title in titles)
    for title in titles:
        assert not {"夜市", "建议", "意见"} & set(title.split("、")), title
    assert all("建议" not in theme.keywords for theme in minutes.themes)


def test_a_procedural_remark_is_chatter_even_when_the_topic_says_意见(
    statement_factory: StatementFactory,
) -> None:
    # A line that names a word of the topic is kept as on topic; "意见" names no matter.
    info = ConsultationInfo(id=7, topic="夜市延长营业时间：听取居民意见和建议", group_name="g")
    rows = [
        *NIGHT_MARKET,
        ("m30", "请大家发言时尽量注明是意见还是建议，方便我们后面整理", "remark"),
    ]
    said = statement_factory(rows)
    minutes = summarize(info, said, embedder=E5Embedder())
    assert said[-1].id in minutes.chatter_ids
    assert said[-1].id not in themed_ids(minutes)


def test_retracted_statements_are_neither_quoted_nor_counted(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    withdrawn = replace(statements[1], retracted=True, text="[撤回] 不要引用我")
    minutes = summarize(info, [withdrawn, *statements[2:]], [Stance(withdrawn.id, "v1", 1)] * 3)
    assert withdrawn.id not in {q.id for q in all_quotes(minutes)}
    assert withdrawn.id not in minutes.chatter_ids
    assert minutes.participation.statements == len(statements) - 2
    assert minutes.participation.stances == 0


def test_no_statements_still_make_minutes(info: ConsultationInfo) -> None:
    minutes = summarize(info, [])
    assert minutes.themes == ()
    assert minutes.chatter_ids == ()
    assert minutes.participation.statements == 0
    assert "0条" in minutes.overview


def test_a_single_opinion_is_its_own_theme(
    info: ConsultationInfo, statement_factory: StatementFactory
) -> None:
    only = statement_factory([("m01", "建议夜市摊位统一配备灭火器，防止燃气罐起火", "suggestion")])
    minutes = summarize(info, only)
    assert len(minutes.themes) == 1
    assert minutes.themes[0].representative.id == only[0].id
    assert [s.quote.id for s in minutes.suggestions] == [only[0].id]


def test_the_same_input_gives_the_same_minutes(
    info: ConsultationInfo, statements: list[Statement], stances: list[Stance]
) -> None:
    assert summarize(info, statements, stances) == summarize(info, statements, stances)


def test_poll_numbers_are_copied_not_recounted(
    info: ConsultationInfo, statements: list[Statement], poll: PollSummary
) -> None:
    minutes = summarize(info, statements, polls=[poll])
    assert minutes.polls == (poll,)


def _two_camps(n: int) -> npt.NDArray[np.float32]:
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((2, 16))
    rows = centres[np.arange(n) % 2] + 0.05 * rng.standard_normal((n, 16))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_stored_vectors_decide_the_themes(
    info: ConsultationInfo, statement_factory: StatementFactory
) -> None:
    texts = [
        (f"m{i:02d}", f"第{i}位委员关于夜市管理的意见和具体想法", "opinion") for i in range(20)
    ]
    said = statement_factory(texts)
    vectors = dict(zip((s.id for s in said), _two_camps(len(said)), strict=True))
    minutes = summarize(info, said, vectors=vectors)
    assert minutes.method == "embeddings+tfidf"
    camps = sorted(sorted(q.id % 2 for q in t.opinions) for t in minutes.themes)
    assert camps == [[0] * 10, [1] * 10]


class CountingEmbedder:
    """Embeds by the camp digit in the text; counts how many texts it was asked for."""

    name = "test/camps"
    dim = 16

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls += len(texts)
        return _two_camps(len(texts))


def test_missing_vectors_are_computed_or_the_tfidf_fallback_is_used(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    partial = {statements[0].id: np.ones(16, dtype=np.float32)}
    assert summarize(info, statements, vectors=partial).method == "tfidf"
    embedder = CountingEmbedder()
    minutes = summarize(info, statements, vectors=partial, embedder=embedder)
    assert minutes.method == "embeddings+tfidf"
    assert embedder.calls == len(statements) - 1


def test_a_large_consultation_is_sampled_and_every_statement_accounted_for(
    info: ConsultationInfo, statement_factory: StatementFactory
) -> None:
    # More statements than the graph sample and the duplicate cells, so both paths run.
    topics = ["夜市油烟需要净化设备", "夜市垃圾需要及时清运", "夜市停车需要规划车位"]
    rows = [
        (f"m{i % 300:03d}", f"{topics[i % 3]}，第{i}条具体意见", "opinion") for i in range(1800)
    ]
    said = statement_factory(rows)
    rng = np.random.default_rng(2)
    centres = rng.standard_normal((3, 32))
    matrix = centres[np.arange(len(said)) % 3] + 0.3 * rng.standard_normal((len(said), 32))
    vectors = {s.id: matrix[i].astype(np.float32) for i, s in enumerate(said)}
    minutes = summarize(info, said, vectors=vectors)
    ids = themed_ids(minutes)
    assert sorted(ids + list(minutes.chatter_ids)) == [s.id for s in said]
    assert len(minutes.themes) == 3
    for theme in minutes.themes:
        assert len({q.id % 3 for q in theme.opinions}) == 1
