#!/usr/bin/env bash
# Runs the same benchmarks on two revisions of Mata in one session, alternating, on the same generated data:
# used to show a refactor costs the user nothing (e.g. issue 12: route declarations and validation).
#
#   bash bench/compare-revisions.sh BASE_REV [ROUNDS] [HEAD_REV]
#
# It checks BASE_REV (and HEAD_REV, default: this working tree) out into temporary worktrees (node_modules
# hard-linked from this checkout), then runs
# bench/metadata.ts (dataset page), bench/search-bench.ts (search) and bench/tiles-serve.ts (tiles against
# nginx) ROUNDS times for each revision, base first, and prints every run's figures labelled by revision.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: bench/compare-revisions.sh BASE_REV [ROUNDS] [HEAD_REV]}
rounds=${2:-2}
head_rev=${3:-}
here=$(pwd)
work=$(mktemp -d /tmp/mata-compare-XXXXXX)
trap 'for t in base head; do git -C "$here" worktree remove --force "$work/$t" >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT
git worktree add -q --detach "$work/base" "$base"
cp -al node_modules "$work/base/node_modules"
head_tree=$here
if [ -n "$head_rev" ]; then
  git worktree add -q --detach "$work/head" "$head_rev"
  cp -al node_modules "$work/head/node_modules"
  head_tree=$work/head
fi
bun=$here/node_modules/.bin/bun
meta_store=$work/metadata-store
search_store=$work/search-store

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); base $(git rev-parse --short "$base"), head $(git -C "$head_tree" rev-parse --short HEAD)"
run() { # label tree bench args...
  local label=$1 tree=$2
  shift 2
  echo "=== $label: $*"
  (cd "$tree" && "$bun" "$@" 2>&1 | grep -E "dataset page|p95|^\| (phrase|prefix|filter|words|key=value)|mata|nginx|ratio" || true)
}
for ((i = 1; i <= rounds; i++)); do
  for rev in base head; do
    tree=$head_tree
    [ "$rev" = base ] && tree=$work/base
    run "$rev round $i" "$tree" bench/metadata.ts --datasets 20000 --keep "$meta_store"
    run "$rev round $i" "$tree" bench/search-bench.ts --datasets 20000 --keep "$search_store"
    run "$rev round $i" "$tree" bench/tiles-serve.ts --size 256 --seconds 8
  done
done
