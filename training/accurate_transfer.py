"""Move MiniLM weights to and from a GPU machine whose calls carry only ~20 MB each.

The base model (all-MiniLM-L6-v2, 88 MB in fp32) does not fit in one call of the device tool,
so it travels in two packs, and the fine-tuned weights come back as fp16 shards:

* ``pack`` (here): the word-embedding rows of the token ids that occur in the examples (train
  and validation; the other rows never get a gradient, so training leaves them at the base
  values) and every other tensor, rounded to fp16, each pack one blob whose high and low bytes
  are stored apart and xz-compressed (the high bytes compress to ~70 %), plus a JSON index with
  each tensor's sum, and a reference embedding of three example texts::

      python training/accurate_transfer.py pack --model BASE --examples EX.jsonl.gz --out .gpu

  writes ``.gpu/a`` (the examples and the embedding rows) and ``.gpu/b`` (the other tensors,
  the config and tokenizer files).
* ``unpack`` (there; numpy + torch + safetensors): rebuilds a model folder (fp32 safetensors,
  unused embedding rows zero), checks each tensor's sum and the reference embedding::

      python3 training/accurate_transfer.py unpack --packs .gpu/a .gpu/b --out /tmp/base

* ``shards`` (there): a fine-tuned state dict (``weights.safetensors`` from ``train_accurate.py
  train --save-weights``) to fp16 safetensors shards of at most ``--max-mb`` MB, with only the
  used embedding rows.
* ``merge`` (here): those shards plus the base model to a full fp32 ``weights.safetensors``
  (the unused embedding rows from the base) that ``train_accurate.py export`` reads.
"""

from __future__ import annotations

import argparse
import gzip
import json
import lzma
import math
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

WORD = "embeddings.word_embeddings.weight"
META_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
META_FILES += ("vocab.txt",)


def _write_blob(tensors: dict[str, Any], path: Path, extra: dict[str, Any]) -> None:
    """fp16 tensors -> ``path.xz`` (high bytes, then low bytes) and ``path.json`` (the index)."""
    index: list[dict[str, Any]] = []
    parts = []
    offset = 0
    for name, value in tensors.items():
        arr = np.ascontiguousarray(np.asarray(value, dtype=np.float32).astype(np.float16))
        index.append(
            {
                "name": name,
                "shape": list(arr.shape),
                "offset": offset,
                "size": int(arr.size),
                "sum": float(arr.astype(np.float64).sum()),
            }
        )
        parts.append(arr.ravel())
        offset += arr.size
    flat = np.concatenate(parts).view(np.uint8).reshape(-1, 2)
    payload = flat[:, 1].tobytes() + flat[:, 0].tobytes()
    path.with_suffix(".xz").write_bytes(lzma.compress(payload, preset=6))
    meta = {"tensors": index, "elements": offset, **extra}
    path.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")


