"""The export for programs keeps to the schema of issue 5."""

from __future__ import annotations

import json

from minutes import ConsultationInfo, PollSummary, Stance, Statement, render_json, summarize

TOP_LEVEL = {
    "consultation", "participation", "themes", "chatter_ids", "duplicates", "polls",
    "consensus", "divisive", "suggestions", "follow_up",
}  # fmt: skip


def test_json_matches_the_schema(
    info: ConsultationInfo, statements: list[Statement], stances: list[Stance], poll: PollSummary
) -> None:
    data = render_json(summarize(info, statements, stances, [poll]))
    assert set(data) == TOP_LEVEL
    json.dumps(data, ensure_ascii=False)  # serialisable as it is
    assert data["consultation"]["topic"] == info.topic
    assert data["themes"]
    for theme in data["themes"]:
        assert set(theme) == {
            "title",
            "keywords",
            "opinions",
            "representative",
            "members",
            "seconds",
        }
        assert isinstance(theme["title"], str)
        assert isinstance(theme["seconds"], int)
        assert all(set(q) == {"id", "text", "author"} for q in theme["opinions"])
        assert set(theme["representative"]) == {"id", "text", "author"}
        assert theme["representative"] in theme["opinions"]
    assert all(isinstance(i, int) for i in data["chatter_ids"])
    assert all(len(pair) == 2 for pair in data["duplicates"])
    for item in (*data["consensus"], *data["divisive"]):
        assert {"id", "text", "author", "agree", "disagree", "pass"} <= set(item)
    assert all({"id", "text", "author", "seconds"} <= set(s) for s in data["suggestions"])


def test_poll_numbers_equal_the_ballots(
    info: ConsultationInfo, statements: list[Statement], poll: PollSummary
) -> None:
    [exported] = render_json(summarize(info, statements, polls=[poll]))["polls"]
    assert exported == {
        "id": 3,
        "question": poll.question,
        "options": [{"text": o.text, "votes": o.votes} for o in poll.options],
        "voters": 24,
        "anonymous": True,
    }


def test_quotes_in_json_are_the_statements(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    by_id = {s.id: s for s in statements}
    for theme in render_json(summarize(info, statements))["themes"]:
        for quote in theme["opinions"]:
            assert quote["text"] == by_id[quote["id"]].text
            assert quote["author"] == by_id[quote["id"]].author


def test_empty_minutes_export(info: ConsultationInfo) -> None:
    data = render_json(summarize(info, []))
    assert data["themes"] == []
    assert data["participation"]["statements"] == 0
