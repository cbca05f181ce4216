"""TurnGuard: a degenerate root turn is stopped as it streams, and a good prefix is kept."""

from rlm_desktop.backends.base import CancelToken
from rlm_desktop.engine.protocol import parse_turn
from rlm_desktop.engine.turn_guard import TurnGuard


def stream(guard: TurnGuard, text: str, piece: int = 3) -> str:
    """Feed ``text`` in small pieces until the guard stops it; return what was fed."""
    fed = ""
    for i in range(0, len(text), piece):
        if guard.cancel.cancelled:
            break
        guard.on_token(text[i:i + piece])
        fed += text[i:i + piece]
    return fed


def test_good_code_is_never_stopped():
    text = ("Search for the escrow clause.\n```repl\nhits = grep(r\"escrow\", context_chars=150)\n"
            "for h in hits[:10]:\n    print(h.document, h.page, h.snippet)\n\nprint(len(hits))\n```")
    guard = TurnGuard(CancelToken())
    assert stream(guard, text) == text
    assert not guard.stopped and guard.turn_text(text) == text


def test_prose_inside_a_code_block_stops_the_turn_and_keeps_the_code_before_it():
    good = "Print the clause.\n```repl\nprint(context[3][:500])\n"
    prose = ("10. Escrow. At completion the Buyer shall pay EUR 2,400,000 into an escrow account held by the "
             "escrow agent, to be released to the Seller eighteen months after completion.\n") * 5
    guard = TurnGuard(CancelToken())
    fed = stream(guard, good + prose)
    assert guard.stopped and "not Python" in guard.reason
    assert len(fed) < len(good) + 200  # stopped at the first bad line, not at the token cap
    turn = parse_turn(guard.turn_text(fed))
    assert turn.code_blocks == ["print(context[3][:500])"]


def test_a_repeated_line_stops_the_turn():
    text = "Reasoning.\n" + "The escrow amount is EUR 2,400,000 as stated.\n" * 10
    guard = TurnGuard(CancelToken())
    fed = stream(guard, text)
    assert guard.stopped and "repeat" in guard.reason
    assert fed.count("The escrow amount") <= 3


def test_a_loop_without_newlines_stops_the_turn():
    guard = TurnGuard(CancelToken())
    fed = stream(guard, "x = [" + "'alpha beta gamma delta', " * 80)
    assert guard.stopped and len(fed) < 400


def test_the_run_token_cancels_the_turn_token():
    run = CancelToken()
    guard = TurnGuard(run)
    assert not guard.cancel.cancelled
    run.cancel()
    assert guard.cancel.cancelled and guard.cancel.wait(1.0)
    assert not guard.stopped  # the run was cancelled; the turn itself was fine


def test_a_closed_final_ends_the_turn_without_its_trailing_explanation():
    text = ("FINAL(5683113). The special magic number for hollow-sparrow is mentioned in the text. "
            "The number is 5683113. The text mentions that the number is mentioned in the text.")
    guard = TurnGuard(CancelToken())
    fed = stream(guard, text)
    assert len(fed) < 70 and guard.cancel.cancelled and not guard.stopped  # finished, not degenerate
    assert guard.turn_text(fed) == "FINAL(5683113)"
    assert parse_turn(guard.turn_text(fed)).final.value == "5683113"


def test_a_final_inside_an_open_code_block_does_not_end_the_turn():
    text = "Answer from the variable.\n```repl\nFINAL(total)\nprint('done')\n```"
    guard = TurnGuard(CancelToken())
    assert stream(guard, text) == text and guard.finished_at is None


def test_a_final_followed_by_code_is_left_to_the_protocol():
    text = "FINAL(a guess)\n```repl\nprint(context.upper())\n```\nSome words after the code block to be long."
    guard = TurnGuard(CancelToken())
    assert stream(guard, text) == text and guard.finished_at is None
