"""Pieces shared by the Coin Game learners: schedules, seeding, evaluation, exact ratios.

Schedules (PAPER.md §6; :mod:`solvers.rl.schedules`, the deep trainer's too): ε decays
linearly from ``epsilon_start`` to ``epsilon_end`` over ``epsilon_fraction`` of a phase; the
learning rate decays exponentially from ``learning_rate_start`` to ``learning_rate_end``; both
reach their end value at the phase's last iteration.

Metrics (PAPER.md §6), measured with greedy policies over ``eval_episodes`` episodes played at
once on a separately seeded batch (the same episodes' randomness at every evaluation):

* **welfare**: mean over episodes of ``Σ_t (r_red + r_blue)`` (payments are transfers and do not
  count);
* **proportion paid**: ``Σ payments / Σ welfare`` over the evaluation;
* **accuracy**: share of (agent, step) pairs where the agent played its recommendation;
  (``None`` where not applicable: no recommendations, or no welfare to take a share of)
* **SPE ratio**: blue's best-response value ÷ its value when following, red following;
* **IC ratio**: the same with red playing its own (selfish) policy.
The two ratios are computed exactly by dynamic programming (:mod:`solvers.coin.dp`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from solvers.coin.config import Config
from solvers.coin.dp import TabularCoinGame
from solvers.coin.env import NUM_ACTIONS, BatchedCoinGame, CoinGameRules
from solvers.coin.networks import Member, QNet, encode, minimal_payment
from solvers.rl.seeding import generator_state, restore_generator

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: ``(states (B, 4) long tensor) -> (actions (B, 2), recommendations (B, 2) or None,
#: payments (B, 2) or None)`` — a greedy joint policy for evaluation.
EvalPolicy = Callable[[torch.Tensor], tuple[IntArray, IntArray | None, FloatArray | None]]


def epsilon(cfg: Config, it: int, total: int) -> float:
    """Linear ε schedule of a phase of ``total`` iterations
    (:func:`solvers.rl.schedules.linear`)."""
    return cfg.epsilon_at(it, total)


def learning_rate(cfg: Config, it: int, total: int) -> float:
    """Exponential learning-rate schedule (:func:`solvers.rl.schedules.exponential`)."""
    return cfg.learning_rate_at(it, total)


def seeds(cfg: Config, phase: str) -> np.random.SeedSequence:
    """The phase's seed sequence, derived from ``cfg.seed`` and the phase name only."""
    tag = [ord(c) for c in phase]
    return np.random.SeedSequence([cfg.seed, *tag])


def make_net(cfg: Config, rules: CoinGameRules, extra: int, members: int, seed: int) -> QNet:
    """A :class:`QNet` with the config's architecture."""
    return QNet(
        rules.grid_size,
        extra,
        members=members,
        seed=seed,
        channels=cfg.channels,
        hidden=cfg.hidden,
        kernel=cfg.kernel,
    ).to(cfg.device)


FOLLOW_ALL = 1


def bits_input(follow: torch.Tensor) -> torch.Tensor:
    """``(M, 2, 2)`` agent-network bit input ``(f_i, f_{−i})`` for each agent of ``(M, 2)`` bits."""
    f = follow.float()
    return torch.stack([f, f.flip(-1)], dim=-1)


QFunction = Callable[..., torch.Tensor]
"""``(obs (1, M, 4, N, N), extra (1, M, X) | None) -> (1, M, A)``: a :class:`Member` or one-member
:class:`QNet`."""


def principal_greedy(principal: QFunction, obs: torch.Tensor) -> torch.Tensor:
    """``(M, 2)`` VDN-greedy recommendations: each agent's ``argmax_a q_i(s, a)``."""
    m = obs.shape[0]
    q = principal(obs.reshape(1, 2 * m, *obs.shape[2:])).view(m, 2, NUM_ACTIONS)
    return q.argmax(-1)


def contract_payments(
    agent: QFunction, obs: torch.Tensor, recommended: torch.Tensor, nudge: float
) -> torch.Tensor:
    """``(M, 2)`` minimal (nudged) payments ``b*_i(s, a^p_i)`` from ``Q̄((s, f = 1), ·)``."""
    m = obs.shape[0]
    ones = bits_input(torch.ones(m, 2, dtype=torch.long, device=obs.device))
    q = agent(obs.reshape(1, 2 * m, *obs.shape[2:]), ones.view(1, 2 * m, 2)).view(m, 2, -1)
    return minimal_payment(q, recommended, nudge)


