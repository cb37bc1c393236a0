"""inspect-ai tasks for ox's importer edge cases (issue 10).

`nan_scores`: a numeric scorer that returns NaN for some samples (inspect then writes bare
`NaN` tokens in its JSON, as Python's json module does) and +/-inf for others.
Run with generation settings on the command line (--temperature, --top-p, ...): inspect keeps
those in the log's `plan.config`, while `eval.model_generate_config` stays empty.
"""
import math

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import Score, Target, mean, scorer, stderr
from inspect_ai.solver import TaskState, generate

from mock_answers import mock_model

QUESTIONS = [
    ("What is 2 + 3?", "5"),
    ("What is 7 * 6?", "42"),
    ("What is 10 - 4?", "6"),
    ("What is 81 / 9?", "9"),
]


@scorer(metrics=[mean(), stderr()])
def ratio():
    """Answer length divided by target length; NaN, inf or -inf on purpose for some ids."""
    async def score(state: TaskState, target: Target) -> Score:
        sid = state.sample_id
        special = {"q2": math.nan, "q3": math.inf, "q4": -math.inf}
        value = special.get(sid, len(state.output.completion) / len(target.text))
        return Score(value=value, answer=state.output.completion)
    return score


@task
def nan_scores():
    return Task(
        dataset=[Sample(id=f"q{i+1}", input=q, target=t) for i, (q, t) in enumerate(QUESTIONS)],
        solver=generate(),
        scorer=ratio(),
        model=mock_model(),
    )
