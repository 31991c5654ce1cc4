"""Command-line tests: prepare, train and sample end to end on a tiny corpus, and one-line errors with exit code 2."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from gpt_from_scratch.checkpoint import read_checkpoint
from gpt_from_scratch.cli import main
from gpt_from_scratch.metrics import read_metrics

TINY_MODEL = ["--n-layer", "2", "--n-head", "2", "--n-embd", "32", "--block-size", "16", "--batch-size", "4",
              "--eval-iters", "2", "--log-interval", "1", "--progress"]


def write_corpus(path, seed: int, words: list[str]) -> None:
    rng = random.Random(seed)
    path.write_text("\n".join(" ".join(rng.choice(words) for _ in range(8)) for _ in range(300)) + "\n",
                    encoding="utf-8")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A prepared corpus and a run trained for 4 iterations, both through the CLI."""
    root = tmp_path_factory.mktemp("cli")
    write_corpus(root / "corpus.txt", 0, ["the", "king", "shall", "not", "be", "love", "night", "rome"])
    assert main(["prepare", "--input", str(root / "corpus.txt"), "--out", str(root / "data")]) == 0
    assert main(["train", "--data", str(root / "data"), "--out", str(root / "run"), "--device", "cpu",
                 "--max-iters", "4", "--eval-interval", "2", *TINY_MODEL]) == 0
    return root


def run_error(argv: list[str], capsys) -> str:
    """Run the CLI, check that it fails with exit code 2 and one line on stderr, and return that line."""
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    last_line = err.strip().splitlines()[-1]
    assert last_line.startswith("error: ")
    assert "Traceback" not in err
    return last_line


def test_train_outputs(workspace):
    names = sorted(path.name for path in (workspace / "run").iterdir())
    assert names == ["ckpt.pt", "config.json", "loss.png", "metrics.jsonl"]