def _read_blob(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fp32 tensors of a blob written by ``_write_blob``, each checked against its sum."""
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    raw = np.frombuffer(lzma.decompress(path.with_suffix(".xz").read_bytes()), dtype=np.uint8)
    n = meta["elements"]
    flat = np.empty((n, 2), dtype=np.uint8)
    flat[:, 1] = raw[:n]
    flat[:, 0] = raw[n:]
    values = flat.reshape(-1).view(np.float16)
    out: dict[str, Any] = {}
    for t in meta["tensors"]:
        arr = values[t["offset"] : t["offset"] + t["size"]].reshape(t["shape"])
        if abs(float(arr.astype(np.float64).sum()) - t["sum"]) > 1e-6 * max(1.0, abs(t["sum"])):
            raise ValueError(f"{path}: tensor {t['name']} does not match its checksum")
        out[t["name"]] = arr.astype(np.float32)
    return out, meta


def used_ids(examples: Path, tokenizer: Path) -> list[int]:
    """Every token id that occurs in the examples' texts (no truncation), special ids too."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer))
    tok.no_truncation()
    tok.no_padding()
    with gzip.open(examples, "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh]
    ids: set[int] = set(range(1000))  # [PAD], [unused*], [UNK], [CLS], [SEP], [MASK]
    for enc in tok.encode_batch(texts):
        ids.update(enc.ids)
    return sorted(ids)


def _reference(model: Path, texts: list[str]) -> list[list[float]]:
    """Mean-pooled base embeddings of ``texts`` (fp16-rounded weights), to check the unpack."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model))
    enc = AutoModel.from_pretrained(str(model)).eval()
    with torch.no_grad():
        for p in enc.parameters():
            p.copy_(p.half().float())
        batch = tok(texts, padding=True, return_tensors="pt")
        hidden = enc(**batch)[0]
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1)
    return [[float(x) for x in row] for row in pooled]


def pack(model: Path, examples: Path, out: Path) -> int:
    from safetensors.numpy import load_file

    weights = load_file(str(model / "model.safetensors"))
    ids = used_ids(examples, model / "tokenizer.json")
    with gzip.open(examples, "rt", encoding="utf-8") as fh:
        texts = [json.loads(next(fh))["text"] for _ in range(3)]
    a, b = out / "a", out / "b"
    for d in (a, b):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    shutil.copy(examples, a / "examples.jsonl.gz")
    vocab = int(weights[WORD].shape[0])
    _write_blob({WORD: weights[WORD][ids]}, a / "embedding", {"ids": ids, "vocab": vocab})
    rest = {k: v for k, v in weights.items() if k != WORD and v.dtype.kind == "f"}
    _write_blob(
        rest, b / "encoder", {"reference_texts": texts, "reference": _reference(model, texts)}
    )
    for name in META_FILES:
        shutil.copy(model / name, b / name)
    for d in (a, b):
        size = sum(f.stat().st_size for f in d.iterdir())
        print(f"{d}: {size / 1e6:.1f} MB")
    print(f"{len(ids)} of {vocab} embedding rows")
    return 0


def unpack(packs: Sequence[Path], out: Path) -> int:
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModel, AutoTokenizer

    out.mkdir(parents=True, exist_ok=True)
    emb_dir = next(p for p in packs if (p / "embedding.json").is_file())
    enc_dir = next(p for p in packs if (p / "encoder.json").is_file())
    emb, emb_meta = _read_blob(emb_dir / "embedding")
    rest, rest_meta = _read_blob(enc_dir / "encoder")
    rows = emb[WORD]
    full = np.zeros((emb_meta["vocab"], rows.shape[1]), dtype=np.float32)
    full[emb_meta["ids"]] = rows
    tensors = {k: torch.from_numpy(v) for k, v in rest.items()}
    tensors[WORD] = torch.from_numpy(full)
    save_file(tensors, str(out / "model.safetensors"))
    (out / "used_ids.json").write_text(json.dumps(emb_meta["ids"]), encoding="utf-8")
    for name in META_FILES:
        shutil.copy(enc_dir / name, out / name)
    # the reassembled model must load and embed the reference texts as the base did
    tok = AutoTokenizer.from_pretrained(str(out))
    model = AutoModel.from_pretrained(str(out)).eval()
    with torch.no_grad():
        batch = tok(rest_meta["reference_texts"], padding=True, return_tensors="pt")
        hidden = model(**batch)[0]
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1)
    ref = torch.tensor(rest_meta["reference"])
    cos = torch.nn.functional.cosine_similarity(pooled, ref).min().item()
    print(f"unpacked {len(tensors)} tensors to {out}; reference cosine {cos:.6f}")
    if cos < 0.9999:
        raise SystemExit("the reassembled model does not match the base")
    return 0


def shards(weights: Path, used: Path, out: Path, max_mb: float, prefix: str) -> int:
    """A fine-tuned state dict -> fp16 safetensors shards of at most ``max_mb`` MB."""
    import torch
    from safetensors.torch import load_file, save_file

    state = load_file(str(weights))
    ids = torch.tensor(json.loads(used.read_text(encoding="utf-8")))
    key = next(k for k in state if k.endswith(WORD))
    state[key] = state[key][ids]
    out.mkdir(parents=True, exist_ok=True)
    limit = int(max_mb * 1e6)
    items: list[tuple[str, Any]] = []
    for name, value in state.items():
        value = value.half() if value.is_floating_point() else value
        parts = math.ceil(value.numel() * value.element_size() / limit)
        if parts > 1:  # the embedding rows: split into equal pieces
            step = math.ceil(value.shape[0] / parts)
            for i in range(0, value.shape[0], step):
                items.append((f"{name}@{i}", value[i : i + step].contiguous()))
        else:
            items.append((name, value.contiguous()))
    # first fit, largest first
    groups: list[dict[str, Any]] = []
    sizes: list[int] = []
    for name, value in sorted(items, key=lambda kv: -kv[1].numel() * kv[1].element_size()):
        size = value.numel() * value.element_size()
        for g, used in enumerate(sizes):
            if used + size <= limit:
                groups[g][name] = value
                sizes[g] += size
                break
        else:
            groups.append({name: value})
            sizes.append(size)
    n = 0
    for group in groups:
        if group:
            save_file(group, str(out / f"{prefix}{n}.safetensors"))
            n += 1
    print(f"{n} shards in {out}")
    return 0


def merge(shard_files: Sequence[Path], base: Path, used_from: Path, out: Path) -> int:
    """Shards + base -> full fp32 ``out/weights.safetensors``."""
    import torch
    from safetensors.torch import load_file, save_file

    state: dict[str, Any] = {}
    pieces: dict[str, list[tuple[int, Any]]] = {}
    for f in shard_files:
        for name, value in load_file(str(f)).items():
            if "@" in name:
                key, start = name.split("@")
                pieces.setdefault(key, []).append((int(start), value))
            else:
                state[name] = value.float() if value.is_floating_point() else value
    base_state = load_file(str(base / "model.safetensors"))
    used = json.loads(used_from.read_text(encoding="utf-8"))  # used_ids.json or embedding.json
    ids = torch.tensor(used["ids"] if isinstance(used, dict) else used)
    for key, parts in pieces.items():
        rows = torch.cat([v for _, v in sorted(parts, key=lambda p: p[0])]).float()
        full = base_state[WORD].clone()
        full[ids] = rows
        state[key] = full
    out.mkdir(parents=True, exist_ok=True)
    save_file(state, str(out / "weights.safetensors"))
    print(f"merged {len(state)} tensors into {out / 'weights.safetensors'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--examples", type=Path, required=True)
    p.add_argument("--out", type=Path, default=Path(".gpu"))
    u = sub.add_parser("unpack")
    u.add_argument("--packs", type=Path, nargs="+", required=True)
    u.add_argument("--out", type=Path, required=True)
    s = sub.add_parser("shards")
    s.add_argument("--weights", type=Path, required=True)
    s.add_argument("--used", type=Path, required=True, help="used_ids.json written by unpack")
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--max-mb", type=float, default=15.0)
    s.add_argument("--prefix", default="weights-")
    m = sub.add_parser("merge")
    m.add_argument("--shards", type=Path, nargs="+", required=True)
    m.add_argument("--base", type=Path, required=True)
    m.add_argument("--used", type=Path, required=True)
    m.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if args.cmd == "pack":
        return pack(args.model, args.examples, args.out)
    if args.cmd == "unpack":
        return unpack(args.packs, args.out)
    if args.cmd == "shards":
        return shards(args.weights, args.used, args.out, args.max_mb, args.prefix)
    return merge(args.shards, args.base, args.used, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
