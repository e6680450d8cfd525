"""Algorithm 2: deep Q-learning of the principal and the agent (PAPER.md §4; Ivanov et al. §4).

Networks: the principal's contractual Q-network ``q_θ(s, a^p)`` and the agent's truncated
Q-network ``Q̄_φ(s, a)`` (:mod:`solvers.deep.networks`), with target copies ``θ'``, ``φ'``.
Contracts are never learned: in any state the offered contract is the minimal implementation
(PAPER.md §1) of the recommended action computed from the agent network, optionally nudged,

    b*(s, a^p) = minimal_contracts(Q̄_φ(s, ·), 𝒪(s, ·, ·), a^p, ties=Ties(margin=ξ))

(``solvers.contracts``; the closed form for two outcomes, batched over states).

One iteration (paper defaults in :class:`~solvers.deep.config.DeepConfig`):

1. **Interact** — ``n = 8`` parallel copies of the environment each take one step: the
   principal recommends ``a^p`` ε-greedily over ``q_θ(s, ·)`` (uniformly among the actions
   implementable under ``Q̄_φ``), offers ``b*(s, a^p)``, and the agent best-responds with its own
   estimate, ``a = argmax_a E_{𝒪(s,a)}[b] + Q̄_φ(s, a)`` with ties to ``a^p`` — which *is*
   ``a^p`` whenever ``a^p`` is implementable, because the minimal contract makes the agent
   (weakly) prefer it. ``o ~ 𝒪(s, a)``, ``s' ~ T(s, o)``; ``(s, a^p, a, o, s', done)`` is
   stored.
2. **Learn** — one gradient step on a uniform batch of 128 with the targets of PAPER.md §4,

       y^p = r^p(s, o) − b*(s, a^p)(o) + γ (1 − done) max_{a'} q_θ'(s', a')
       y^a = r(s, a) + γ (1 − done) [ E_{𝒪(s', a'^p)} b*'(s', a'^p) + Q̄_φ'(s', a'^p) ],
             a'^p = argmax_{a'} q_θ(s', a'),

   where ``b*(s, a^p)`` is computed from the online ``Q̄_φ(s, ·)`` (the contract the principal
   would pay now) and ``b*'(s', ·)`` from the target ``Q̄_φ'(s', ·)`` (so the bracket is the
   target agent's own value of ``s'`` when ``a'^p`` is implemented minimally); maxima and
   argmaxima run over the actions implementable under the target agent. Terminal transitions
   (``T(s, o)`` empty: the tree's leaves) have no continuation. Losses are mean squared
   errors; both networks are updated simultaneously by one Adam step on the sum of the two
   losses (their parameters are disjoint, so this is two independent Adam updates).
3. Every 100 iterations ``θ' ← θ``, ``φ' ← φ``. The learning rate decays exponentially
   1e-3 → 1e-4, ε linearly 1 → 0.

Speed. A target network is frozen between copies and the state space is finite, so at each copy
the target networks are evaluated once on **every** state and the quantities the targets need —
``max_{a'} q_θ'(s', a')``, the target agent's value of ``s'`` for each ``a'^p`` and the
implementable mask — are stored as tables indexed by state: identical numbers to evaluating the
target networks on each batch, at a fraction of the cost. The first dense layer on a one-hot
state is a table lookup (:mod:`solvers.deep.networks`). The environment, the ε-greedy choice
and the contracts are vectorised over copies and batch rows; there is no per-sample Python loop.

With ``agent="exact"`` the agent network is replaced by the exact truncated Q of the agent when
the principal implements its current greedy recommendations minimally
(``solvers.meta_algorithm.agent_q_bar_minimal``), recomputed at every target copy: the deep
pipeline then reduces to the meta-algorithm (Algorithm 1) with a learned principal step, which
the tests use to cross-validate the principal's learning against backward induction.

Validation (:mod:`solvers.deep.validation`) pairs the current greedy principal with the exact
best-responding agent every ``validate_every`` iterations. Checkpoints hold everything the run
depends on — networks, targets and their tables, the optimizer, the replay buffer, the
environment states, the numpy generator state and the validation history — so a resumed run
continues exactly where it stopped: on the CPU a run killed and resumed ends bit for bit where an
uninterrupted run with the same seed ends (same torch build, same thread count).
"""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F

