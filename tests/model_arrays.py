"""Shared test helper (not a test module): a model's numbers as exact nested lists, for
comparing two models number for number. Used by tests/test_format.py and tests/test_binary.py."""

from __future__ import annotations

from typing import Any


def exact_arrays(model: Any) -> tuple[Any, ...]:
    """Discount, outcome probabilities, rewards and transitions of ``model``, exactly."""
    data = model.exact_data()
    return (
        data.discount,
        data.outcome_probs.tolist(),
        data.agent_reward.tolist(),
        data.principal_reward.tolist(),
        data.transition_prob.tolist(),
        model.transition_next.tolist(),
        model.transition_offsets.tolist(),
    )
