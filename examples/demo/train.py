"""A small, real training run for the ox demo: a one-hidden-layer MLP trained by minibatch
SGD on two interleaved moons with label noise, in pure Python (no NumPy), in about a second.

    python3 train.py --lr 0.1 --seed 1           # standalone: a run in the nearest .ox/
    ox run -p lr=0.1 -p seed=1 -- python3 train.py  # attached: params come from ox run

Params (``ox run -p`` wins over command-line flags, which win over the defaults): ``lr``
(learning rate), ``seed`` (weight initialisation and batch order; the data set is fixed),
``steps`` (SGD steps), ``hidden`` (hidden units), ``batch`` (batch size). Logs ``loss`` and
``accuracy`` on the training set and ``val_loss``/``val_accuracy`` on a held-out set every
``eval_every`` steps. Too small a learning rate barely moves; too large a one overshoots.
"""

import argparse
import math
import random
import sys
import time

import ox

DEFAULTS = {"lr": 0.1, "seed": 0, "steps": 1500, "hidden": 16, "batch": 16, "eval_every": 50}
DATA_SEED = 1234  # the data set is the same for every run, so seeds only change training


def make_rings(n, noise, flip, rng):
    """``n`` points on two concentric rings (class 0 inside, class 1 outside) with Gaussian
    noise; a fraction ``flip`` of labels is flipped so that no model reaches 100%. No
    straight line separates the classes: the hidden layer has to learn a curved boundary."""
    points = []
    for i in range(n):
        label = i % 2
        radius = 0.5 if label == 0 else 1.0
        t = rng.uniform(0.0, 2.0 * math.pi)
        x = radius * math.cos(t) + rng.gauss(0.0, noise)
        y = radius * math.sin(t) + rng.gauss(0.0, noise)
        if rng.random() < flip:
            label = 1 - label
        points.append((x, y, label))
    return points


class MLP:
    """2 inputs -> ``hidden`` tanh units -> 1 logit."""

    def __init__(self, hidden, rng):
        scale1 = 1.0 / math.sqrt(2)
        scale2 = 1.0 / math.sqrt(hidden)
        self.w1 = [[rng.gauss(0.0, scale1) for _ in range(2)] for _ in range(hidden)]
        self.b1 = [0.0] * hidden
        self.w2 = [rng.gauss(0.0, scale2) for _ in range(hidden)]
        self.b2 = 0.0

    def forward(self, x0, x1):
        h = [math.tanh(w[0] * x0 + w[1] * x1 + b) for w, b in zip(self.w1, self.b1)]
        logit = sum(wi * hi for wi, hi in zip(self.w2, h)) + self.b2
        return h, logit

    def sgd_step(self, batch, lr):
        """One SGD step on the mean binary cross-entropy of ``batch``; returns that loss."""
        hidden = len(self.b1)
        gw1 = [[0.0, 0.0] for _ in range(hidden)]
        gb1 = [0.0] * hidden
        gw2 = [0.0] * hidden
        gb2 = 0.0
        total = 0.0
        for x0, x1, label in batch:
            h, logit = self.forward(x0, x1)
            total += bce(logit, label)
            d_logit = sigmoid(logit) - label
            gb2 += d_logit
            for j in range(hidden):
                gw2[j] += d_logit * h[j]
                d_pre = d_logit * self.w2[j] * (1.0 - h[j] * h[j])
                gb1[j] += d_pre
                gw1[j][0] += d_pre * x0
                gw1[j][1] += d_pre * x1
        step = lr / len(batch)
        for j in range(hidden):
            self.w2[j] -= step * gw2[j]
            self.b1[j] -= step * gb1[j]
            self.w1[j][0] -= step * gw1[j][0]
            self.w1[j][1] -= step * gw1[j][1]
        self.b2 -= step * gb2
        return total / len(batch)

    def evaluate(self, points):
        """(mean loss, accuracy) over ``points``."""
        loss = 0.0
        correct = 0
        for x0, x1, label in points:
            _, logit = self.forward(x0, x1)
            loss += bce(logit, label)
            correct += (logit > 0.0) == (label == 1)
        return loss / len(points), correct / len(points)


def sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def bce(logit, label):
    """Binary cross-entropy of a logit, computed without overflow."""
    return max(logit, 0.0) - logit * label + math.log1p(math.exp(-abs(logit)))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lr", type=float)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--hidden", type=int)
    parser.add_argument("--batch", type=int)
    parser.add_argument("--eval-every", dest="eval_every", type=int)
    parser.add_argument("--study", help="study of a standalone run (under `ox run`, use -s)")
    args = parser.parse_args(argv)
    config = dict(DEFAULTS)
    config.update({k: v for k, v in vars(args).items() if k in DEFAULTS and v is not None})
    return args, config


def main(argv=None):
    args, config = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        run = ox.init(study=args.study, config=config)
    except ox.NoProjectError as e:
        print(f"train.py: not tracking this run: {e}", file=sys.stderr)
        run = None
    params = run.config if run is not None else config
    lr = float(params["lr"])
    seed = int(params["seed"])
    steps = int(params["steps"])
    hidden = int(params["hidden"])
    batch_size = int(params["batch"])
    eval_every = max(1, int(params["eval_every"]))

    data_rng = random.Random(DATA_SEED)
    train = make_rings(300, noise=0.15, flip=0.05, rng=data_rng)
    val = make_rings(200, noise=0.15, flip=0.05, rng=data_rng)
    rng = random.Random(seed)
    model = MLP(hidden, rng)
    order = list(range(len(train)))
    cursor = len(order)
    started = time.monotonic()
    print(f"training: lr={lr:g} seed={seed} steps={steps} hidden={hidden} batch={batch_size}", flush=True)

    def record(step):
        loss, accuracy = model.evaluate(train)
        val_loss, val_accuracy = model.evaluate(val)
        metrics = {"loss": loss, "accuracy": accuracy, "val_loss": val_loss, "val_accuracy": val_accuracy}
        if run is not None:
            run.log(metrics, step=step)
        return metrics

    metrics = record(0)
    for step in range(1, steps + 1):
        if cursor + batch_size > len(order):
            rng.shuffle(order)
            cursor = 0
        batch = [train[i] for i in order[cursor:cursor + batch_size]]
        cursor += batch_size
        model.sgd_step(batch, lr)
        if step % eval_every == 0 or step == steps:
            metrics = record(step)
            if step % (eval_every * 10) == 0 and step != steps:
                print(f"step {step:5d}  loss {metrics['loss']:.4f}  val_accuracy {metrics['val_accuracy']:.3f}",
                      flush=True)
    elapsed = time.monotonic() - started
    print(f"done: lr={lr:g} seed={seed} loss={metrics['loss']:.4f} accuracy={metrics['accuracy']:.3f} "
          f"val_loss={metrics['val_loss']:.4f} val_accuracy={metrics['val_accuracy']:.3f} ({elapsed:.1f}s)",
          flush=True)
    if run is not None:
        run.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