from solvers.contracts import (
    ContractSolution,
    best_response,
    minimal_contracts,
    minimal_contracts_all_actions,
)
from solvers.deep.config import DeepConfig, default_episode_length
from solvers.deep.environment import VectorEnv
from solvers.deep.networks import QNetwork
from solvers.deep.replay import Batch, ReplayBuffer
from solvers.deep.validation import ValidationRecord, Validator
from solvers.meta_algorithm import agent_q_bar_minimal
from solvers.rl.checkpoint import (
    CheckpointError,
    DeferredInterrupt,
    TrainingInterrupted,
    load_checkpoint,
    save_checkpoint,
)
from solvers.rl.metrics import Throughput
from solvers.rl.seeding import (
    FlushDenormals,
    generator_from_state,
    generator_state,
    restore_torch_rng,
    seed_everything,
    torch_rng_state,
)
from theory.model import PrincipalAgentMDP
from theory.ties import Ties, argmax_with_ties

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CHECKPOINT_FORMAT = "pamdp.deep.checkpoint/1"
#: largest ``|S|·|A|`` for which contracts with more than two outcomes are tabulated once per
#: set of agent parameters (:meth:`DeepTrainer._online_table`)
TABLE_LIMIT = 1024


def model_fingerprint(model: PrincipalAgentMDP) -> str:
    """SHA-256 of the instance's numbers, to refuse resuming on a different instance."""
    digest = hashlib.sha256()
    for array in (
        model.outcome_probs,
        model.agent_reward,
        model.principal_reward,
        model.transition_offsets,
        model.transition_next,
        model.transition_prob,
    ):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(repr((model.initial_state, model.discount)).encode())
    return digest.hexdigest()


def episode_length_of(model: PrincipalAgentMDP, config: DeepConfig) -> int | None:
    """The environment's episode length: ``config.episode_length``, else ``None`` for an
    episodic instance (its episodes end by themselves) and
    :func:`~solvers.deep.config.default_episode_length` for a cyclic one."""
    if config.episode_length is not None or model.is_episodic:
        return config.episode_length
    return default_episode_length(model.n_states, model.discount)


def weights_sha256(*networks: torch.nn.Module | None) -> str:
    """SHA-256 of the networks' parameters and buffers (names and bytes, in order)."""
    digest = hashlib.sha256()
    for network in networks:
        if network is None:
            continue
        for name, tensor in network.state_dict().items():
            digest.update(name.encode())
            digest.update(tensor.detach().to("cpu").contiguous().numpy().tobytes())
    return digest.hexdigest()


def _to_numpy(tensor: torch.Tensor) -> FloatArray:
    return tensor.detach().to("cpu", torch.float64).numpy()


