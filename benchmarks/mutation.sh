#!/usr/bin/env bash
# Mutation testing of the contract solvers, backward induction and the SPE checker
# (docs/MUTATION.md describes the method, the scores and the equivalent mutants).
#
# Usage, from any directory of a checkout whose .venv has the dev extra installed
# (pip install -e '.[dev]', which pins mutmut):
#
#     benchmarks/mutation.sh            # full exact_contracts run + 1-in-10 sample of the rest
#     SAMPLE_EVERY=1 benchmarks/mutation.sh   # every mutant of all four files (hours on 1 core)
#     benchmarks/mutation.sh survivors  # re-run only the mutants that survived last time
#     benchmarks/mutation.sh summary    # print the score table of the last run
#
# Nothing is run inside the checkout: the tree (without .git, .venv and caches) is copied to
# $MUTATION_WORKDIR (default /tmp/pamdp-mutation), a [tool.mutmut] section is appended to the
# copy's pyproject.toml, and mutmut works in $MUTATION_WORKDIR/mutants. One worker
# (--max-children 1); the tests of each mutant are the ones of TESTS below that execute the
# mutated function, run with -x -p no:cacheprovider under HYPOTHESIS_PROFILE=ci (derandomized,
# so a mutant's verdict is reproducible).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${MUTATION_WORKDIR:-/tmp/pamdp-mutation}
VENV=${VENV:-$ROOT/.venv}
MUTMUT="$VENV/bin/mutmut"
PYTHON="$VENV/bin/python"
SAMPLE_EVERY=${SAMPLE_EVERY:-10}
MODE=${1:-run}

FULL_FILES=(theory/exact_contracts.py)
SAMPLED_FILES=(solvers/contracts.py solvers/backward_induction.py theory/spe.py)
TESTS=(
    tests/test_contracts.py tests/test_backward_induction.py tests/test_exact_contracts.py
    tests/test_spe.py tests/test_solve.py tests/test_verify.py tests/test_ties.py
    tests/test_mutation_properties.py
)
export HYPOTHESIS_PROFILE=ci PAMDP_PROFILE=ci

toml_list() { # toml_list a b c -> ["a", "b", "c"]
    local out="" item
    for item in "$@"; do out+="${out:+, }\"$item\""; done
    printf '[%s]' "$out"
}

prepare() {
    rm -rf "$WORK"
    mkdir -p "$WORK"
    (cd "$ROOT" && tar -cf - --exclude=./.venv --exclude=./.git --exclude=./.mypy_cache \
        --exclude=./.hypothesis --exclude=./.ruff_cache --exclude=__pycache__ \
        --exclude=./mutants .) | (cd "$WORK" && tar -xf -)
    cat >>"$WORK/pyproject.toml" <<EOF

[tool.mutmut]
source_paths = ["theory", "solvers"]
only_mutate = $(toml_list "${FULL_FILES[@]}" "${SAMPLED_FILES[@]}")
also_copy = ["properties", "pamdp", "tests", "examples", "pyproject.toml"]
pytest_add_cli_args_test_selection = $(toml_list "${TESTS[@]}")
pytest_add_cli_args = ["-p", "no:cacheprovider"]
EOF
}

sample() { # every SAMPLE_EVERY-th mutant of each sampled file, in (function, number) order
    "$PYTHON" - "$SAMPLE_EVERY" "${SAMPLED_FILES[@]}" <<'EOF'
import json, re, sys
every, files = int(sys.argv[1]), sys.argv[2:]
def key(name):
    m = re.match(r"(.*)__mutmut_(\d+)$", name)
    return m.group(1), int(m.group(2))
for path in files:
    names = json.load(open(f"mutants/{path}.meta"))["exit_code_by_key"]
    print("\n".join(sorted(names, key=key)[::every]))
EOF
}

summary() {
    "$PYTHON" - "${FULL_FILES[@]}" "${SAMPLED_FILES[@]}" <<'EOF'
import json, sys
from collections import Counter
from mutmut.stats import status_by_exit_code
print(f"{'file':34} {'mutants':>7} {'tested':>6} {'killed':>6} {'survived':>8} "
      f"{'timeout':>7} {'no tests':>8}")
for path in sys.argv[1:]:
    codes = json.load(open(f"mutants/{path}.meta"))["exit_code_by_key"]
    count = Counter(status_by_exit_code[c] for c in codes.values())
    tested = len(codes) - count["not checked"]
    print(f"{path:34} {len(codes):7} {tested:6} {count['killed']:6} {count['survived']:8} "
          f"{count['timeout']:7} {count['no tests']:8}")
print("\nsurvivors:")
for path in sys.argv[1:]:
    codes = json.load(open(f"mutants/{path}.meta"))["exit_code_by_key"]
    for name, code in sorted(codes.items()):
        if status_by_exit_code[code] in ("survived", "no tests"):
            print(" ", name, status_by_exit_code[code])
EOF
}

case "$MODE" in
run)
    prepare
    cd "$WORK"
    # 1. every mutant of the fully mutated files (this also generates all mutants and stats)
    globs=()
    for path in "${FULL_FILES[@]}"; do
        module=${path%.py}
        globs+=("${module//\//.}*")
    done
    "$MUTMUT" run --max-children 1 "${globs[@]}"
    # 2. the fixed 1-in-SAMPLE_EVERY sample of the others
    mapfile -t picked < <(sample)
    "$MUTMUT" run --max-children 1 "${picked[@]}"
    summary
    ;;
survivors)
    cd "$WORK"
    # refresh the tests (the source under test is unchanged) and re-run the survivors
    cp "$ROOT"/tests/*.py "$WORK/tests/"
    cp "$ROOT"/tests/*.py "$WORK/mutants/tests/"
    mapfile -t again < <(summary | awk '/ survived$| no tests$/ {print $1}')
    "$MUTMUT" run --max-children 1 "${again[@]}"
    summary
    ;;
summary)
    cd "$WORK"
    summary
    ;;
*)
    echo "usage: $0 [run|survivors|summary]" >&2
    exit 2
    ;;
esac
