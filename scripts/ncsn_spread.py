"""How much the annealed energy-distance ratio moves with a training run's own random draws.

A PyTorch model of `dsm-tui --once --mode annealed` with its earlier defaults (3x64 SiLU
network with log sigma as a third input and its output divided by sigma, sigma^2-weighted
DSM over 10 geometric levels 1 -> 0.01, Adam lr 0.01 decayed 0.985 per epoch for 400
epochs at batch 64; the defaults are now 4x64 for 800 epochs at 0.9925), then annealed
Langevin, 100 steps a level, alpha = 0.1 sigma^2, and the denoising step) on make_moons
data of 5000 points split 4000/1000. Prints, per data seed, the energy distance of 5000
samples to the test split over the floor (5000 fresh points to the same test split).

    pip install torch scikit-learn
    python scripts/ncsn_spread.py --seeds 0,1,2,3,4                 # the baseline
    python scripts/ncsn_spread.py --seeds 0,1,2,3,4 --offset 100    # same data, other draws
    python scripts/ncsn_spread.py --seeds 0,1,2,3,4 --fourier 16 --scale 2
    python scripts/ncsn_spread.py --seeds 0,1,2,3,4 --ema 0.999
    python scripts/ncsn_spread.py --seeds 0,1,2,3,4 --every        # log sigma into every layer
    python scripts/ncsn_spread.py --seeds 0,1,2,3,4 --edm 0.5      # EDM-style preconditioning
    python scripts/ncsn_spread.py --seeds 0,1,2,3,4 --control      # DSM with a control variate

About 20 s per seed on one core. Not the Rust code: a model of it, to try ideas quickly.
"""

import argparse
import copy
import math
import time

import numpy as np
import torch
from sklearn.datasets import make_moons


def energy_distance(x, y):
    x, y = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    return (torch.cdist(x, y).mean() - 0.5 * torch.cdist(x, x).mean() - 0.5 * torch.cdist(y, y).mean()).item()


class Net(torch.nn.Module):
    def __init__(self, fourier, scale, generator, every=False, edm=0.0, width=64, depth=3):
        super().__init__()
        self.fourier, self.edm = fourier, edm
        # Optionally log sigma also enters every later hidden layer, not only the first.
        self.condition = torch.nn.ModuleList(torch.nn.Linear(1, width, bias=False) for _ in range(depth - 1) if every)
        if fourier:
            self.register_buffer("freqs", torch.randn(2, fourier, generator=generator) * scale)
        layers, inputs = [], 3 + 2 * fourier
        for _ in range(depth):
            layers += [torch.nn.Linear(inputs, width), torch.nn.SiLU()]
            inputs = width
        self.net = torch.nn.Sequential(*layers, torch.nn.Linear(inputs, 2))

    def forward(self, x, sigma):
        s2, log_sigma = sigma[:, None] ** 2, torch.log(sigma)[:, None]
        # EDM (Karras et al. 2022) with data std `edm`: input scaled to unit variance, and the
        # score of a Gaussian of that std as a skip the network only corrects.
        features = [x / torch.sqrt(s2 + self.edm**2) if self.edm else x, log_sigma]
        if self.fourier:
            phase = 2 * math.pi * x @ self.freqs
            features += [torch.sin(phase), torch.cos(phase)]
        layers = list(self.net)
        h = layers[1](layers[0](torch.cat(features, 1)))
        for i in range(1, len(layers) // 2):
            z = layers[2 * i](h)
            h = layers[2 * i + 1](z + self.condition[i - 1](log_sigma) if self.condition else z)
        out = layers[-1](h)
        if self.edm:
            c_out = sigma[:, None] * self.edm / torch.sqrt(s2 + self.edm**2)
            return -x / (s2 + self.edm**2) + c_out / s2 * out
        return out / sigma[:, None]


def ratio(seed, args):
    draws = seed + args.offset
    torch.manual_seed(draws)
    points, _ = make_moons(5000, noise=0.1, random_state=seed)
    order = np.random.default_rng(seed).permutation(5000)
    train, test = torch.tensor(points[order[:4000]], dtype=torch.float32), points[order[4000:]]
    fresh, _ = make_moons(5000, noise=0.1, random_state=seed + 777)
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10), dtype=torch.float32)
    net = Net(args.fourier, args.scale, torch.Generator().manual_seed(1000 + draws), args.every, args.edm)
    average = copy.deepcopy(net)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    schedule = torch.optim.lr_scheduler.ExponentialLR(opt, 0.985)
    for _ in range(args.epochs):
        shuffled = torch.randperm(4000)
        for b in range(0, 4000, 64):
            x = train[shuffled[b : b + 64]]
            sigma = sigmas[torch.randint(0, 10, (len(x),))]
            eps = torch.randn_like(x)
            noised = net(x + sigma[:, None] * eps, sigma) * sigma[:, None]
            if args.control:
                # Wang et al. 2020: subtract 2 eps.(sigma s(x)) (zero mean, as eps is independent of
                # x) and the constant |eps|^2, which removes the target's noise to first order in sigma.
                clean = net(x, sigma) * sigma[:, None]
                loss = ((noised**2).sum(1) + 2 * ((noised - clean) * eps).sum(1)).mean()
            else:
                loss = ((noised + eps) ** 2).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if args.ema:
                with torch.no_grad():
                    for a, p in zip(average.parameters(), net.parameters()):
                        a.mul_(args.ema).add_(p, alpha=1 - args.ema)
        schedule.step()
    model = average if args.ema else net
    with torch.no_grad():
        x = torch.rand(5000, 2) * 2 - 1
        for sigma in sigmas:
            alpha, level = 0.1 * sigma**2, torch.full((5000,), sigma.item())
            for _ in range(100):
                x = x + alpha * model(x, level) + torch.sqrt(2 * alpha) * torch.randn_like(x)
        x = x + sigmas[-1] ** 2 * model(x, torch.full((5000,), sigmas[-1].item()))
    return energy_distance(x.numpy(), test) / energy_distance(fresh, test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2,3,4", help="data seeds, comma-separated")
    parser.add_argument("--offset", type=int, default=0, help="added to the seed of the training's own draws")
    parser.add_argument("--fourier", type=int, default=0, help="random Fourier features of x (0: none)")
    parser.add_argument("--scale", type=float, default=1.0, help="standard deviation of their frequencies")
    parser.add_argument("--ema", type=float, default=0.0, help="sample with this moving average of the weights")
    parser.add_argument("--epochs", type=int, default=400)
    parser.add_argument("--every", action="store_true", help="log sigma as an input of every hidden layer")
    parser.add_argument("--edm", type=float, default=0.0, help="EDM preconditioning with this data std (0: none)")
    parser.add_argument("--control", action="store_true", help="DSM with the control variate of Wang et al. 2020")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.time()
    ratios = [ratio(int(s), args) for s in args.seeds.split(",")]
    print(" ".join(f"{r:.2f}" for r in ratios), f"mean {np.mean(ratios):.2f} ({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