@dataclass(frozen=True, eq=False)
class TrialResult:
    """The outcome of one training run.

    Attributes
    ----------
    seed : the run's seed.
    config : its hyperparameters.
    history : validation records at iterations 0, K, 2K, ..., ``config.iterations``.
    spe_principal, spe_agent : the SPE utilities at ``s0`` (the reference of the ratios).
    wall_seconds : training time of this process (excluding a resumed run's earlier part).
    iterations_run : iterations this process ran (``< config.iterations`` after a resume).
    iterations_per_second : ``iterations_run / wall_seconds``.
    resumed_from : the iteration the run resumed from (``None`` for a fresh run).
    weights_sha256 : :func:`weights_sha256` of the final principal and agent networks.
    throughput : the it/s metric of this process at every validation
        (:class:`solvers.rl.metrics.Throughput`).
    """

    seed: int
    config: DeepConfig
    history: tuple[ValidationRecord, ...]
    spe_principal: float
    spe_agent: float
    wall_seconds: float
    iterations_run: int
    iterations_per_second: float
    resumed_from: int | None = None
    weights_sha256: str = ""
    throughput: tuple[dict[str, float], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def final(self) -> ValidationRecord:
        return self.history[-1]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary; ``deterministic`` holds everything that must repeat exactly."""
        return {
            "deterministic": {
                "seed": self.seed,
                "config": self.config.to_dict(),
                "spe": {"principal_utility": self.spe_principal, "agent_utility": self.spe_agent},
                "final": self.final.to_dict(),
                "history": [record.to_dict() for record in self.history],
                "weights_sha256": self.weights_sha256,
            },
            "timing": {
                "wall_seconds": self.wall_seconds,
                "iterations_run": self.iterations_run,
                "iterations_per_second": self.iterations_per_second,
                "resumed_from": self.resumed_from,
                "throughput": list(self.throughput),
            },
            **self.extra,
        }


class DeepTrainer:
    """Algorithm 2 on one instance (module docstring).

    Parameters
    ----------
    model : any finite instance (FORMAT.md v1): any numbers of actions and outcomes, hidden or
        observed action, episodic or cyclic (then episodes are truncated after
        ``config.episode_length`` steps, :func:`episode_length_of`). The paper's tree
        (``theory.generators.paper_tree`` with the default config) is the preset of Fig. 3
        (:mod:`solvers.deep.presets`).
    config : hyperparameters (paper defaults).
    seed : seeds the network initialisation and the numpy generator
        (:func:`solvers.rl.seeding.seed_everything`).
    device : a torch device; contracts and validation always run on the CPU in float64.
    validator : reuse a :class:`Validator` (its SPE) across runs on the same instance.
    """

    def __init__(
        self,
        model: PrincipalAgentMDP,
        config: DeepConfig | None = None,
        *,
        seed: int = 0,
        device: str | torch.device = "cpu",
        validator: Validator | None = None,
    ) -> None:
        self.model = model
        self.config = config if config is not None else DeepConfig()
        # the nudging margin ξ travels as the one Ties object, down to the contract solver
        self._ties = Ties(margin=self.config.nudge)
        self.seed = int(seed)
        self.device = torch.device(device)
        self.gamma = float(model.discount if self.config.gamma is None else self.config.gamma)
        self.validator = validator if validator is not None else Validator(model)
        if validator is not None and validator.model is not model:
            raise ValueError("the validator belongs to another instance")
        self.fingerprint = model_fingerprint(model)
        # Adam's moments of rarely visited states decay geometrically into float32 denormals,
        # which the CPU processes ~100× slower: every computation of the trainer runs with
        # denormals flushed to zero (restored afterwards, so code running later is unaffected).
        with FlushDenormals():
            self._setup(model)

    def _setup(self, model: PrincipalAgentMDP) -> None:
        # ------------------------------------------------------------ seeding (crucial)
        self.rng = seed_everything(self.seed)
        n_s, n_a = model.n_states, model.n_actions
        hidden = self.config.hidden_sizes
        self.principal = QNetwork(n_s, n_a, hidden).to(self.device)
        self.agent: QNetwork | None = None
        parameters = list(self.principal.parameters())
        if self.config.agent == "network":
            self.agent = QNetwork(n_s, n_a, hidden).to(self.device)
            parameters += list(self.agent.parameters())
        self.principal_target = copy.deepcopy(self.principal).requires_grad_(False)
        self.agent_target = (
            copy.deepcopy(self.agent).requires_grad_(False) if self.agent is not None else None
        )
        fused = self.device.type in ("cpu", "cuda")
        self.optimizer = torch.optim.Adam(
            parameters, lr=self.config.learning_rate_start, fused=fused or None
        )
        for parameter in parameters:  # kept allocated, zeroed in place (see QNetwork.forward)
            parameter.grad = torch.zeros_like(parameter)
        networks = [self.principal] + ([self.agent] if self.agent is not None else [])
        self._table_grads: list[torch.Tensor] = [
            net.embedding.grad for net in networks if net.embedding.grad is not None
        ]
        self._dense_grads: list[torch.Tensor] = [
            p.grad
            for p in parameters
            if p.grad is not None and all(p is not net.embedding for net in networks)
        ]
        self._rows_with_grad = torch.zeros(0, dtype=torch.long, device=self.device)
        self._adam_lists: tuple[list[torch.Tensor], ...] | None = None
        # ------------------------------------------------------------ instance tables
        self._probs = model.outcome_probs
        self._agent_reward = model.agent_reward
        self._principal_reward = model.principal_reward
        self._all_states = torch.arange(n_s, device=self.device)
        self.env = VectorEnv(
            model, self.config.interactions_per_iteration, episode_length_of(model, self.config)
        )
        self.buffer = ReplayBuffer(self.config.buffer_size)
        # target tables (filled by _sync_targets)
        self._target_max_q = np.zeros(n_s)
        self._target_agent_value = np.zeros((n_s, n_a))
        self._target_implementable = np.ones((n_s, n_a), dtype=bool)
        self._exact_q_bar = np.zeros((n_s, n_a))
        self._contract_table: tuple[FloatArray, ContractSolution] | None = None
        if self.agent is None:  # the exact agent's Q̄ for the initial greedy principal
            recommended, _, _ = self.greedy_policy()
            self._exact_q_bar, _ = agent_q_bar_minimal(model, recommended, ties=self._ties)
        self.iteration = 0
        self._resumed_from: int | None = None
        self._losses: tuple[torch.Tensor, torch.Tensor] | None = None
        self.history: list[ValidationRecord] = [self.validate()]

    # ================================================================== policy helpers
    def _q_bar_online(self, states: IntArray, states_t: torch.Tensor | None = None) -> FloatArray:
        """The agent estimate behind the contracts: Q̄_φ(s, ·), or the exact table."""
        if self.agent is None:
            return self._exact_q_bar[states]
        if states_t is None:
            states_t = torch.from_numpy(states).to(self.device)
        with torch.no_grad():
            return _to_numpy(self.agent(states_t))

    def greedy_policy(self) -> tuple[IntArray, FloatArray, FloatArray]:
        """The current principal policy on every state: ``(a^p, b*(s, a^p), Q̄ used)``.

        ``a^p = argmax q_θ(s, ·)`` over the actions implementable under the agent estimate
        (lowest index among exact maxima), and the (nudged) minimal contract.
        """
        with torch.no_grad():
            q = _to_numpy(self.principal(self._all_states))
        states = np.arange(self.model.n_states)
        q_bar = self._q_bar_online(states, self._all_states)
        solution = minimal_contracts_all_actions(q_bar, self._probs, ties=self._ties)
        recommended = argmax_with_ties(q, solution.implementable)
        contracts = solution.contracts[states, recommended]
        return recommended, contracts, q_bar

    def validate(self) -> ValidationRecord:
        """Score the current greedy principal with the exact best-responding agent."""
        recommended, contracts, q_bar = self.greedy_policy()
        record, _ = self.validator.evaluate(recommended, contracts, q_bar, iteration=self.iteration)
        return record

    def weights_sha256(self) -> str:
        """:func:`weights_sha256` of the online principal and agent networks."""
        return weights_sha256(self.principal, self.agent)

    # ================================================================== contracts
    def _online_table(self) -> tuple[FloatArray, ContractSolution] | None:
        """With more than two outcomes on a small instance (``|S|·|A| ≤`` :data:`TABLE_LIMIT`):
        the online agent estimate on every state and the minimal contracts of every (state,
        action), computed once per set of agent parameters (cleared after every gradient step,
        and at every target copy in exact-agent mode) and shared by the interaction and the
        gradient step of an iteration — both use the same ``Q̄_φ`` (the update comes after
        them). One HiGHS LP per iteration instead of two; ``None`` otherwise (two outcomes: the
        closed form row by row, as always)."""
        model = self.model
        if model.n_outcomes == 2 or model.n_states * model.n_actions > TABLE_LIMIT:
            return None
        if self._contract_table is None:
            states = np.arange(model.n_states)
            q_bar = self._q_bar_online(states, self._all_states)
            self._contract_table = (
                q_bar,
                minimal_contracts_all_actions(q_bar, self._probs, ties=self._ties),
            )
        return self._contract_table

    def _contracts_all_actions(
        self, states: IntArray, q_bar: FloatArray | None
    ) -> tuple[FloatArray, ContractSolution]:
        """``(Q̄ rows, minimal contracts of every action)`` in the rows ``states``.

        Two outcomes: the closed form on every row, as always. More outcomes: from
        :meth:`_online_table`, or each distinct state solved once and the rows expanded (the
        same contracts, fewer LP blocks)."""
        table = self._online_table() if q_bar is None else None
        if table is not None:
            q_all, solution = table
            return q_all[states], ContractSolution(
                solution.contracts[states],
                solution.implementable[states],
                solution.expected_payment[states],
            )
        if q_bar is None:
            q_bar = self._q_bar_online(states)
        if self.model.n_outcomes == 2:
            return q_bar, minimal_contracts_all_actions(q_bar, self._probs[states], ties=self._ties)
        unique, first, inverse = np.unique(states, return_index=True, return_inverse=True)
        solution = minimal_contracts_all_actions(q_bar[first], self._probs[unique], ties=self._ties)
        return q_bar, ContractSolution(
            solution.contracts[inverse],
            solution.implementable[inverse],
            solution.expected_payment[inverse],
        )

    def _contracts(
        self, states: IntArray, q_bar: FloatArray, recommended: IntArray, *, table: bool = True
    ) -> FloatArray:
        """``b*(s, a^p | Q̄)`` per row (rows of one state share their ``q_bar``); with more
        than two outcomes from :meth:`_online_table`, or each distinct ``(s, a^p)`` pair as
        one LP block."""
        if self.model.n_outcomes == 2:
            return minimal_contracts(
                q_bar, self._probs[states], recommended, ties=self._ties
            ).contracts
        online = self._online_table() if table else None
        if online is not None:
            return online[1].contracts[states, recommended]
        keys = states * self.model.n_actions + recommended
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        solution = minimal_contracts(
            q_bar[first], self._probs[states[first]], recommended[first], ties=self._ties
        )
        return solution.contracts[inverse]

    # ================================================================== training steps
    def _sync_targets(self) -> None:
        """Hard copy θ' ← θ, φ' ← φ and tabulate what the targets need on every state."""
        n_s = self.model.n_states
        if self.agent is None:
            recommended, _, _ = self.greedy_policy()
            self._exact_q_bar, _ = agent_q_bar_minimal(self.model, recommended, ties=self._ties)
            self._contract_table = None
        self.principal_target.load_state_dict(self.principal.state_dict())
        if self.agent is not None and self.agent_target is not None:
            self.agent_target.load_state_dict(self.agent.state_dict())
        with torch.no_grad():
            q_target = _to_numpy(self.principal_target(self._all_states))
            q_bar_target = (
                _to_numpy(self.agent_target(self._all_states))
                if self.agent_target is not None
                else self._exact_q_bar
            )
        solution = minimal_contracts_all_actions(q_bar_target, self._probs, ties=self._ties)
        implementable = solution.implementable
        payment = np.nan_to_num(solution.expected_payment, nan=0.0)
        self._target_implementable = implementable
        # where no action is implementable (possible with a margin ξ > 0 and identical outcome
        # distributions; never in the tree) the maximum over all actions stands in, so that a
        # terminal transition's 0 · max stays 0 instead of 0 · (−∞) = nan
        self._target_max_q = np.where(
            implementable.any(axis=1),
            np.max(np.where(implementable, q_target, -np.inf), axis=1),
            q_target.max(axis=1),
        )
        # the agent's value of s' if a'^p is recommended; it ignores an unimplementable one
        fallback = np.broadcast_to(q_bar_target.max(axis=1, keepdims=True), q_bar_target.shape)
        self._target_agent_value = np.where(implementable, q_bar_target + payment, fallback)
        assert self._target_max_q.shape == (n_s,)

    def _interact(self, iteration: int) -> None:
        """Step 1: every environment copy takes one ε-greedy step (module docstring)."""
        states = self.env.states
        states_t = torch.from_numpy(states).to(self.device)
        with torch.no_grad():
            q = _to_numpy(self.principal(states_t))
        if self._online_table() is None:
            self._act(iteration, q, self._q_bar_online(states, states_t))
        else:
            self._act(iteration, q, None)

    def _act(self, iteration: int, q: FloatArray, q_bar: FloatArray | None) -> None:
        """Step 1 given the principal's ``q_θ`` and the agent estimate on the copies' states
        (``q_bar=None``: from :meth:`_online_table`): ε-greedy recommendation, minimal
        contract, the agent's best response, one environment step, store the transitions.
        Shared with :mod:`solvers.deep.ensemble`, which evaluates the networks batched."""
        states = self.env.states
        n, n_a = len(states), self.model.n_actions
        q_bar, solution = self._contracts_all_actions(states, q_bar)
        probs = self._probs[states]
        implementable = solution.implementable
        greedy = argmax_with_ties(q, implementable)
        explore = self.rng.random(n) < self.config.epsilon(iteration)
        random_pick = np.argmax(np.where(implementable, self.rng.random((n, n_a)), -1.0), axis=1)
        recommended = np.where(explore, random_pick, greedy).astype(np.int64)
        contracts = solution.contracts[np.arange(n), recommended]
        actions = best_response(q_bar, probs, contracts, recommended)
        step = self.env.step(actions, self.rng)
        self.buffer.add(states, recommended, actions, step.outcomes, step.next_states, step.done)

    def _principal_targets(
        self, batch: Batch, q_bar: FloatArray, *, table: bool = True
    ) -> FloatArray:
        """``y^p = r^p(s, o) − b*(s, a^p | Q̄_φ)(o) + γ (1 − done) max_{a'} q_θ'(s', a')``
        (``q_bar = Q̄_φ(s, ·)`` per row; ``table=False``: never from :meth:`_online_table`)."""
        rows = np.arange(len(batch.states))
        s, s2 = batch.states, batch.next_states
        contracts = self._contracts(s, q_bar, batch.recommended, table=table)
        paid = contracts[rows, batch.outcomes]
        continuation = self.gamma * (~batch.done)
        return (
            self._principal_reward[s, batch.outcomes] - paid + continuation * self._target_max_q[s2]
        )

    def _agent_targets(self, batch: Batch, q_next: FloatArray) -> FloatArray:
        """``y^a = r(s, a) + γ (1 − done) [value of s' to the target agent when
        a'^p = argmax q_θ(s', ·) is implemented minimally]`` (``q_next = q_θ(s', ·)``)."""
        s, s2 = batch.states, batch.next_states
        continuation = self.gamma * (~batch.done)
        next_rec = argmax_with_ties(q_next, self._target_implementable[s2])
        return (
            self._agent_reward[s, batch.actions]
            + continuation * self._target_agent_value[s2, next_rec]
        )

    def _gradient_step(self, iteration: int) -> None:
        """Step 2: one Adam step on both networks' mean squared TD errors.

        The networks are evaluated once per *distinct* state of the batch and the rows are
        expanded afterwards (states near the root recur often in a batch): the same losses and
        gradients as a row-by-row evaluation, with less work.
        """
        config = self.config
        lr = config.learning_rate(iteration)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        batch = self.buffer.sample(config.batch_size, self.rng)
        n_a = self.model.n_actions
        s, s2 = batch.states, batch.next_states
        device = self.device
        unique, inverse = np.unique(s, return_inverse=True)
        unique_t = torch.from_numpy(unique).to(device)
        q_unique = self.principal(unique_t)
        q_bar_unique = self.agent(unique_t) if self.agent is not None else None
        q_bar = (
            _to_numpy(q_bar_unique)[inverse] if q_bar_unique is not None else self._exact_q_bar[s]
        )
        y_principal = self._principal_targets(batch, q_bar)
        pick = torch.from_numpy(inverse * n_a + batch.recommended).to(device)
        loss_principal = F.mse_loss(
            q_unique.reshape(-1).index_select(0, pick),
            torch.from_numpy(y_principal).to(device, q_unique.dtype),
        )
        loss = loss_principal
        loss_agent = torch.zeros((), device=device)
        if q_bar_unique is not None:
            unique_next, inverse_next = np.unique(s2, return_inverse=True)
            with torch.no_grad():
                q_next = _to_numpy(self.principal(torch.from_numpy(unique_next).to(device)))[
                    inverse_next
                ]
            y_agent = self._agent_targets(batch, q_next)
            pick_agent = torch.from_numpy(inverse * n_a + batch.actions).to(device)
            loss_agent = F.mse_loss(
                q_bar_unique.reshape(-1).index_select(0, pick_agent),
                torch.from_numpy(y_agent).to(device, q_bar_unique.dtype),
            )
            loss = loss + loss_agent
        self._zero_grad()
        loss.backward()
        self._rows_with_grad = unique_t
        self._adam_step()
        if self.agent is not None:
            self._contract_table = None  # the agent network changed
        self._losses = (loss_principal.detach(), loss_agent.detach())

    def _adam_step(self) -> None:
        """``optimizer.step()`` for the fused Adam, without its per-call bookkeeping.

        ``torch.optim.Adam(fused=True).step`` regroups its tensors and checks its options on
        every call; this calls the same kernel (``torch._fused_adam_``) on the same state
        tensors with the same arguments, so the numbers are bitwise those of ``step()``
        (tested). The first step goes through ``step()`` to create the state; the optimizer
        keeps owning it, so its ``state_dict`` (checkpoints) is unchanged. Relies on the
        private kernel of the pinned torch (constraints.txt).
        """
        group = self.optimizer.param_groups[0]
        if (
            self._adam_lists is None
            or not group.get("fused")
            or len(self.optimizer.param_groups) != 1
            or group["amsgrad"]
            or group["weight_decay"]
            or group["maximize"]
            or group.get("decoupled_weight_decay")
            # the optimizer's state was replaced behind our back (e.g. load_state_dict)
            or self.optimizer.state[self._adam_lists[0][0]].get("exp_avg")
            is not self._adam_lists[2][0]
        ):
            self.optimizer.step()
            params = [p for p in group["params"] if p.grad is not None]
            states = [self.optimizer.state[p] for p in params]
            if group.get("fused") and all("step" in s for s in states):
                self._adam_lists = (
                    params,
                    [p.grad for p in params],
                    [s["exp_avg"] for s in states],
                    [s["exp_avg_sq"] for s in states],
                    [s["step"] for s in states],
                )
            return
        params, grads, exp_avgs, exp_avg_sqs, steps = self._adam_lists
        beta1, beta2 = group["betas"]
        torch._foreach_add_(steps, 1)
        torch._fused_adam_(
            params,
            grads,
            exp_avgs,
            exp_avg_sqs,
            [],
            steps,
            amsgrad=False,
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            weight_decay=0.0,
            eps=group["eps"],
            maximize=False,
            grad_scale=None,
            found_inf=None,
        )

    def _zero_grad(self) -> None:
        """Zero the gradients in place; the tables only in the rows the last step wrote."""
        torch._foreach_zero_(self._dense_grads)
        for grad in self._table_grads:
            grad.index_fill_(0, self._rows_with_grad, 0.0)

    # ================================================================== main loop
    def train(
        self,
        *,
        stop_at: int | None = None,
        checkpoint_path: str | Path | None = None,
        progress: bool = False,
        callback: Callable[[DeepTrainer, ValidationRecord], None] | None = None,
    ) -> TrialResult:
        """Run (or continue) training up to ``config.iterations``.

        Parameters
        ----------
        stop_at : stop after this many iterations (in total) instead — a deliberate
            interruption, used to test resuming.
        checkpoint_path : where to write a checkpoint every ``config.checkpoint_every``
            iterations and on Ctrl-C (atomically: written next to it, then renamed).
        progress : show a tqdm progress bar (iterations per second, current ratios).
        callback : called with every new validation record.

        Raises
        ------
        TrainingInterrupted
            On Ctrl-C (SIGINT, in the main thread): the iteration in progress is finished, the
            checkpoint written (when ``checkpoint_path`` is given), then this is raised; resuming
            from it loses no iteration (:class:`solvers.rl.checkpoint.DeferredInterrupt`).
        """
        with FlushDenormals(), DeferredInterrupt() as interrupt:
            return self._train(stop_at, checkpoint_path, progress, callback, interrupt)

    def _train(
        self,
        stop_at: int | None,
        checkpoint_path: str | Path | None,
        progress: bool,
        callback: Callable[[DeepTrainer, ValidationRecord], None] | None,
        interrupt: DeferredInterrupt,
    ) -> TrialResult:
        config = self.config
        stop = config.iterations if stop_at is None else min(stop_at, config.iterations)
        start_iteration = self.iteration
        resumed_from = self._resumed_from
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(
                total=config.iterations,
                initial=self.iteration,
                unit="it",
                dynamic_ncols=True,
                mininterval=0.5,
            )
        started = time.perf_counter()
        throughput = Throughput(self.iteration)
        try:
            for t in range(self.iteration, stop):
                if t % config.target_update_every == 0:
                    self._sync_targets()
                self._interact(t)
                if len(self.buffer) >= max(config.learning_starts, 1):
                    self._gradient_step(t)
                self.iteration = t + 1
                if (
                    self.iteration % config.validate_every == 0
                    or self.iteration == config.iterations
                ):
                    record = self.validate()
                    self.history.append(record)
                    throughput.log(self.iteration)
                    if callback is not None:
                        callback(self, record)
                    if bar is not None:
                        bar.set_postfix(
                            principal=f"{record.principal_ratio:.3f}",
                            accuracy=f"{record.accuracy:.3f}",
                            refresh=False,
                        )
                if (
                    checkpoint_path is not None
                    and config.checkpoint_every
                    and self.iteration % config.checkpoint_every == 0
                ):
                    self.save_checkpoint(checkpoint_path)
                if bar is not None:
                    bar.update(1)
                if interrupt.requested and self.iteration < stop:
                    path = None
                    if checkpoint_path is not None:
                        self.save_checkpoint(checkpoint_path)
                        path = Path(checkpoint_path)
                    raise TrainingInterrupted(self.iteration, path)
        finally:
            if bar is not None:
                bar.close()
        wall = time.perf_counter() - started
        ran = self.iteration - start_iteration
        return TrialResult(
            seed=self.seed,
            config=config,
            history=tuple(self.history),
            spe_principal=self.validator.spe_principal,
            spe_agent=self.validator.spe_agent,
            wall_seconds=wall,
            iterations_run=ran,
            iterations_per_second=ran / wall if wall > 0 else float("nan"),
            resumed_from=resumed_from,
            weights_sha256=self.weights_sha256(),
            throughput=tuple(throughput.records),
        )

    # ================================================================== checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs (tensors, ints, floats, strings and lists only, so
        the checkpoint loads with ``torch.load(weights_only=True)``)."""

        def tensor(array: npt.NDArray[Any]) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(array).copy())

        buffer = self.buffer.state_dict()
        return {
            "format": CHECKPOINT_FORMAT,
            "fingerprint": self.fingerprint,
            "seed": self.seed,
            "config": self.config.to_dict(),
            "iteration": self.iteration,
            "principal": self.principal.state_dict(),
            "principal_target": self.principal_target.state_dict(),
            "agent": self.agent.state_dict() if self.agent is not None else None,
            "agent_target": (
                self.agent_target.state_dict() if self.agent_target is not None else None
            ),
            "optimizer": self.optimizer.state_dict(),
            "tables": {
                "target_max_q": tensor(self._target_max_q),
                "target_agent_value": tensor(self._target_agent_value),
                "target_implementable": tensor(self._target_implementable),
                "exact_q_bar": tensor(self._exact_q_bar),
            },
            "buffer": {
                key: tensor(value) if isinstance(value, np.ndarray) else value
                for key, value in buffer.items()
            },
            "env_states": tensor(self.env.states),
            "env_steps": tensor(self.env.steps),
            "rng": generator_state(self.rng),
            "torch_rng": torch_rng_state(),
            "history": [record.to_dict() for record in self.history],
        }

    def save_checkpoint(self, path: str | Path) -> None:
        """Write :meth:`state_dict` atomically to ``path``
        (:func:`solvers.rl.checkpoint.save_checkpoint`)."""
        save_checkpoint(path, self.state_dict())

    def load_state_dict(self, data: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` of a run on the same instance and configuration."""
        if data.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(f"not a deep-trainer checkpoint (format {data.get('format')!r})")
        if data["fingerprint"] != self.fingerprint:
            raise CheckpointError("the checkpoint was written for a different instance")
        if DeepConfig.from_dict(data["config"]) != self.config:
            raise CheckpointError("the checkpoint was written with a different configuration")
        if int(data["seed"]) != self.seed:
            raise CheckpointError(f"the checkpoint has seed {data['seed']}, not {self.seed}")
        self.iteration = int(data["iteration"])
        self.principal.load_state_dict(data["principal"])
        self.principal_target.load_state_dict(data["principal_target"])
        if self.agent is not None and self.agent_target is not None:
            self.agent.load_state_dict(data["agent"])
            self.agent_target.load_state_dict(data["agent_target"])
        self.optimizer.load_state_dict(data["optimizer"])
        self._adam_lists = None  # the optimizer's state tensors were replaced
        tables = data["tables"]
        self._target_max_q = tables["target_max_q"].numpy().copy()
        self._target_agent_value = tables["target_agent_value"].numpy().copy()
        self._target_implementable = tables["target_implementable"].numpy().copy()
        self._exact_q_bar = tables["exact_q_bar"].numpy().copy()
        self._contract_table = None
        self.buffer.load_state_dict(
            {
                key: value.numpy() if isinstance(value, torch.Tensor) else value
                for key, value in data["buffer"].items()
            }
        )
        self.env.states = data["env_states"].numpy().copy()
        if "env_steps" in data:
            self.env.steps = data["env_steps"].numpy().copy()
        self.rng = generator_from_state(data["rng"])
        restore_torch_rng(data["torch_rng"])
        self.history = [ValidationRecord.from_dict(record) for record in data["history"]]
        self._resumed_from = self.iteration

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path,
        model: PrincipalAgentMDP,
        *,
        device: str | torch.device = "cpu",
        validator: Validator | None = None,
    ) -> DeepTrainer:
        """Rebuild a trainer from a checkpoint written by :meth:`save_checkpoint`."""
        data = load_checkpoint(path, weights_only=True)
        if data.get("format") != CHECKPOINT_FORMAT or "config" not in data:
            raise CheckpointError(f"{path}: not a deep-trainer checkpoint")
        trainer = cls(
            model,
            DeepConfig.from_dict(data["config"]),
            seed=int(data["seed"]),
            device=device,
            validator=validator,
        )
        trainer.load_state_dict(data)
        return trainer
