"""docs/samplers.md's table: `dsm-tui --once --sampler-sweep` on several seeds, averaged.

Each seed trains the default noise-conditional model and sweeps every sampler over 5-1000
network evaluations from one draw of starting particles; this prints, per sampler and
budget, the mean energy distance to the test split with its range over the seeds, the
upper-moon share, the share farther than 0.3 from both arcs, and the sampling time, as a
Markdown table, then the floor (fresh data against the same splits).

    cargo build --release
    python3 scripts/sampler_sweep.py --seeds 0-4
    python3 scripts/sampler_sweep.py --seeds 0-4 -- --depth 3     # any dsm-tui flags

Standard library only. About 9 s per seed on a 2-core machine.
"""

import argparse
import json
import os
import subprocess
import sys

BINARY = os.path.join(os.path.dirname(__file__), "..", "target", "release", "dsm-tui")
NAMES = {
    "annealed": "annealed Langevin",
    "reverse-diffusion": "reverse diffusion",
    "pc": "predictor–corrector",
    "ode-euler": "ODE, Euler",
    "ode-heun": "ODE, Heun",
}


def seeds(text):
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=seeds, default=seeds("0-4"), help="a seed or a range, e.g. 0-4")
    parser.add_argument("flags", nargs="*", help="more dsm-tui flags, after --")
    args = parser.parse_args()

    sweeps = []
    for seed in args.seeds:
        command = [BINARY, "--once", "--sampler-sweep", "--json", "--seed", str(seed), *args.flags]
        print(f"seed {seed}: {' '.join(command[1:])}", file=sys.stderr)
        sweeps.append(json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout))

    print("| sampler | NFE | energy distance (mean; range) | upper moon | far | sampling s |")
    print("|---|---:|---:|---:|---:|---:|")
    last = None
    for i, row in enumerate(sweeps[0]["rows"]):
        rows = [sweep["rows"][i] for sweep in sweeps]
        assert all(r["sampler"] == row["sampler"] and r["nfe"] == row["nfe"] for r in rows), "the same sweep"
        mean = lambda values: sum(values) / len(values)
        distances = [r["samples"]["energy_distance"] for r in rows]
        upper = [r["samples"]["upper_moon_share"] for r in rows]
        far = [r["samples"]["far_share"] for r in rows]
        seconds = [r["seconds"] for r in rows]
        name = NAMES[row["sampler"]] if row["sampler"] != last else ""
        last = row["sampler"]
        moons = None not in upper
        print(
            f"| {name} | {row['nfe']} | {mean(distances):.5f} ({min(distances):.5f}–{max(distances):.5f}) | "
            + (f"{mean(upper):.3f} | {100 * mean(far):.2f}% | " if moons else "– | – | ")
            + f"{mean(seconds):.3f} |"
        )
    floors = [sweep["floor_energy_distance"] for sweep in sweeps]
    print(f"\nfloor (fresh data against the test split): mean {sum(floors) / len(floors):.5f}, "
          f"range {min(floors):.5f}–{max(floors):.5f} over seeds {args.seeds.start}–{args.seeds.stop - 1}")


if __name__ == "__main__":
    main()