def recommend(joint: QNet, obs: torch.Tensor, nudge: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Greedy recommendations and their nudged minimal payments in one fused forward pass.

    ``joint`` stacks the principal (member 0) and the agent network (member 1); equivalent to
    :func:`principal_greedy` followed by :func:`contract_payments`.
    """
    m = obs.shape[0]
    flat = obs.reshape(1, 2 * m, *obs.shape[2:]).expand(2, -1, -1, -1, -1)
    extra = torch.zeros(2, 2 * m, 2, device=obs.device)
    extra[1] = 1.0
    q = joint(flat, extra).view(2, m, 2, NUM_ACTIONS)
    rec = q[0].argmax(-1)
    return rec, minimal_payment(q[1], rec, nudge)


@dataclass(frozen=True)
class Evaluation:
    """Metrics of one evaluation (see module docstring)."""

    welfare: float
    payments: float
    proportion_paid: float | None
    accuracy: float | None
    red_return: float
    blue_return: float

    def as_dict(self) -> dict[str, float | None]:
        """Plain dictionary."""
        return {
            "welfare": self.welfare,
            "payments": self.payments,
            "proportion_paid": self.proportion_paid,
            "accuracy": self.accuracy,
            "red_return": self.red_return,
            "blue_return": self.blue_return,
        }


def evaluate(
    rules: CoinGameRules, episodes: int, seed: int, policy: EvalPolicy, device: str
) -> Evaluation:
    """Play ``episodes`` games at once with a greedy joint policy and measure the metrics.

    Payments count only where the agent followed its recommendation (Algorithm 3).
    """
    env = BatchedCoinGame(episodes, rules, np.random.default_rng(seed))
    returns = np.zeros((episodes, 2))
    paid = 0.0
    followed = 0
    recommended_total = 0
    done = False
    while not done:
        st = torch.from_numpy(env.state).to(device)
        actions, rec, pay = policy(st)
        res = env.step(actions)
        returns += res.rewards
        if rec is not None:
            follow = actions == rec
            followed += int(follow.sum())
            recommended_total += follow.size
            if pay is not None:
                paid += float((pay * follow).sum())
        done = res.done
    welfare = float(returns.sum(axis=1).mean())
    payments = paid / episodes
    return Evaluation(
        welfare=welfare,
        payments=payments,
        proportion_paid=payments / welfare if welfare > 0 else None,
        accuracy=followed / recommended_total if recommended_total else None,
        red_return=float(returns[:, 0].mean()),
        blue_return=float(returns[:, 1].mean()),
    )


class RatioEvaluator:
    """Exact SPE and IC ratios of a principal (module docstring), over every state."""

    def __init__(self, rules: CoinGameRules, device: str) -> None:
        self.table = TabularCoinGame(rules)
        self.states = torch.from_numpy(self.table.states()).to(device)
        self.grid = rules.grid_size

    @torch.no_grad()
    def __call__(self, joint: QNet, nudge: float) -> tuple[float, float]:
        """``(SPE ratio, IC ratio)`` for blue; red follows, resp. plays its selfish policy.

        ``joint`` stacks principal (member 0) and agent network (member 1). Red's selfish
        policy is the agent network's greedy move with bits ``f = (0, 1)``.
        """
        agent = Member(joint, 1)
        chunks_rec, chunks_pay, chunks_self = [], [], []
        for part in torch.split(self.states, 16_384):
            obs = encode(part, self.grid)
            rec, pay = recommend(joint, obs, nudge)
            m = part.shape[0]
            f = torch.zeros(m, 2, dtype=torch.long, device=part.device)
            f[:, 1] = 1
            bits = bits_input(f)
            q = agent(obs.reshape(1, 2 * m, *obs.shape[2:]), bits.view(1, 2 * m, 2))
            chunks_rec.append(rec.cpu())
            chunks_pay.append(pay.cpu())
            chunks_self.append(q.view(m, 2, -1)[:, 0].argmax(-1).cpu())
        rec_np = torch.cat(chunks_rec).numpy().astype(np.int64)
        pay_np = torch.cat(chunks_pay).double().numpy()
        red_self = torch.cat(chunks_self).numpy().astype(np.int64)
        spe = self.table.best_response_ratio(1, rec_np[:, 0], rec_np[:, 1], pay_np[:, 1])
        ic = self.table.best_response_ratio(1, red_self, rec_np[:, 1], pay_np[:, 1])
        return spe, ic


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """Checkpoint-safe state of a generator (:func:`solvers.rl.seeding.generator_state`)."""
    return generator_state(rng)


def set_rng_state(rng: np.random.Generator, state: dict[str, Any]) -> None:
    """Restore :func:`rng_state`."""
    restore_generator(rng, state)


def env_state(env: BatchedCoinGame) -> dict[str, object]:
    """Picklable state of a batched game (positions, clock, generator)."""
    return {"state": env.state, "t": env.t, "rng": rng_state(env.rng)}


def set_env_state(env: BatchedCoinGame, state: dict[str, object]) -> None:
    """Restore :func:`env_state`."""
    env.set_state(np.asarray(state["state"]), int(state["t"]))  # type: ignore[call-overload]
    set_rng_state(env.rng, state["rng"])  # type: ignore[arg-type]


def trainer_state(trainer: Any) -> dict[str, Any]:
    """The checkpoint fields every Coin Game DQN trainer has (networks, optimiser, replay,
    environment, generator, iteration, curve, elapsed time); each trainer adds its own."""
    return {
        "net": trainer.net.state_dict(),
        "target": trainer.target.state_dict(),
        "opt": trainer.opt.state_dict(),
        "replay": trainer.replay.state_dict(),
        "env": env_state(trainer.env),
        "rng": rng_state(trainer.rng),
        "it": trainer.it,
        "curve": list(trainer.curve),
        "elapsed": trainer.elapsed,
    }


def load_trainer_state(trainer: Any, state: dict[str, Any]) -> None:
    """Restore the fields of :func:`trainer_state`."""
    trainer.net.load_state_dict(state["net"])
    trainer.target.load_state_dict(state["target"])
    trainer.opt.load_state_dict(state["opt"])
    trainer.replay.load_state_dict(state["replay"])
    set_env_state(trainer.env, state["env"])
    set_rng_state(trainer.rng, state["rng"])
    trainer.it = int(state["it"])
    trainer.curve = list(state["curve"])
    trainer.elapsed = float(state["elapsed"])
