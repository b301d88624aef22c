"""Search quality: candle's searches against Optuna (TPE, GP) and scikit-optimize at equal budget.

    pip install -e '.[search,search-benchmark]'
    python benchmarks/perf/search_quality.py [--seeds 10] [--budgets 40 100] [--batch 1 4]
        [--problems ...] [--algorithms ...] [--jobs N] [--timing] [--study] [--bohb] [--nt3 SEEDS]

For every problem (benchmarks/testfn/problems.py), budget and batch size q (q proposals asked
before their values are told, as q workers would), the median over seeds of the simple regret
(best value found − known minimum), its interquartile range, and the ratio of each algorithm's
median to Optuna GPSampler's (< 1: better). Every run uses one thread. An algorithm that does
not plan by the budget (all but HyperSpace, which splits it among subspaces, and mbo, whose
initial design grows with it) runs once, to the largest budget, and its regret at a smaller one
is read from the same run.

``--timing``: seconds per suggestion of ``mbo`` with 100 and 1,000 finished trials (ten
ask-evaluate-tell steps after that many random trials and one untimed step, whose
hyperparameter fit starts cold; in a search each fit starts from the previous one).
``--study``: GA and HyperSpace against random search at budgets 40 to 1,000.
``--bohb``: BOHB against Hyperband on the problems made multi-fidelity (``with_fidelity``).
``--nt3 SEEDS``: real NT3 searches (synthetic data, reduced width, 24 trials, 2 workers), mbo
against random, best val_loss per seed.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from candle_benchmarks.testfn.harness import optimize_fidelity  # noqa: E402
from candle_benchmarks.testfn.problems import PROBLEMS, problem  # noqa: E402
from candle_core.objective import Objective  # noqa: E402
from candle_core.plugin_manager import get_plugin_manager  # noqa: E402
from candle_core.search.store import DATABASE, ResultsStore  # noqa: E402
from candle_core.search.trial import Proposal, Trial  # noqa: E402

VARIANTS = {  # candle algorithms run with options: name -> (algorithm, --option settings)
    "mbo-forest": ("mbo", {"surrogate": "forest"}),
    "mbo-standardized": ("mbo", {"outputs": "standardized"}),
    "mbo-hedge": ("mbo", {"outputs": "hedge"}),
}
CANDLE = ("mbo", *VARIANTS, "random", "ga", "hyperspace")
BASELINES = ("optuna-gp", "optuna-tpe", "skopt-gp")
REFERENCE = "optuna-gp"
BUDGET_AWARE = ("hyperspace", "mbo", *VARIANTS)


def candle_run(name: str, task, budget: int, seed: int, q: int) -> tuple[list[float], float]:
    algorithm_name, options = VARIANTS.get(name, (name, {}))
    algorithm = get_plugin_manager().component("search", algorithm_name)()(
        task.space, Objective(), seed, budget, q, options
    )
    values, asking, trial_id = [], 0.0, 0
    while len(values) < budget:
        start = time.perf_counter()
        batch = algorithm.ask(min(q, budget - len(values)))
        asking += time.perf_counter() - start
        results = []
        for proposal in batch:
            params = proposal.params if isinstance(proposal, Proposal) else proposal
            label = proposal.label if isinstance(proposal, Proposal) else None
            results.append(Trial(trial_id, params, status="ok", objective=task.evaluate(params), label=label))
            trial_id += 1
        for trial in results:
            algorithm.tell(trial)
            values.append(trial.objective)
    return values, asking / budget


def optuna_run(name: str, task, budget: int, seed: int, q: int) -> tuple[list[float], float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = {}
    for p in task.space:
        if p.type == "float":
            distributions[p.name] = optuna.distributions.FloatDistribution(p.lower, p.upper, log=p.log)
        elif p.type == "int":
            distributions[p.name] = optuna.distributions.IntDistribution(int(p.lower), int(p.upper), log=p.log)
        else:
            distributions[p.name] = optuna.distributions.CategoricalDistribution(list(p.choices))
    sampler = optuna.samplers.GPSampler(seed=seed) if name == "optuna-gp" else optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(sampler=sampler)
    values, asking = [], 0.0
    while len(values) < budget:
        start = time.perf_counter()
        trials = [study.ask(distributions) for _ in range(min(q, budget - len(values)))]
        asking += time.perf_counter() - start
        results = [task.evaluate(trial.params) for trial in trials]
        for trial, value in zip(trials, results, strict=True):
            study.tell(trial, value)
            values.append(value)
    return values, asking / budget


def skopt_run(name: str, task, budget: int, seed: int, q: int) -> tuple[list[float], float]:
    from skopt import Optimizer
    from skopt.space import Categorical, Integer, Real

    dimensions = []
    for p in task.space:
        prior = "log-uniform" if p.log else "uniform"
        if p.type == "float":
            dimensions.append(Real(p.lower, p.upper, prior=prior, name=p.name))
        elif p.type == "int":
            dimensions.append(Integer(int(p.lower), int(p.upper), prior=prior, name=p.name))
        else:
            dimensions.append(Categorical(list(p.choices), name=p.name))
    optimizer = Optimizer(dimensions, base_estimator="GP", n_initial_points=10, random_state=seed)
    values, asking = [], 0.0
    while len(values) < budget:
        start = time.perf_counter()
        n = min(q, budget - len(values))
        points = optimizer.ask(n_points=n) if n > 1 else [optimizer.ask()]
        asking += time.perf_counter() - start
        results = [task.evaluate(dict(zip(task.space.names, point, strict=True))) for point in points]
        optimizer.tell(points, results)
        values += results
    return values, asking / budget


def one_run(job: tuple) -> tuple[tuple, list[float], float]:
    name, problem_name, budget, seed, q = job
    warnings.simplefilter("ignore")
    task = problem(problem_name)
    runner = optuna_run if name.startswith("optuna") else skopt_run if name.startswith("skopt") else candle_run
    values, per_ask = runner(name, task, budget, seed, q)
    return job, values, per_ask


def regret_table(args: argparse.Namespace) -> None:
    jobs = []
    top = max(args.budgets)
    for name in args.algorithms:
        for problem_name in args.problems:
            for q in args.batch:
                for seed in range(args.seeds):
                    for budget in args.budgets if name in BUDGET_AWARE else [top]:
                        jobs.append((name, problem_name, budget, seed, q))
    jobs.sort(key=lambda job: not job[0].startswith(("mbo", "skopt-gp", "optuna-gp")))  # the slow ones first
    runs = {}
    with ProcessPoolExecutor(args.jobs) as pool:
        for job, values, per_ask in pool.map(one_run, jobs):
            runs[job] = (values, per_ask)
    for q in args.batch:
        for budget in args.budgets:
            print(f"\nmedian simple regret [IQR] over {args.seeds} seeds, budget {budget}, batch q={q}")
            print(f"(ratio: median / {REFERENCE}'s median; < 1 is better)")
            print("| algorithm | " + " | ".join(args.problems) + " |")
            print("|---|" + "---|" * len(args.problems))
            medians = {}
            for name in sorted(args.algorithms, key=lambda n: n != REFERENCE):  # the reference first
                cells = []
                for problem_name in args.problems:
                    minimum = problem(problem_name).minimum
                    run_budget = budget if name in BUDGET_AWARE else top
                    regrets = [
                        min(runs[(name, problem_name, run_budget, s, q)][0][:budget]) - minimum
                        for s in range(args.seeds)
                    ]
                    low, median, high = np.percentile(regrets, [25, 50, 75])
                    medians[(name, problem_name)] = median
                    cells.append((median, low, high))
                row = []
                for problem_name, (median, low, high) in zip(args.problems, cells, strict=True):
                    reference = medians.get((REFERENCE, problem_name))
                    ratio = f" ({median / reference:.2g}x)" if reference else ""
                    row.append(f"{median:.2g} [{low:.2g}, {high:.2g}]{ratio}")
                print(f"| {name} | " + " | ".join(row) + " |")
    print("\nmean seconds per suggestion at the largest budget (all problems, q=1 where run)")
    q = 1 if 1 in args.batch else args.batch[0]
    for name in args.algorithms:
        times = [runs[(name, p, top, s, q)][1] for p in args.problems for s in range(args.seeds)]
        print(f"  {name:12s} {1000 * float(np.mean(times)):8.1f} ms")


def timing() -> None:
    mbo = get_plugin_manager().component("search", "mbo")()
    task = problem("hartmann6")
    print("\nmbo seconds per suggestion (hartmann6, one thread), after N finished trials:")
    for told in (100, 1000):
        algorithm = mbo(task.space, Objective(), 0, told + 10, 1, {})
        rng = np.random.default_rng(0)
        for i in range(told):
            params = task.space.sample(rng)
            algorithm.tell(Trial(i, params, status="ok", objective=task.evaluate(params)))
        algorithm.design.clear()
        asking = []
        for i in range(told, told + 11):  # sequential steps: ask, evaluate, tell
            start = time.perf_counter()
            params = algorithm.ask(1)[0]
            asking.append(time.perf_counter() - start)
            algorithm.tell(Trial(i, params, status="ok", objective=task.evaluate(params)))
        asking = asking[1:]  # the first fit starts cold; in a search every later one starts warm
        print(f"  {told:5d} trials: {np.mean(asking) * 1000:.0f} ms mean, {np.max(asking) * 1000:.0f} ms the slowest")


def study(args: argparse.Namespace) -> None:
    budgets = (40, 100, 400, 1000)
    names = ("random", "ga", "hyperspace")
    jobs = [
        (n, p, b, s, 4)
        for n in names
        for p in args.problems
        for b in (budgets if n in BUDGET_AWARE else budgets[-1:])
        for s in range(args.seeds)
    ]
    jobs.sort(key=lambda job: -job[2])
    with ProcessPoolExecutor(args.jobs) as pool:
        runs = {job: values for job, values, _ in pool.map(one_run, jobs)}
    print(f"\nGA and HyperSpace against random: median regret over {args.seeds} seeds, q=4 (ratio to random)")
    print("| problem | budget | random | ga | hyperspace |")
    print("|---|---|---|---|---|")
    for p in args.problems:
        minimum = problem(p).minimum
        for b in budgets:
            medians = {}
            for n in names:
                run_budget = b if n in BUDGET_AWARE else budgets[-1]
                medians[n] = float(
                    np.median([min(runs[(n, p, run_budget, s, 4)][:b]) - minimum for s in range(args.seeds)])
                )
            cells = [f"{medians['random']:.3g}"] + [
                f"{medians[n]:.3g} ({medians[n] / medians['random']:.2f}x)" for n in names[1:] if medians["random"]
            ]
            print(f"| {p} | {b} | " + " | ".join(cells) + " |")


def fidelity_run(job: tuple) -> tuple[tuple, float]:
    name, problem_name, budget, seed = job
    warnings.simplefilter("ignore")
    return job, optimize_fidelity(name, problem_name, budget, seed)[0]


def bohb_study(args: argparse.Namespace, budget: int = 80) -> None:
    names = ("hyperband", "bohb")
    jobs = [(n, p, budget, s) for n in names for p in args.problems for s in range(args.seeds)]
    with ProcessPoolExecutor(args.jobs) as pool:
        runs = dict(pool.map(fidelity_run, jobs))
    print(f"\nBOHB against Hyperband: {budget} trials of 1, 3 or 9 epochs, q=4; the value seen after e")
    print(f"epochs is biased by 20·(1/e − 1/9)·(1 + sin(Σx/2)); median over {args.seeds} seeds of the true regret")
    print("of the best 9-epoch trial (ratio to hyperband)")
    print("| problem | hyperband | bohb |")
    print("|---|---|---|")
    for p in args.problems:
        medians = [float(np.median([runs[(n, p, budget, s)] for s in range(args.seeds)])) for n in names]
        print(f"| {p} | {medians[0]:.3g} | {medians[1]:.3g} ({medians[1] / medians[0]:.2g}x) |")


def nt3_search(seeds: int, budget: int = 24) -> None:
    folder = Path(tempfile.mkdtemp(prefix="candle_quality_"))
    space = folder / "space.json"
    space.write_text(
        json.dumps(
            [
                {"name": "learning_rate", "type": "float", "lower": 1e-5, "upper": 1e-1, "log": True},
                {"name": "dropout", "type": "float", "lower": 0.0, "upper": 0.7},
                {"name": "optimizer", "type": "categorical", "values": ["sgd", "adam", "rmsprop"]},
                {"name": "batch_size", "type": "ordered", "values": [10, 20, 40, 80]},
            ]
        )
    )
    print(f"\nNT3 (synthetic data, 600 genes, conv 32/32, dense 64/16, 1 epoch, torch), {budget} trials, 2 workers")
    best = {"random": [], "mbo": []}
    for seed in range(seeds):
        for algorithm in best:
            experiment = f"{algorithm}_{seed}"
            command = [
                *(sys.executable, "-m", "candle_core.cli", "search", "nt3", "--algorithm", algorithm),
                *("--space", str(space), "--budget", str(budget), "--workers", "2", "--seed", str(seed)),
                *("--data", "synthetic", "--feature_subsample", "600", "-e", "1", "--experiment_id", experiment),
                *("--conv", "32", "20", "1", "32", "10", "1", "--dense", "64", "16"),
            ]
            environment = {**os.environ, "CANDLE_DATA_DIR": str(folder)}
            subprocess.run(command, check=True, capture_output=True, env=environment)
            trials = ResultsStore(folder / "nt3" / experiment / DATABASE).trials()
            best[algorithm].append(min(t.objective for t in trials if t.objective is not None))
        print(f"  seed {seed}: random {best['random'][-1]:.4f}  mbo {best['mbo'][-1]:.4f}")
    wins = sum(m < r for m, r in zip(best["mbo"], best["random"], strict=True))
    medians = f"random {np.median(best['random']):.4f}  mbo {np.median(best['mbo']):.4f}"
    print(f"  median best val_loss: {medians}; mbo better on {wins}/{seeds} seeds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budgets", type=int, nargs="+", default=[40, 100])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4], help="proposals per ask (q)")
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=PROBLEMS)
    parser.add_argument("--algorithms", nargs="+", default=[*CANDLE, *BASELINES], choices=[*CANDLE, *BASELINES])
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="runs at once (one thread each)")
    parser.add_argument("--timing", action="store_true", help="only time mbo's suggestions")
    parser.add_argument("--study", action="store_true", help="only GA and HyperSpace against random")
    parser.add_argument("--bohb", action="store_true", help="only BOHB against Hyperband (multi-fidelity)")
    parser.add_argument("--nt3", type=int, default=0, metavar="SEEDS", help="only the NT3 searches")
    args = parser.parse_args()
    if args.timing:
        timing()
    elif args.study:
        study(args)
    elif args.bohb:
        bohb_study(args)
    elif args.nt3:
        nt3_search(args.nt3)
    else:
        regret_table(args)


if __name__ == "__main__":
    main()
