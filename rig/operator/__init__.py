"""Manual steps: the rig asks, a person answers (terminal, panel or `rig answer`)."""

from rig.operator.answers import ANSWERS, Answer, post_answer, read_answer
from rig.operator.prompt import OperatorStepNotDone, Prompter

__all__ = ["ANSWERS", "Answer", "OperatorStepNotDone", "Prompter", "post_answer", "read_answer"]
