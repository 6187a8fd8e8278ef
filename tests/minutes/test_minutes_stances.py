"""Pol.is-style analysis: who agrees with what, and where members split."""

from __future__ import annotations

from minutes import Quote, Stance
from minutes.stances import analyse_stances, count_stances


def quotes(*ids: int) -> dict[int, Quote]:
    return {i: Quote(i, f"意见{i}", f"委员{i}", f"m{i}") for i in ids}


def test_a_changed_mark_replaces_the_earlier_one() -> None:
    counts = count_stances([Stance(1, "m1", 1), Stance(1, "m1", -1), Stance(1, "m2", 0)])
    assert (counts[1].agree, counts[1].disagree, counts[1].passed) == (0, 1, 1)


def test_a_statement_everyone_agrees_with_is_consensus() -> None:
    marks = [Stance(1, f"v{i}", 1) for i in range(8)] + [Stance(2, "v0", -1)]
    analysis = analyse_stances(marks, quotes(1, 2))
    assert [s.quote.id for s in analysis.consensus] == [1]
    assert analysis.consensus[0].direction == "agree"
    assert analysis.divisive == ()


def test_two_camps_form_opinion_groups_and_split_on_what_divides_them() -> None:
    # Ten members mark eight statements: camp A agrees with 1-4 and rejects 5-8, camp B the
    # opposite; everybody agrees with statement 9.
    marks = []
    for member in range(10):
        camp_a = member < 5
        for sid in range(1, 9):
            agrees = (sid <= 4) == camp_a
            marks.append(Stance(sid, f"v{member}", 1 if agrees else -1))
        marks.append(Stance(9, f"v{member}", 1))
    analysis = analyse_stances(marks, quotes(*range(1, 10)))
    assert len(analysis.groups) == 2
    assert sorted(len(g.member_ids) for g in analysis.groups) == [5, 5]
    assert [s.quote.id for s in analysis.consensus] == [9]
    assert {s.quote.id for s in analysis.divisive} == set(range(1, 9))
    assert all(g.distinctive for g in analysis.groups)


def test_too_few_marks_make_no_groups_and_no_claims() -> None:
    analysis = analyse_stances([Stance(1, "v1", 1), Stance(1, "v2", -1)], quotes(1))
    assert analysis.groups == ()
    assert analysis.consensus == ()
    assert analysis.divisive == ()


def test_marks_on_unknown_or_chatter_statements_are_ignored() -> None:
    analysis = analyse_stances([Stance(99, f"v{i}", 1) for i in range(9)], quotes(1))
    assert analysis.consensus == ()
    assert 99 not in analysis.counts


def test_a_statement_marked_only_outside_the_opinion_map_does_not_break_the_analysis() -> None:
    # The two camps of eight statements make the map; one latecomer, with a single mark,
    # stays off it and is the only one to mark statement 9.
    marks = [
        Stance(sid, f"v{member}", 1 if (sid <= 4) == (member < 5) else -1)
        for member in range(10)
        for sid in range(1, 9)
    ]
    marks += [Stance(9, "late", 1), Stance(9, "late2", 1), Stance(9, "late3", -1)]
    analysis = analyse_stances(marks, quotes(*range(1, 10)))
    assert sorted(len(g.member_ids) for g in analysis.groups) == [5, 5]
    assert (analysis.counts[9].agree, analysis.counts[9].disagree) == (2, 1)
    assert {s.quote.id for s in analysis.divisive} == set(range(1, 9))
