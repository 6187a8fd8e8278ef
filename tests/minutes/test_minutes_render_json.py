"""The export for programs keeps to the schema of issue 5."""

from __future__ import annotations

import json

from minutes import ConsultationInfo, PollSummary, Stance, Statement, render_json, summarize

TOP_LEVEL = {
    "consultation", "overview", "participation", "themes", "chatter_ids", "duplicates",
    "polls", "consensus", "divisive", "suggestions", "follow_up", "method",
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
        "status": "closed",
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


def test_the_overview_carries_the_plan_and_research_notes(
    planned_info: ConsultationInfo, statements: list[Statement]
) -> None:
    overview = render_json(summarize(planned_info, statements))["overview"]
    assert overview["text"].startswith("本次协商共收到发言")
    assert overview["plan"] == planned_info.plan
    assert overview["research_notes"] == [
        {
            "id": 1,
            "text": "走访夜市摊主32户，其中21户愿意延长到23点。",
            "author": "委员03",
            "created_at": "2024-06-01T11:00:00+00:00",
        },
        {
            "id": 2,
            "text": "城管部门提供：去年夜市油烟投诉47件，集中在烧烤区。",
            "author": "",
            "created_at": None,
        },
    ]


def test_an_open_poll_is_marked_open(
    info: ConsultationInfo, statements: list[Statement], open_poll: PollSummary
) -> None:
    [exported] = render_json(summarize(info, statements, polls=[open_poll]))["polls"]
    assert exported["status"] == "open"
    assert [o["votes"] for o in exported["options"]] == [8, 3]


def test_a_long_statement_is_kept_whole(
    info: ConsultationInfo, long_statement: list[Statement]
) -> None:
    [theme] = render_json(summarize(info, long_statement))["themes"]
    assert theme["representative"]["text"] == long_statement[0].text
    assert len(theme["representative"]["text"]) == 1000
