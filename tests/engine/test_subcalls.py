"""llm_query_batched on a model that decodes sequences together (real SmolLM2), and on one that does not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlm_desktop.backends.llamacpp import LlamaCppModel
from rlm_desktop.engine.budget import RunBudget
from rlm_desktop.engine.events import SubCallFinished
from rlm_desktop.engine.subcalls import SubCallServer

TEXT = ("Lease summary. The tenant rents the third floor at 12 Harbour Street. The annual rent is 212,000 euros, "
        "paid quarterly in advance. The lease expires on 31 March 2030. ")
PROMPTS = [TEXT + q for q in ("What is the rent?", "When does it expire?", "Which floor?", "Which street?",
                              "How is the rent paid?")]


class DictCache:
    def __init__(self) -> None:
        self.data: dict[tuple[str, str], str] = {}

    def get(self, model_id: str, prompt: str, settings: dict) -> str | None:
        return self.data.get((model_id, prompt))

    def put(self, model_id: str, prompt: str, settings: dict, answer: str) -> None:
        self.data[(model_id, prompt)] = answer


@pytest.fixture(scope="module")
def batching_sub(smollm2_path: Path):
    with LlamaCppModel(smollm2_path, n_ctx=1024, n_threads=2, batching=True, sequences=3) as model:
        yield model


def serve(model, events: list, cache=None, max_sub_calls: int = 100) -> tuple[SubCallServer, RunBudget]:
    budget = RunBudget(max_sub_calls=max_sub_calls, max_tokens=10**7, max_seconds=600)
    return SubCallServer(model, budget=budget, emit=events.append, max_tokens=16, parallel=2, cache=cache), budget


def test_batched_answers_equal_one_by_one_answers_in_order(batching_sub: LlamaCppModel, smollm2_path: Path) -> None:
    events: list = []
    server, budget = serve(batching_sub, events)
    with budget:
        answers = server.llm_query_batched(PROMPTS)
    with LlamaCppModel(smollm2_path, n_ctx=1024, n_threads=2) as plain:
        one_by_one_events: list = []
        plain_server, plain_budget = serve(plain, one_by_one_events)
        with plain_budget:
            expected = [plain_server.llm_query(p) for p in PROMPTS]
    assert answers == expected
    finished = [e for e in events if isinstance(e, SubCallFinished)]
    assert len(finished) == 5 and not any(e.error for e in finished)
    assert budget.sub_calls == 5 and budget.usage["sub"].completion_tokens > 0
    # the shared text was evaluated once: the others report fewer evaluated than prompt tokens
    assert sum(1 for e in finished if e.prompt_tokens_evaluated < e.prompt_tokens) >= 3


def test_cached_prompts_skip_the_model_and_a_too_long_prompt_fails_alone(batching_sub: LlamaCppModel) -> None:
    cache = DictCache()
    events: list = []
    server, budget = serve(batching_sub, events, cache=cache)
    with budget:
        first = server.llm_query_batched(PROMPTS[:2])
        with pytest.raises(ValueError, match="prompt 2 of 3: llm_query prompt too long"):
            server.llm_query_batched([PROMPTS[0], "word " * 2000, PROMPTS[2]])
    assert cache.get(batching_sub.name, PROMPTS[0], {}) == first[0]
    assert cache.get(batching_sub.name, PROMPTS[2], {}) is not None  # the neighbour still ran and was kept
    finished = [e for e in events if isinstance(e, SubCallFinished)]
    assert sum(1 for e in finished if e.cached) == 1
    assert [e.error is not None for e in finished[-3:]].count(True) == 1


def test_the_sub_call_budget_refuses_the_prompts_beyond_it(batching_sub: LlamaCppModel) -> None:
    events: list = []
    server, budget = serve(batching_sub, events, max_sub_calls=2)
    with budget:
        with pytest.raises(RuntimeError, match="prompt 3 of 4: llm_query refused"):
            server.llm_query_batched(PROMPTS[:4])
    assert budget.sub_calls == 2


def test_every_sub_call_is_told_to_answer_from_the_given_text_only() -> None:
    from rlm_desktop.backends.scripted import ScriptedModel

    seen: list[list[dict]] = []

    def reply(messages: list[dict]) -> str:
        seen.append(messages)
        return "The text does not say."

    server, budget = serve(ScriptedModel(reply), [])
    with budget:
        server.llm_query("Does the memo state the revenue share correctly?")
        server.llm_query_batched(["Text: a. Q?", "Text: b. Q?"])
    assert len(seen) == 3
    for messages in seen:
        assert messages[0]["role"] == "system" and "using only that text" in messages[0]["content"]
        assert messages[-1]["role"] == "user"


LABELS = ["rent", "date", "place"]
QUESTIONS = ["What is the annual rent?", "When does the lease expire?", "Where is the office?",
             "How much is paid each quarter?"]


def test_classify_scores_the_labels_on_a_real_sub_model_and_caches_the_scores(batching_sub: LlamaCppModel) -> None:
    cache = DictCache()
    events: list = []
    server, budget = serve(batching_sub, events, cache=cache)
    with budget:
        labels = server.llm_classify(QUESTIONS, LABELS)
        again = server.llm_classify(QUESTIONS, LABELS)
    assert len(labels) == len(QUESTIONS) and set(labels) <= set(LABELS)
    finished = [e for e in events if isinstance(e, SubCallFinished)]
    assert len(finished) == 8 and all(e.completion_tokens == 0 for e in finished)  # scored, nothing generated
    # the prompt prefix (rule and labels) is shared: most calls evaluate only their own text
    assert sum(1 for e in finished[:4] if e.prompt_tokens_evaluated < e.prompt_tokens) >= 2
    scores = [json.loads(answer) for answer in cache.data.values()]
    assert len(scores) == 4 and all(len(row) == 3 and max(row) < 0 for row in scores)
    # under 30 texts no calibration: each label is the likeliest one
    assert labels == [LABELS[row.index(max(row))] for row in scores]
    assert again == labels and budget.sub_calls == 2 * len(QUESTIONS) and budget.cache_hits == len(QUESTIONS)


def test_labels_that_begin_alike_are_generated_under_a_grammar(batching_sub: LlamaCppModel) -> None:
    events: list = []
    server, budget = serve(batching_sub, events)
    labels = ["rent amount", "rent date", "place"]
    with budget:
        answers = server.llm_classify(QUESTIONS, labels)
    assert set(answers) <= set(labels)  # the grammar admits nothing else
    finished = [e for e in events if isinstance(e, SubCallFinished)]
    assert len(finished) == 4 and all(0 < e.completion_tokens <= 4 for e in finished)


def test_classify_without_a_grammar_takes_the_label_the_answer_names() -> None:
    from rlm_desktop.backends.scripted import ScriptedModel

    seen: list[list[dict]] = []

    def reply(messages: list[dict]) -> str:
        seen.append(messages)
        text = messages[-1]["content"]
        return ("It is about the rent." if "rent" in text else "DATE." if "expire" in text else "no idea")

    server, budget = serve(ScriptedModel(reply), [])
    with budget:
        labels = server.llm_classify(QUESTIONS[:3], LABELS)
        server.llm_classify(["When is the rent due?"], LABELS, examples=[("Who is the tenant?", "Place")])
    assert labels == ["rent", "date", "(unclear)"]
    assert "- rent\n- date\n- place" in seen[0][0]["content"]
    assert seen[0][-1]["content"] == "Text: What is the annual rent?"
    # examples are earlier turns, their labels written as the labels are
    assert [m["content"] for m in seen[-1][1:]] == ["Text: Who is the tenant?", "place", "Text: When is the rent due?"]


def test_classify_labels_are_checked() -> None:
    from rlm_desktop.engine.subcalls import checked_examples, checked_labels, match_label

    with pytest.raises(TypeError, match="labels must be a list"):
        checked_labels("yes,no")
    with pytest.raises(ValueError, match="2 to 40 labels"):
        checked_labels(["only"])
    with pytest.raises(ValueError, match="differ"):
        checked_labels(["Yes", "yes"])
    with pytest.raises(ValueError, match="'owner' is not one of the labels"):
        checked_examples([("Who owns it?", "owner")], ["place", "date"])
    with pytest.raises(TypeError, match="pairs"):
        checked_examples(["Who owns it?"], ["place", "date"])
    assert checked_examples({"Where?": "Place"}, ["place", "date"]) == [("Where?", "place")]
    assert match_label(" Human being.", ["human being", "location"]) == "human being"
    assert match_label("a location, not a human being", ["human being", "location"]) == "location"
    assert match_label("the entity", ["entity", "abstract entity"]) == "entity"


def test_llm_answer_shows_worked_turns_then_the_sentences_and_caches_apart() -> None:
    from rlm_desktop.backends.scripted import ScriptedModel

    seen: list[list[dict]] = []

    def reply(messages: list[dict]) -> str:
        seen.append(messages)
        return "Fjord Bank"

    class SettingsCache(DictCache):  # keyed on the call's settings too, as the library's cache is
        def get(self, model_id: str, prompt: str, settings: dict) -> str | None:
            return self.data.get((model_id, prompt + repr(sorted(settings.items()))))

        def put(self, model_id: str, prompt: str, settings: dict, answer: str) -> None:
            self.data[(model_id, prompt + repr(sorted(settings.items())))] = answer

    server, budget = serve(ScriptedModel(reply), [], cache=SettingsCache())
    with budget:
        first = server.llm_answer("Which bank lends to it?", "- Fjord Bank lends to it. (loan.txt, page 2)")
        again = server.llm_answer("Which bank lends to it?", "- Fjord Bank lends to it. (loan.txt, page 2)")
        server.llm_query("Sentences from the documents:\n- Fjord Bank lends to it. (loan.txt, page 2)\n\n"
                         "Question: Which bank lends to it?")
    assert first == again == "Fjord Bank" and len(seen) == 2  # the second is cached; llm_query's is another call
    messages = seen[0]
    assert messages[0]["role"] == "system" and "copied from the sentences" in messages[0]["content"]
    assert [m["role"] for m in messages[1:]] == ["user", "assistant"] * 3 + ["user"]
    assert messages[-1]["content"] == ("Sentences from the documents:\n- Fjord Bank lends to it. (loan.txt, page 2)"
                                       "\n\nQuestion: Which bank lends to it?")
    with pytest.raises(TypeError):
        server.llm_answer(["Which bank?"], "text")


def test_examples_are_written_by_the_writer_model_one_per_label_in_the_texts_form() -> None:
    from rlm_desktop.backends.scripted import ScriptedModel

    asked: list[list[dict]] = []

    def write(messages: list[dict]) -> str:
        asked.append(messages)
        request = messages[-1]["content"]
        label = request.rsplit("category", 1)[1]
        if "'place'" in label:
            return "Where is the office?\n\n2. When does the lease end?"  # the second is written for two labels
        return ('1. "How much is the rent?"\n2. Text: What is the deposit?\n3. A third one.' if "'rent'" in label
                else "- When does the lease end?")

    def never(messages: list[dict]) -> str:
        raise AssertionError("the sub model does not write examples when a writer is given")

    budget = RunBudget(max_sub_calls=100, max_tokens=10**7, max_seconds=600)
    server = SubCallServer(ScriptedModel(never), budget=budget, emit=[].append, max_tokens=16, parallel=1,
                           writer=ScriptedModel(write))
    with budget:
        pairs = server.llm_examples(LABELS, QUESTIONS[:2])
    assert pairs == [["How much is the rent?", "rent"], ["What is the deposit?", "rent"], ["Where is the office?", "place"]]
    assert len(asked) == 3 and budget.sub_calls == 3
    assert "- What is the annual rent?\n- When does the lease expire?" in asked[0][-1]["content"]
    # the writer's tokens count as the root's
    assert budget.usage["root"].completion_tokens > 0 and budget.usage["sub"].total_tokens == 0


def test_a_sample_the_writer_copies_back_is_not_taken_as_an_example() -> None:
    from rlm_desktop.backends.scripted import ScriptedModel

    # the 1.5B wrote shown samples back as the first label's examples (always of another label)
    def write(messages: list[dict]) -> str:
        return ("what is the annual  RENT?\nHow much is the deposit?" if "'rent'" in messages[-1]["content"].rsplit("category", 1)[1]
                else "Which floor is it on?")

    writer = ScriptedModel(write)
    budget = RunBudget(max_sub_calls=100, max_tokens=10**7, max_seconds=600)
    server = SubCallServer(ScriptedModel(lambda messages: "rent"), budget=budget, emit=[].append, max_tokens=16,
                           parallel=1, writer=writer)
    with budget:
        pairs = server.llm_examples(["rent", "place"], QUESTIONS[:2])
    assert pairs == [["How much is the deposit?", "rent"], ["Which floor is it on?", "place"]]


def test_classify_is_refused_at_once_when_the_budget_cannot_cover_its_texts() -> None:
    from rlm_desktop.backends.scripted import ScriptedModel

    calls: list = []
    server, budget = serve(ScriptedModel(lambda messages: calls.append(messages) or "rent"), [], cache=DictCache(),
                           max_sub_calls=3)
    with budget:
        assert server.llm_classify(QUESTIONS[:2], LABELS) == ["rent", "rent"]
        with pytest.raises(RuntimeError, match="classify\\(\\) refused: it needs 2 sub-calls .* this run has 1 left"):
            server.llm_classify(QUESTIONS[1:], LABELS)
        assert len(calls) == 2  # nothing was spent on the refused call
        assert server.llm_classify(QUESTIONS[:2] + QUESTIONS[3:], LABELS) == ["rent"] * 3  # two are cached


def test_a_real_writer_model_writes_examples_that_classify_then_takes(batching_sub: LlamaCppModel,
                                                                      smollm2_path: Path) -> None:
    events: list = []
    budget = RunBudget(max_sub_calls=100, max_tokens=10**7, max_seconds=600)
    with LlamaCppModel(smollm2_path, n_ctx=1024, n_threads=2) as writer:
        server = SubCallServer(batching_sub, budget=budget, emit=events.append, max_tokens=16, parallel=2,
                               writer=writer)
        with budget:
            pairs = server.llm_examples(LABELS, QUESTIONS)
            labels = server.llm_classify(QUESTIONS, LABELS, examples=pairs)
    assert all(text.strip() and label in LABELS for text, label in pairs) and len(pairs) <= 2 * len(LABELS)
    assert len({text.casefold() for text, _ in pairs}) == len(pairs)  # no text stands for two labels
    assert set(labels) <= set(LABELS) and len(labels) == len(QUESTIONS)
    assert budget.usage["root"].completion_tokens > 0  # the writer's tokens, one call per label
    assert budget.sub_calls == len(LABELS) + len(QUESTIONS)
