"""Scaling-law tests: the power-law fit on synthetic data, the settings, and a quick run of the experiment."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from gpt_from_scratch.cli import main
from gpt_from_scratch.data import prepare
from gpt_from_scratch.errors import GPTError
from gpt_from_scratch.scaling import PRESETS, ModelSize, ScalingSetting, parse_sizes
from gpt_from_scratch.scaling_law import bootstrap_alpha, fit_power_law

SIZES = np.array([2.5e4, 1.0e5, 3.3e5, 7.9e5, 2.7e6])
E, A, ALPHA = 1.2, 40.0, 0.35


def law(n: np.ndarray) -> np.ndarray:
    return E + A * n**-ALPHA


# ---------------------------------------------------------------- the fit


def test_fit_recovers_exact_law():
    fit = fit_power_law(SIZES, law(SIZES))
    assert fit.E == pytest.approx(E, rel=1e-6)
    assert fit.A == pytest.approx(A, rel=1e-6)
    assert fit.alpha == pytest.approx(ALPHA, rel=1e-6)


def test_fit_noisy_law_within_error():
    noisy = law(SIZES) + np.random.default_rng(0).normal(0.0, 0.005, size=len(SIZES))
    fit = fit_power_law(SIZES, noisy)
    assert fit.alpha_stderr > 0
    assert abs(fit.alpha - ALPHA) < 3 * fit.alpha_stderr
    assert abs(fit.E - E) < 3 * fit.E_stderr


def test_fit_independent_of_units():
    in_parameters = fit_power_law(SIZES, law(SIZES) + 0.01 * np.sin(SIZES))
    in_millions = fit_power_law(SIZES / 1e6, law(SIZES) + 0.01 * np.sin(SIZES))
    assert in_millions.alpha == pytest.approx(in_parameters.alpha, rel=1e-6)
    assert in_millions.alpha_stderr == pytest.approx(in_parameters.alpha_stderr, rel=1e-4)
    assert in_millions.A == pytest.approx(in_parameters.A * 1e-6**in_parameters.alpha, rel=1e-5)


def test_fit_predict():
    fit = fit_power_law(SIZES, law(SIZES))
    np.testing.assert_allclose(fit.predict(SIZES), law(SIZES), rtol=1e-9)


@pytest.mark.parametrize(("n", "loss", "expected"), [
    (SIZES[:3], law(SIZES[:3]), "at least 4 model sizes"),
    (SIZES, law(SIZES)[:4], "same length"),
    (-SIZES, law(SIZES), "positive numbers of parameters"),
    (SIZES, np.array([2.0, np.nan, 1.5, 1.4, 1.3]), "a run diverged"),
], ids=["too-few", "length-mismatch", "negative-size", "nan-loss"])
def test_fit_invalid_points(n, loss, expected):
    with pytest.raises(GPTError, match=expected):
        fit_power_law(n, loss)


def test_bootstrap_over_seeds():
    rng = np.random.default_rng(1)
    losses = law(SIZES)[:, None] + rng.normal(0.0, 0.005, size=(len(SIZES), 3))
    mean, std = bootstrap_alpha(SIZES, losses, rounds=200)
    assert std > 0
    assert abs(mean - ALPHA) < 0.1


def test_bootstrap_needs_two_seeds():
    with pytest.raises(GPTError, match="at least 2 seeds"):
        bootstrap_alpha(SIZES, law(SIZES)[:, None])


# ---------------------------------------------------------------- settings


def test_parse_sizes():
    assert parse_sizes("2x32, 4x128") == (ModelSize(2, 32), ModelSize(4, 128))


@pytest.mark.parametrize("text", ["4x", "x128", "4*128", "0x64", "fourx64"])
def test_parse_size_invalid(text):
    with pytest.raises(GPTError, match="write LAYERSxWIDTH"):
        ModelSize.parse(text)


def test_setting_needs_four_sizes():
    with pytest.raises(GPTError, match="at least 4 different model sizes"):
        ScalingSetting(sizes=parse_sizes("1x32,2x32,2x32,3x32"), head_size=32, max_iters=10, batch_size=2,
                       block_size=8, eval_iters=1, learning_rate=1e-3)


def test_setting_width_not_multiple_of_head():
    with pytest.raises(GPTError, match="width 48 is not a multiple of the head size 32"):
        ScalingSetting(sizes=parse_sizes("1x32,1x48,2x64,3x96"), head_size=32, max_iters=10, batch_size=2,
                       block_size=8, eval_iters=1, learning_rate=1e-3)


def test_setting_same_budget_for_all_sizes():
    setting = PRESETS["cpu"]
    configs = [setting.train_config(size, 0) for size in setting.sizes]
    assert {(c.max_iters, c.batch_size, c.block_size, c.learning_rate, c.seed) for c in configs} == {
        (2000, 12, 64, 2e-3, 1337)}
    assert [c.n_head for c in configs] == [1, 2, 3, 4, 6]


# ---------------------------------------------------------------- the quick experiment


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("scaling")
    rng = random.Random(0)
    words = ["the", "king", "queen", "shall", "not", "be", "love", "night", "day"]
    (root / "corpus.txt").write_text("\n".join(" ".join(rng.choice(words) for _ in range(8)) for _ in range(300)),
                                     encoding="utf-8")
    prepare(root / "data", input_path=root / "corpus.txt")
    assert main(["scaling", "--data", str(root / "data"), "--out", str(root / "out"), "--preset", "quick",
                 "--device", "cpu"]) == 0
    return root


def test_quick_run_outputs(quick_run):
    out = quick_run / "out"
    for name in ("scaling.json", "scaling.md", "scaling.png"):
        assert (out / name).is_file(), name
    assert (out / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_quick_run_result(quick_run):
    result = json.loads((quick_run / "out" / "scaling.json").read_text())
    assert [size["size"] for size in result["sizes"]] == ["1x16", "1x32", "2x32", "2x48"]
    assert all(size["params"] > 0 for size in result["sizes"])
    assert result["fit"]["alpha"] is not None
    assert result["setting"]["tokens_per_model"] == 30 * 4 * 16


def test_quick_run_table(quick_run):
    table = (quick_run / "out" / "scaling.md").read_text()
    assert "| 2x48 | 2 | 3 | 48 |" in table
    assert "alpha =" in table


def test_rerun_reuses_finished_runs(quick_run, capsys):
    checkpoint = quick_run / "out" / "1x16-seed0" / "ckpt.pt"
    modified = checkpoint.stat().st_mtime_ns
    assert main(["scaling", "--data", str(quick_run / "data"), "--out", str(quick_run / "out"), "--preset", "quick",
                 "--device", "cpu"]) == 0
    assert checkpoint.stat().st_mtime_ns == modified


@pytest.mark.parametrize(("extra", "expected"), [
    (["--sizes", "1x16,1x24,2x32,2x48"], "width 24 is not a multiple of the head size 16"),
    (["--sizes", "1x16,2x16"], "at least 4 different model sizes"),
    (["--seeds", "0"], "--seeds 0 is invalid"),
    (["--max-iters", "-1"], "max_iters=-1 is invalid"),
    (["--threads", "0"], "--threads 0 is invalid"),
    (["--data", "{tmp}/missing"], "is not a prepared data folder"),
], ids=["head-size", "too-few-sizes", "zero-seeds", "negative-iters", "zero-threads", "missing-data"])
def test_cli_invalid_settings(extra, expected, quick_run, tmp_path, capsys):
    capsys.readouterr()
    extra = [arg.format(tmp=tmp_path) for arg in extra]
    argv = ["scaling", "--data", str(quick_run / "data"), "--out", str(tmp_path / "out"), "--preset", "quick", *extra]
    assert main(argv) == 2
    assert expected in capsys.readouterr().err
