"""The short minutes for the group chat, as Markdown.

Anything a member wrote (statements, names, poll questions, even the topic) is escaped, so it
reads as text and never becomes a heading, a link, an image, HTML or a mention of everyone.
"""

from __future__ import annotations

from dataclasses import replace

from minutes.format import document_line, excerpt, full_text_note, ref, share, signoff_line
from minutes.result import Minutes, Quote

DEFAULT_FULL_TEXT_HINT = "完整纪要（Word、JSON）请联系秘书导出。"
# Characters that can open inline structure (links, images, emphasis, code, HTML, entities,
# table cells) or close a heading. Member text never starts a line here, so block markers
# such as "1." or "-" stay as typed and decimals ("4.5万") read without backslashes.
_STRUCTURAL = frozenset("\\`*_[](){}!<>&|~#$")


def escape_markdown(text: str) -> str:
    """Member text as inert Markdown: one line, structural punctuation backslash-escaped.

    CommonMark lets any ASCII punctuation be escaped, and an escaped character is always
    literal, so `# 标题`, `[链接](http://x)`, `![图](x)` and `<b>` stay text.
    `@` becomes the full-width `＠` so that no platform reads `@所有人` or `@all` as a mention.
    """
    flat = " ".join(text.split())
    out = []
    for ch in flat:
        if ch == "@":
            out.append("＠")
        elif ch in _STRUCTURAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _quote_line(quote: Quote) -> str:
    head = excerpt(quote.text)
    text = (
        escape_markdown(quote.text)
        if head is None
        else escape_markdown(head) + full_text_note(quote.id)
    )
    return f"“{text}”——{escape_markdown(quote.author)} {ref(quote.id)}"


def _overview_lines(minutes: Minutes) -> list[str]:
    """The plan and the research notes under the overview, when the consultation has them."""
    info = minutes.consultation
    lines = []
    if info.plan and info.plan.strip():
        lines += ["", f"**协商方案**：{escape_markdown(info.plan)}"]
    notes = info.notes()
    if notes:
        lines += ["", f"**调研材料**（{len(notes)}份）", ""]
        for note in notes:
            head = excerpt(note.text)
            text = escape_markdown(note.text if head is None else head) + (
                "" if head is None else "……（全文见完整纪要）"
            )
            by = f"（{escape_markdown(note.author)}）" if note.author else ""
            lines.append(f"- 调研{ref(note.id)} {text}{by}")
    return lines


def render_markdown(
    minutes: Minutes, *, max_themes: int = 5, full_text_hint: str = DEFAULT_FULL_TEXT_HINT
) -> str:
    """Short Markdown for the group: overview, top themes, poll results, where the rest is."""
    info = minutes.consultation
    lines = [f"### 会议纪要：{escape_markdown(info.topic)}", "", escape_markdown(minutes.overview)]
    lines += _overview_lines(minutes)
    if minutes.words_only_note is not None:
        # Before the themes it qualifies; the bot's own words, not escaped.
        lines += ["", f"> 注：{minutes.words_only_note}"]

    if minutes.themes:
        lines += ["", "**主要意见**", ""]
        for number, theme in enumerate(minutes.themes[:max_themes], start=1):
            lines.append(
                f"{number}. **{escape_markdown(theme.title)}**"
                f"（{len(theme.opinions)}条，{len(theme.member_ids)}人"
                + (f"，附议{theme.seconds}次" if theme.seconds else "")
                + "）"
            )
            lines.append(f"   > {_quote_line(theme.representative)}")
        rest = len(minutes.themes) - max_themes
        if rest > 0:
            lines.append(f"\n另有{rest}个主题见完整纪要。")

    if minutes.polls:
        lines += ["", "**表决情况**", ""]
        for poll in minutes.polls:
            tags = "，匿名" if poll.anonymous else ""
            if not poll.closed:
                # Interim numbers, never a result: no shares, and said to be unfinished.
                counts = "，".join(f"{escape_markdown(o.text)} {o.votes}票" for o in poll.options)
                lines.append(
                    f"- 表决{ref(poll.id)} {escape_markdown(poll.question)}：进行中，"
                    f"截至纪要生成时{poll.voters}人投票（{counts}{tags}），以表决结束后的结果为准"
                )
                continue
            results = "，".join(
                f"{escape_markdown(o.text)} {o.votes}票（{share(o, poll)}）" for o in poll.options
            )
            lines.append(
                f"- 表决{ref(poll.id)} {escape_markdown(poll.question)}：{results}"
                f"（{poll.voters}人投票{tags}）"
            )

    if minutes.consensus:
        lines += ["", "**共识**", ""]
        for standing in minutes.consensus[:3]:
            verb = "赞同" if standing.direction == "agree" else "反对"
            count = (
                standing.stances.agree
                if standing.direction == "agree"
                else standing.stances.disagree
            )
            lines.append(
                f"- {_quote_line(standing.quote)}（{count}/{standing.stances.total}人{verb}）"
            )
    if minutes.divisive:
        lines += ["", "**分歧**", ""]
        for standing in minutes.divisive[:3]:
            s = standing.stances
            lines.append(f"- {_quote_line(standing.quote)}（赞同{s.agree}，反对{s.disagree}）")

    follow_up = minutes.follow_up
    if follow_up:
        lines += ["", "**后续办理**", ""]
        # The secretary's words are escaped field by field, so the #ids stay as typed.
        lines += [
            "- 签批："
            + signoff_line(
                replace(
                    s,
                    leader=escape_markdown(s.leader),
                    title=escape_markdown(s.title),
                    instruction=escape_markdown(s.instruction),
                )
            )
            for s in follow_up.signoffs
        ]
        lines += [
            "- 发文："
            + document_line(
                replace(
                    d,
                    issuer=escape_markdown(d.issuer),
                    number=escape_markdown(d.number),
                    title=escape_markdown(d.title),
                )
            )
            for d in follow_up.documents
        ]

    # The hint is the bot's own text (it may name a command), so it is not escaped.
    lines += ["", full_text_hint]
    return "\n".join(lines).strip() + "\n"
