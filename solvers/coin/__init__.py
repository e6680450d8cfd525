"""The Coin Game and Algorithm 3 of Ivanov et al. (2024) (PAPER.md §5–6; docs/COIN.md).

Modules
-------
env            batched Coin Game (numpy) and the single-game reference, rule presets
pettingzoo_env PettingZoo ``ParallelEnv`` wrapper
dp             exact DP: welfare optimum, best responses (SPE / IC ratios)
networks       stacked Q-networks, observation encoding, minimal observed-action contracts
replay         vectorised prioritized replay
algorithm3     Algorithm 3's training phase (VDN principal, follow bits) and validation phase
baselines      independent DQN agents: validation agents, selfish, cooperative, constant share
common         schedules, seeding, evaluation metrics, exact ratios
config         the run's hyperparameters (paper defaults)
train          multi-phase trainer with checkpoints and exact resume; results JSON
ensemble       K seeds of a run trained as one batched computation (stacked networks)
plots          figures of the five metrics

The seeding, schedules, replay storage, checkpoints and it/s metric are shared with the deep
trainer (:mod:`solvers.rl`); the command line ``pamdp train coin`` is :mod:`pamdp.train`.
"""
