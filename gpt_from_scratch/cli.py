"""Command line: ``python -m gpt_from_scratch prepare|train|sample|scaling|rlvr``.

torch is imported only by the subcommands that need it, so ``prepare`` and ``--help`` start fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from gpt_from_scratch import prepare as prepare_command
from gpt_from_scratch import rlvr_experiment as rlvr_command
from gpt_from_scratch import scaling as scaling_command
from gpt_from_scratch.errors import GPTError
from practicekit import AssetError, setup_logging

logger = logging.getLogger("gpt_from_scratch")

DEVICE_HELP = "auto (CUDA, then Apple MPS, then CPU), cpu, cuda, cuda:N or mps (default: auto)"
THREADS_HELP = "torch CPU threads (default: torch's choice, usually one per core)"


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    from gpt_from_scratch.config import add_config_arguments

    parser.add_argument("--data", type=Path, required=True, metavar="DIR",
                        help="prepared data folder (train.bin, val.bin, meta.json) from the prepare command")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="run folder for ckpt.pt, config.json, metrics.jsonl and loss.png")
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)
    parser.add_argument("--threads", type=int, metavar="N", help=THREADS_HELP)
    parser.add_argument("--config", metavar="PATH",
                        help="JSON file of training settings, or a bundled config name such as shakespeare_char_gpu "
                             "(default: the CPU config shakespeare_char_cpu)")
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--resume", action="store_true",
                       help="continue the run in --out from its ckpt.pt with the same settings; flags given here "
                            "(such as a larger --max-iters) override them")
    start.add_argument("--init-from", type=Path, metavar="CHECKPOINT",
                       help="start from the weights of a trained model (run folder or .pt file) to fine-tune it on "
                            "--data, which must use the same tokenizer")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress bar (default: only when stderr is a terminal)")
    add_config_arguments(parser)


def run_train(args: argparse.Namespace) -> int:
    from gpt_from_scratch.checkpoint import CHECKPOINT_FILE, read_checkpoint
    from gpt_from_scratch.config import TrainConfig, config_from_dict, load_config_file, overrides_from_args
    from gpt_from_scratch.devices import set_threads
    from gpt_from_scratch.training import train

    set_threads(args.threads)
    config = TrainConfig()
    if args.resume:
        path = args.out / CHECKPOINT_FILE
        if not path.is_file():
            raise GPTError(f"nothing to resume: {path} not found; drop --resume to start a new run in {args.out}")
        config = config_from_dict(read_checkpoint(path)["train_config"], source=str(path))
    if args.config:
        config = load_config_file(args.config, base=config)
    config = config_from_dict(overrides_from_args(args), base=config, source="command line")

    result = train(config, args.data, args.out, device=args.device, resume=args.resume, init_from=args.init_from,
                   progress=args.progress)
    if int(os.environ.get("RANK", "0")) == 0:
        ending = "stopped" if result.interrupted else "finished"
        logger.info("%s at iteration %d: best val loss %.4f; run folder %s", ending, result.iteration,
                    result.best_val_loss, result.out_dir)
    return 0


def add_sample_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, required=True, metavar="PATH",
                        help="run folder (with ckpt.pt) or checkpoint file of a trained model")
    parser.add_argument("--prompt", default="\n", help="text to continue (default: a newline)")
    parser.add_argument("--max-new-tokens", type=int, default=500, metavar="N",
                        help="tokens to generate (default: 500)")
    parser.add_argument("--temperature", type=float, default=0.8,
                        help="divide the logits by this value: below 1 is more conservative, 0 is greedy "
                             "(default: 0.8)")
    parser.add_argument("--top-k", type=int, metavar="K", help="sample only from the K most likely tokens")
    parser.add_argument("--top-p", type=float, metavar="P",
                        help="sample only from the most likely tokens whose probabilities sum to P (nucleus sampling)")
    parser.add_argument("--seed", type=int, help="random seed, for reproducible output on the same device")
    parser.add_argument("--num-samples", type=int, default=1, metavar="N",
                        help="independent samples to draw (default: 1)")
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)
    parser.add_argument("--threads", type=int, metavar="N", help=THREADS_HELP)
    parser.add_argument("--no-stream", dest="stream", action="store_false",
                        help="print each sample when it is complete instead of token by token")
    parser.add_argument("--no-cache", dest="use_cache", action="store_false",
                        help="recompute every position at each step instead of using the KV cache (slower)")
    parser.add_argument("--crop-prompt", action="store_true",
                        help="keep only the last block-size tokens of a longer prompt instead of failing")


def run_sample(args: argparse.Namespace) -> int:
    from gpt_from_scratch.checkpoint import load_checkpoint
    from gpt_from_scratch.devices import set_threads
    from gpt_from_scratch.sample import SamplingSettings, encode_prompt, generate

    if args.max_new_tokens < 1:
        raise GPTError(f"--max-new-tokens {args.max_new_tokens} is invalid; ask for at least 1 token")
    if args.num_samples < 1:
        raise GPTError(f"--num-samples {args.num_samples} is invalid; ask for at least 1 sample")
    SamplingSettings(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p)  # validate before loading
    set_threads(args.threads)

    checkpoint = load_checkpoint(args.checkpoint, device=args.device)
    logger.info("loaded %s (iteration %d, %s tokenizer)", checkpoint.path, checkpoint.iteration,
                checkpoint.tokenizer.name)
    encode_prompt(checkpoint.tokenizer, args.prompt, checkpoint.model_config.block_size, crop=args.crop_prompt)

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    for index in range(args.num_samples):
        seed = None if args.seed is None else args.seed + index
        if index > 0:
            write("\n---------------\n")
        write(args.prompt)
        text = generate(checkpoint.model, checkpoint.tokenizer, args.prompt, args.max_new_tokens,
                        temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, seed=seed,
                        use_cache=args.use_cache, crop_prompt=args.crop_prompt,
                        on_text=write if args.stream else None)
        if not args.stream:
            write(text)
    write("\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gpt_from_scratch",
                                     description="Prepare data for, train and sample a GPT written from scratch, "
                                                 "and run the scaling-law and RLVR experiments.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    prepare = commands.add_parser("prepare", help="tokenize a text corpus into train/val token files",
                                  description=prepare_command.__doc__)
    prepare_command.add_arguments(prepare)
    prepare.set_defaults(run=prepare_command.run)

    train = commands.add_parser("train", help="train a GPT on prepared data",
                                description="Train a GPT; settings come from the defaults, then --config, then flags.")
    add_train_arguments(train)
    train.set_defaults(run=run_train)

    sample = commands.add_parser("sample", help="generate text from a trained GPT",
                                 description="Generate text from a checkpoint, streamed token by token.")
    add_sample_arguments(sample)
    sample.set_defaults(run=run_sample)

    scaling = commands.add_parser("scaling", help="train several model sizes and fit a scaling law",
                                  description=scaling_command.__doc__.split("\n\n")[0])
    scaling_command.add_arguments(scaling)
    scaling.set_defaults(run=scaling_command.run)

    rlvr = commands.add_parser("rlvr", help="pre-train on two-digit addition, then fine-tune with GRPO",
                               description=rlvr_command.__doc__.split("\n\n")[0])
    rlvr_command.add_arguments(rlvr)
    rlvr.set_defaults(run=rlvr_command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    try:
        return args.run(args)
    except (GPTError, AssetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of stdout went away (for example `| head`); stop quietly, as Python's docs recommend.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
