#!/bin/sh
# Regenerates examples/diverged/: a complete drill on the `diverged` lab, made by the tool itself.
#
#   examples/regenerate.sh            # builds the debug binary first
#   RECOVERY_DECK_BIN=path/to/recovery-deck examples/regenerate.sh
#
# It starts a lab (`lab up --scenario diverged`) in a temporary directory, drives the recovery
# screen (`tui --record`) in a private tmux server with the keys an operator would type — union,
# the two archived rows decided (purge, exclude), the differing row's payload diff looked at and
# the row excluded, the plan previewed and saved with `:save`, executed with the typed
# confirmation, the comparison on the target looked at, quit — then writes the report of the
# session's journal and the console scripts of the saved runbook in both dialects, stops the lab
# and replaces examples/diverged/ with what was made. Needs tmux. Takes about a minute.
#
# Times, ports, contract ids and every hash differ from one regeneration to the next; the files
# hold no path of the temporary directory. `cargo test --test examples` checks that the files
# agree with each other and with the code.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out="${RECOVERY_DECK_EXAMPLE_DIR:-$here/diverged}"   # where the drill goes (tests use another)

if [ -z "${RECOVERY_DECK_BIN:-}" ]; then
    (cd "$root" && cargo build --quiet --bin recovery-deck)
    RECOVERY_DECK_BIN="$root/target/debug/recovery-deck"
fi
bin=$RECOVERY_DECK_BIN
command -v tmux >/dev/null || { echo "regenerate.sh: tmux is needed to drive the screen" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/recovery-deck-example-XXXXXX")
socket="recovery-deck-example-$$"
cleanup() {
    tmux -L "$socket" kill-server 2>/dev/null || true
    [ -d "$work/lab" ] && "$bin" lab down --dir "$work/lab" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

screen() { tmux -L "$socket" capture-pane -p -t drill; }
# One key at a time: an escape followed at once by a key reads as Alt+key.
keys() { for k in "$@"; do tmux -L "$socket" send-keys -t drill "$k"; sleep 0.6; done; }
text() { tmux -L "$socket" send-keys -t drill -l "$1"; sleep 0.6; }
# Waits (up to $2 seconds, default 20) until the screen shows $1.
wait_for() {
    n=$(( ${2:-20} * 10 ))
    while ! screen | grep -qF -- "$1"; do
        n=$((n - 1))
        if [ "$n" -le 0 ]; then
            echo "regenerate.sh: timed out waiting for \"$1\"; the screen:" >&2
            screen >&2
            exit 1
        fi
        sleep 0.1
    done
    sleep 0.6
}

cd "$work"
"$bin" --progress off lab up --dir "$work/lab" --scenario diverged --detach >/dev/null

# Paths relative to $work, so that none of the files names the temporary directory.
tmux -L "$socket" new-session -d -s drill -x 120 -y 36 \
    "cd '$work' && '$bin' --config lab/incident.toml tui --operator alice --theme dark \
     --journal diverged.journal.jsonl --record diverged.cast; echo EXIT=\$?; sleep 600"

wait_for "agreed 4" 90
keys u
wait_for "strategy: union"
keys c c c                                  # the class filter: the archived rows
wait_for "showing 2 (archived)"
keys P                                      # purge the first where it is still active
wait_for "decided purge for"
keys j E                                    # leave the second on the lost synchronizer
wait_for "decided exclude for"
keys c                                      # the row whose payloads differ
wait_for "showing 1 (mismatch)"
keys Enter
wait_for "payload diff"
id=$(screen | grep -o 'payload diff [0-9a-f]*' | head -n 1 | cut -d ' ' -f 3 | cut -c 1-16)
keys Escape E
wait_for "decided exclude for $id"
keys Escape                                 # every row again
keys p
wait_for "contract(s) move"
keys :
text "save diverged.runbook.toml"
keys Enter
wait_for "saved to diverged.runbook.toml"
keys x
wait_for "Type newDomain to execute"
text newDomain
keys Enter
wait_for "VERIFIED" 120
keys t
wait_for "contracts on newDomain"
sleep 2
keys q
wait_for "EXIT=" 30
screen | grep -q "EXIT=0" || { echo "regenerate.sh: the screen did not exit cleanly" >&2; screen >&2; exit 1; }

"$bin" report diverged.journal.jsonl --out diverged.report.md 2>/dev/null
"$bin" export-console diverged.runbook.toml --out console-canton3 --dialect 3 >/dev/null
"$bin" export-console diverged.runbook.toml --out console-canton2 --dialect 2 >/dev/null
"$bin" lab down --dir "$work/lab" >/dev/null

if grep -rlF "$work" diverged.* console-canton3 console-canton2 >&2; then
    echo "regenerate.sh: the files above name the temporary directory" >&2
    exit 1
fi

rm -rf "$out"
mkdir -p "$out"
cp -R diverged.runbook.toml diverged.journal.jsonl diverged.journal.pins diverged.report.md diverged.cast \
    console-canton3 console-canton2 "$out/"
# The tool writes incident files private to their owner; in the repository they are examples.
chmod -R u=rwX,go=rX "$out"
echo "examples regenerated in $out"
