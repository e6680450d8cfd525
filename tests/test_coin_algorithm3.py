"""Algorithm 3 (solvers.coin.algorithm3; PAPER.md §5): the fused gradient step against a plain
re-implementation of its targets, the acting rules (followers play the recommendation), the
validation agents' setup, and a short seeded run that beats the selfish baseline."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest
import torch

from solvers.coin.algorithm3 import TrainingPhase, validation_phase
from solvers.coin.baselines import IndependentDQN
from solvers.coin.common import contract_payments, principal_greedy, recommend
from solvers.coin.config import Config
from solvers.coin.env import preset
from solvers.coin.networks import Member, encode, minimal_payment

RULES = preset("paper-3x3")
SMALL = Config(
    preset="paper-3x3",
    num_games=8,
    batch_size=16,
    learning_starts=40,
    iterations=200,
    nudge=0.3,
    exact_ratios=False,
)


def reference_losses(phase: TrainingPhase) -> tuple[float, float]:
    """Algorithm 3's two losses on the batches the phase is about to sample, written plainly
    per agent with separate forward passes of the principal and agent members."""
    cfg, m = phase.cfg, phase.cfg.batch_size
    rng = copy.deepcopy(phase.rng)
    _, bp = phase.replay.sample("principal", m, rng)
    _, ba = phase.replay.sample("agent", m, rng)
    principal, agent = Member(phase.net, 0), Member(phase.net, 1)
    principal_t, agent_t = Member(phase.target, 0), Member(phase.target, 1)

    def q_of(fn, obs_i, bits=None):
        return fn(obs_i.unsqueeze(0), None if bits is None else bits.unsqueeze(0))[0]

    with torch.no_grad():
        obs = encode(torch.from_numpy(bp["state"]), 3)
        obs2 = encode(torch.from_numpy(bp["next_state"]), 3)
        y = torch.from_numpy(bp["reward"]).double().sum(1)
        q = torch.zeros(m, dtype=torch.float64)
        for i in range(2):
            a_i = torch.from_numpy(bp["action"][:, i])
            ones = torch.ones(m, 2)
            pay = minimal_payment(q_of(agent, obs[:, i], ones), a_i, cfg.nudge)
            v_next = q_of(principal_t, obs2[:, i]).max(1).values
            y += -cfg.principal_alpha * pay + cfg.gamma * v_next
            q += q_of(principal, obs[:, i]).gather(1, a_i[:, None]).squeeze(1)
        loss_p = float(((y - q) ** 2).mean())

        obs = encode(torch.from_numpy(ba["state"]), 3)
        obs2 = encode(torch.from_numpy(ba["next_state"]), 3)
        f = torch.from_numpy(ba["follow"])
        sq = []
        for i in range(2):
            bits = torch.stack([f[:, i], f[:, 1 - i]], 1).float()
            rec2 = q_of(principal, obs2[:, i]).argmax(1)
            b2 = minimal_payment(q_of(agent_t, obs2[:, i], torch.ones(m, 2)), rec2, cfg.nudge)
            qf = q_of(agent_t, obs2[:, i], bits)
            cont = torch.where(
                f[:, i] == 1, b2 + qf.gather(1, rec2[:, None]).squeeze(1), qf.max(1).values
            )
            y_i = torch.from_numpy(ba["reward"][:, i]) + cfg.gamma * cont
            a_i = torch.from_numpy(ba["action"][:, i])
            q_i = q_of(agent, obs[:, i], bits).gather(1, a_i[:, None]).squeeze(1)
            sq.append((y_i - q_i) ** 2)
        loss_a = float(torch.stack(sq, 1).mean())
    return loss_p, loss_a


def test_fused_update_matches_plain_targets():
    torch.set_num_threads(1)
    phase = TrainingPhase(SMALL, RULES)
    for _ in range(30):  # fill the buffer past learning_starts, a few updates done
        phase.step()
    for _ in range(3):
        expected = reference_losses(phase)
        got = phase._update()
        assert got == pytest.approx(expected, rel=1e-4, abs=1e-6)


def test_recommend_is_principal_greedy_plus_minimal_payment():
    phase = TrainingPhase(SMALL, RULES)
    obs = encode(torch.from_numpy(phase.env.state), 3)
    with torch.no_grad():
        rec, pay = recommend(phase.net, obs, 0.3)
        rec2 = principal_greedy(phase.principal, obs)
        pay2 = contract_payments(phase.agent, obs, rec2, 0.3)
    assert torch.equal(rec, rec2)
    torch.testing.assert_close(pay, pay2)


def test_followers_play_the_recommendation_and_bits_are_per_episode():
    cfg = replace(SMALL, epsilon_start=0.0, learning_starts=10**6, follow_prob=0.5)
    phase = TrainingPhase(cfg, RULES)
    for _ in range(40):
        phase.step()
    data = phase.replay.data
    n = phase.replay.size
    obs = encode(torch.from_numpy(data["state"][:n]), 3)
    with torch.no_grad():
        rec = principal_greedy(phase.principal, obs).numpy()
    follow = data["follow"][:n]
    assert follow.any() and (1 - follow).any()
    np.testing.assert_array_equal(data["action"][:n][follow == 1], rec[follow == 1])
    # bits are constant within an episode (20 steps of 8 games are 160 rows)
    per_episode = follow[:160].reshape(20, 8, 2)
    assert (per_episode == per_episode[0]).all()


def test_validation_agents_are_fresh_and_principal_frozen():
    phase = TrainingPhase(SMALL, RULES)
    for _ in range(50):
        phase.step()
    val = validation_phase(SMALL, RULES, phase)
    assert isinstance(val, IndependentDQN) and val.mode == "validation"
    assert val.principal is not None and val.principal is not phase.net
    before = {k: v.clone() for k, v in val.principal.state_dict().items()}
    for _ in range(60):
        val.step()
    for k, v in val.principal.state_dict().items():
        assert torch.equal(v, before[k])
    assert val.replay.size == 60 * SMALL.num_games


def test_short_seeded_run_improves_welfare_over_selfish():
    """A short Algorithm 3 run: the validation agents (fresh, selfish, paid iff they follow)
    reach more welfare than selfish agents trained as long, on the same seed."""
    torch.set_num_threads(1)
    cfg = Config(
        preset="paper-3x3",
        num_games=32,
        iterations=1_500,
        validation_iterations=1_000,
        baseline_iterations=1_000,
        learning_starts=2_000,
        nudge=0.5,
        eval_episodes=200,
        exact_ratios=False,
    )
    train = TrainingPhase(cfg, RULES)
    for _ in range(cfg.iterations):
        train.step()
    val = validation_phase(cfg, RULES, train)
    selfish = IndependentDQN(cfg, RULES, "selfish", cfg.baseline_iterations, "selfish")
    for _ in range(cfg.validation_iterations):
        val.step()
        selfish.step()
    w_val = val.evaluate()["welfare"]
    w_selfish = selfish.evaluate()["welfare"]
    assert w_val > w_selfish + 1.0, (w_val, w_selfish)