def test_sample_streams_prompt_and_tokens(workspace, capsys):
    capsys.readouterr()
    assert main(["sample", "--checkpoint", str(workspace / "run"), "--prompt", "the king", "--max-new-tokens", "25",
                 "--seed", "1", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("the king")
    assert len(out) == len("the king") + 25 + 1  # one character per token, then a newline


def test_sample_no_stream_same_text(workspace, capsys):
    argv = ["sample", "--checkpoint", str(workspace / "run" / "ckpt.pt"), "--prompt", "rome", "--max-new-tokens",
            "30", "--seed", "5", "--top-k", "5", "--top-p", "0.9"]
    capsys.readouterr()
    main(argv)
    streamed = capsys.readouterr().out
    main([*argv, "--no-stream"])
    assert capsys.readouterr().out == streamed


def test_sample_num_samples(workspace, capsys):
    capsys.readouterr()
    main(["sample", "--checkpoint", str(workspace / "run"), "--prompt", "be", "--max-new-tokens", "5",
          "--num-samples", "3", "--seed", "0"])
    assert capsys.readouterr().out.count("---------------") == 2


def test_train_resume_continues(workspace):
    run = workspace / "resumed"
    base = ["train", "--data", str(workspace / "data"), "--out", str(run), "--device", "cpu", *TINY_MODEL]
    assert main([*base, "--max-iters", "3", "--eval-interval", "3", "--lr-decay-iters", "6"]) == 0
    assert main(["train", "--data", str(workspace / "data"), "--out", str(run), "--resume", "--max-iters", "6"]) == 0
    assert read_checkpoint(run)["iter"] == 6
    assert read_checkpoint(run)["train_config"]["n_embd"] == 32


def test_train_init_from(workspace):
    argv = ["train", "--data", str(workspace / "data"), "--out", str(workspace / "tuned"), "--device", "cpu",
            "--init-from", str(workspace / "run"), "--max-iters", "2", "--eval-interval", "2", "--eval-iters", "2",
            "--batch-size", "4"]
    assert main(argv) == 0
    assert read_checkpoint(workspace / "tuned")["model_config"]["n_embd"] == 32


def test_error_init_from_other_vocab(workspace, tmp_path, capsys):
    write_corpus(tmp_path / "other.txt", 1, ["xyz", "quux", "jump"])
    main(["prepare", "--input", str(tmp_path / "other.txt"), "--out", str(tmp_path / "data")])
    line = run_error(["train", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "run"),
                      "--init-from", str(workspace / "run"), *TINY_MODEL], capsys)
    assert "different char tokenizer" in line


@pytest.mark.parametrize(("argv", "expected"), [
    (["train", "--data", "{tmp}/missing", "--out", "{tmp}/run"], "prepare"),
    (["train", "--data", "{data}", "--out", "{tmp}/run", "--resume"], "nothing to resume"),
    (["train", "--data", "{data}", "--out", "{tmp}/run", "--config", "{tmp}/none.json"], "config file"),
    (["train", "--data", "{data}", "--out", "{tmp}/run", "--lr", "-1"], "learning_rate=-1.0 is invalid"),
    (["train", "--data", "{data}", "--out", "{tmp}/run", "--block-size", "100000"], "block_size"),
    (["sample", "--checkpoint", "{tmp}/nothing"], "not found; train a model first"),
    (["sample", "--checkpoint", "{run}", "--prompt", "Zebra!"], "'Z'"),
    (["sample", "--checkpoint", "{run}", "--max-new-tokens", "0"], "--max-new-tokens 0 is invalid"),
    (["sample", "--checkpoint", "{run}", "--prompt", "the king shall not be"], "more than the model's block size"),
    (["sample", "--checkpoint", "{run}", "--top-p", "2"], "top-p 2.0 is invalid"),
    (["sample", "--checkpoint", "{run}", "--temperature", "-1"], "temperature -1.0 is invalid"),
], ids=["missing-data", "resume-empty", "missing-config", "negative-lr", "block-too-long", "missing-checkpoint",
        "char-outside-vocab", "zero-tokens", "long-prompt", "top-p", "temperature"])
def test_error_exit(argv, expected, workspace, tmp_path, capsys):
    values = {"tmp": str(tmp_path), "data": str(workspace / "data"), "run": str(workspace / "run")}
    line = run_error([arg.format(**values) for arg in argv], capsys)
    assert expected in line


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown when CUDA is absent")
def test_error_cuda_unavailable(workspace, capsys):
    line = run_error(["sample", "--checkpoint", str(workspace / "run"), "--device", "cuda"], capsys)
    assert "CUDA is not available" in line


def test_long_prompt_cropped(workspace, capsys):
    capsys.readouterr()
    assert main(["sample", "--checkpoint", str(workspace / "run"), "--prompt", "the king shall not be",
                 "--crop-prompt", "--max-new-tokens", "3", "--seed", "0"]) == 0


@pytest.mark.slow
def test_python_m_entry_point(workspace):
    command = [sys.executable, "-m", "gpt_from_scratch", "sample", "--checkpoint", str(workspace / "run"),
               "--prompt", "love", "--max-new-tokens", "10", "--seed", "3"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("love")

    failed = subprocess.run([*command[:5], str(workspace / "absent")], capture_output=True, text=True, timeout=120)
    assert failed.returncode == 2
    assert failed.stderr.startswith("error: checkpoint")
    assert "Traceback" not in failed.stderr


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_ctrl_c_saves_checkpoint(workspace, tmp_path):
    run = tmp_path / "run"
    command = [sys.executable, "-m", "gpt_from_scratch", "train", "--data", str(workspace / "data"), "--out", str(run),
               "--device", "cpu", "--max-iters", "100000", "--eval-interval", "100000", *TINY_MODEL, "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not _has_step_rows(run / "metrics.jsonl"):
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()

    assert process.returncode == 0, err
    assert "continue with --resume" in err
    assert read_checkpoint(run)["iter"] > 0


def _has_step_rows(path) -> bool:
    return path.exists() and any(row["kind"] == "step" for row in read_metrics(path))


def test_error_corrupt_checkpoint(workspace, tmp_path, capsys):
    truncated = tmp_path / "ckpt.pt"
    truncated.write_bytes((workspace / "run" / "ckpt.pt").read_bytes()[:1000])
    line = run_error(["sample", "--checkpoint", str(truncated)], capsys)
    assert "it is truncated or not a gpt_from_scratch checkpoint" in line


def test_error_output_is_file(workspace, tmp_path, capsys):
    (tmp_path / "taken").write_text("not a folder")
    line = run_error(["train", "--data", str(workspace / "data"), "--out", str(tmp_path / "taken"), *TINY_MODEL],
                     capsys)
    assert "is a file; pass another --out" in line
