"""Shared test configuration of the Coin Game trainers (not a test module): the smallest 3×3
run that still exercises every phase, learning, target copies, evaluations and checkpoints.
Used by tests/test_coin_train.py and tests/test_coin_ensemble.py."""

from __future__ import annotations

from solvers.coin.config import Config

TINY = Config(
    preset="paper-3x3",
    iterations=60,
    validation_iterations=40,
    baseline_iterations=30,
    num_games=8,
    batch_size=32,
    learning_starts=64,
    target_update_every=10,
    eval_every=20,
    eval_episodes=8,
    checkpoint_every=25,
    buffer_size=2_000,
)
