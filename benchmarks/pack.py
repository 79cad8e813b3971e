"""Prompt tokens per labelled turn: dialogue-packed vs per-turn requests (MathDial test).

    EDUDIAL_DATA=/work/shared/corpora python benchmarks/pack.py [--limit N] [--local K]

Runs ``mathdial-moves`` over the MathDial test file twice against the in-process fake server:
per-turn (the baseline: one request per teacher turn) and ``pack="dialogue"`` (one request per
dialogue). Token counts:

* ``fake``: the fake server's usage (words + punctuation marks);
* ``smollm2``: the request messages tokenized with the real SmolLM2 tokenizer (GGUF vocabulary
  through llama-cpp-python, when ``edudial[local]`` is installed; chat-template tokens, a few per
  message, are not counted, which favours the per-turn baseline);
* ``--local K``: both modes on the first K dialogues against the real local model; the server's
  own ``usage.prompt_tokens`` (slow on 2 cores: about 1-4 s per per-turn request).

Prints total and per-turn prompt tokens, the packed/per-turn ratio (target: <= 0.40), and the
median of the per-dialogue ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import corpora  # noqa: E402
from annotation import annotate, annotate_local  # noqa: E402
from annotation.local_server import bundled_model_path, local_backend_available  # noqa: E402
from tests.fake_openai import FakeOpenAI  # noqa: E402


def _tokenizer() -> Any:
    if not local_backend_available():
        return None
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(bundled_model_path()), vocab_only=True, verbose=False)
    return lambda text: len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))


def _run(corpus: Any, out: Path, pack: str | None, limit: int | None, ntok: Any) -> dict[str, Any]:
    with FakeOpenAI() as srv:
        t0 = time.perf_counter()
        res = annotate(
            corpus,
            "mathdial-moves",
            model="gpt-4o-mini",
            out=out,
            pack=pack,
            base_url=srv.url,
            api_key="sk-bench",
            concurrency=16,
            limit=limit,
        )
        wall = time.perf_counter() - t0
        real = (
            [sum(ntok(m["content"]) for m in b["messages"]) for b in srv.chat_bodies]
            if ntok
            else []
        )
    turns = res.counts["ok"] + res.counts["invalid"] + res.counts["error"]
    per_dialogue: dict[str, int] = defaultdict(int)
    for row in res.annotations.itertuples():
        per_dialogue[str(row.unit_id).rsplit(":", 1)[0]] += int(row.meta["usage"]["prompt_tokens"])
    return {
        "turns": turns,
        "requests": res.usage.requests,
        "fake": res.usage.prompt_tokens,
        "smollm2": sum(real) if real else None,
        "wall": wall,
        "per_dialogue": per_dialogue,
        "counts": res.counts,
    }


def _local(corpus: Any, k: int, tmp: Path) -> None:
    ids = list(corpus.dialogues["dialogue_id"][:k])
    sub = corpus.filter(dialogue_id=ids)
    out = {}
    for pack in (None, "dialogue"):
        t0 = time.perf_counter()
        res = annotate_local(sub, "mathdial-moves", out=tmp / f"local-{pack}", pack=pack)
        n = sum(res.counts.values())
        out[pack] = res.usage.prompt_tokens / max(n, 1)
        print(
            f"  local SmolLM2 {pack or 'per-turn':>9}: {n} turns, {res.usage.requests} "
            f"requests, {res.usage.prompt_tokens:,} prompt tokens "
            f"({out[pack]:.0f}/turn), {time.perf_counter() - t0:.0f} s, counts {res.counts}"
        )
    print(f"  local ratio packed/per-turn: {out['dialogue'] / out[None]:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="label only the first N turns")
    ap.add_argument(
        "--local",
        type=int,
        default=0,
        metavar="K",
        help="also run K dialogues through the real local model",
    )
    args = ap.parse_args()
    data = os.environ.get("EDUDIAL_DATA", str(ROOT.parent / "shared" / "corpora"))
    corpus = corpora.load("mathdial", Path(data) / "mathdial")
    ntok = _tokenizer()
    with tempfile.TemporaryDirectory() as tmp:
        base = _run(corpus, Path(tmp) / "turn", None, args.limit, ntok)
        packed = _run(corpus, Path(tmp) / "packed", "dialogue", args.limit, ntok)
        print(
            f"MathDial test, mathdial-moves: {base['turns']} teacher turns in "
            f"{len(base['per_dialogue'])} dialogues"
        )
        for name, r in (("per-turn", base), ("packed", packed)):
            line = (
                f"  {name:>9}: {r['requests']:5d} requests, fake {r['fake']:>10,} prompt "
                f"tokens ({r['fake'] / r['turns']:7.1f}/turn)"
            )
            if r["smollm2"] is not None:
                line += f", SmolLM2 {r['smollm2']:>10,} ({r['smollm2'] / r['turns']:7.1f}/turn)"
            print(line + f", {r['wall']:.1f} s, {r['counts']}")
        print(
            f"ratio packed/per-turn, prompt tokens per labelled turn: fake "
            f"{packed['fake'] / base['fake']:.3f}"
            + (
                f", SmolLM2 tokenizer {packed['smollm2'] / base['smollm2']:.3f}"
                if base["smollm2"]
                else " (SmolLM2 tokenizer not installed)"
            )
            + "  (target <= 0.40)"
        )
        ratios = [packed["per_dialogue"][d] / v for d, v in base["per_dialogue"].items() if v]
        print(
            f"median per-dialogue ratio (fake counts): {statistics.median(ratios):.3f} "
            f"(min {min(ratios):.3f}, max {max(ratios):.3f})"
        )
        if args.local:
            _local(corpus, args.local, Path(tmp))


if __name__ == "__main__":
    main()
