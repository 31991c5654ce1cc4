"""Two-process DistributedDataParallel training on the CPU with the Gloo backend, launched as torchrun would."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys

import pytest
import torch

from gpt_from_scratch.checkpoint import read_checkpoint
from gpt_from_scratch.config import TrainConfig
from gpt_from_scratch.data import prepare, read_meta
from gpt_from_scratch.metrics import read_metrics
from gpt_from_scratch.model import GPT

WORLD_SIZE = 2
CONFIG = TrainConfig(n_layer=2, n_head=2, n_embd=32, block_size=16, batch_size=4, dropout=0.1, max_iters=6,
                     lr_decay_iters=6, warmup_iters=2, eval_interval=3, eval_iters=4, log_interval=1,
                     gradient_accumulation_steps=2)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flat_parameters(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


# Each rank runs this script, as torchrun would start it: one straight run, then a split run resumed halfway.
RANK_SCRIPT = """
import dataclasses, json, os, sys
import torch
from gpt_from_scratch.config import TrainConfig
from gpt_from_scratch.training import train

torch.set_num_threads(1)
data_dir, root, ports = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
config = TrainConfig(**json.loads(sys.argv[4]))
runs = [("straight", config, False), ("split", dataclasses.replace(config, max_iters=3), False),
        ("split", config, True)]
for (name, run_config, resume), port in zip(runs, ports):
    os.environ["MASTER_PORT"] = str(port)
    result = train(run_config, data_dir, os.path.join(root, name), device="cpu", resume=resume, progress=False)
    parameters = torch.cat([p.detach().flatten() for p in result.model.parameters()])
    torch.save(parameters, os.path.join(root, f"{name}-rank{os.environ['RANK']}.pt"))
"""


@pytest.fixture(scope="module")
def ddp_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    rng = random.Random(0)
    words = ["the", "king", "shall", "not", "be", "love", "night"]
    text = "\n".join(" ".join(rng.choice(words) for _ in range(8)) for _ in range(300))
    (root / "corpus.txt").write_text(text, encoding="utf-8")
    prepare(root / "data", input_path=root / "corpus.txt")

    ports = json.dumps([free_port() for _ in range(3)])
    command = [sys.executable, "-c", RANK_SCRIPT, str(root / "data"), str(root), ports, json.dumps(CONFIG.to_dict())]
    processes = []
    for rank in range(WORLD_SIZE):
        env = {**os.environ, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(WORLD_SIZE),
               "MASTER_ADDR": "127.0.0.1", "OMP_NUM_THREADS": "1"}
        processes.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          text=True))
    try:
        outputs = [process.communicate(timeout=300)[0] for process in processes]
    finally:
        for process in processes:
            process.kill()
    for rank, (process, output) in enumerate(zip(processes, outputs, strict=True)):
        assert process.returncode == 0, f"rank {rank} failed:\n{output}"
    return root


@pytest.mark.slow
def test_ddp_ranks_in_sync(ddp_runs):
    rank0 = torch.load(ddp_runs / "straight-rank0.pt")
    rank1 = torch.load(ddp_runs / "straight-rank1.pt")
    assert torch.equal(rank0, rank1)


@pytest.mark.slow
def test_ddp_weights_changed(ddp_runs):
    torch.manual_seed(CONFIG.seed)  # the seed that train() builds the model with
    initial = flat_parameters(GPT(CONFIG.model_config(read_meta(ddp_runs / "data")["vocab_size"])))
    assert not torch.equal(torch.load(ddp_runs / "straight-rank0.pt"), initial)


@pytest.mark.slow
def test_ddp_metrics_written_once(ddp_runs):
    rows = read_metrics(ddp_runs / "straight" / "metrics.jsonl")
    assert [row["iter"] for row in rows if row["kind"] == "step"] == list(range(6))
    assert [row["iter"] for row in rows if row["kind"] == "eval"] == [0, 3, 6]


@pytest.mark.slow
def test_ddp_tokens_per_iter(ddp_runs):
    run_config = json.loads((ddp_runs / "straight" / "config.json").read_text())
    assert run_config["world_size"] == 2
    assert run_config["tokens_per_iter"] == 4 * 16 * 2 * 2


@pytest.mark.slow
def test_ddp_checkpoint_has_both_ranks(ddp_runs):
    assert len(read_checkpoint(ddp_runs / "straight")["rng"]) == 2


@pytest.mark.slow
def test_ddp_resume_matches_uninterrupted(ddp_runs):
    assert torch.equal(torch.load(ddp_runs / "split-rank0.pt"), torch.load(ddp_runs / "straight-rank0.pt"))
    assert torch.equal(torch.load(ddp_runs / "split-rank1.pt"), torch.load(ddp_runs / "straight-rank1.pt"))
