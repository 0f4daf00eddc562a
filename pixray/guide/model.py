"""The embedded guide: a small image tower and a word-level text tower trained contrastively
(CLIP-style) on emoji, so pixray can steer pictures with no download.

The same classes, with other sizes, make the independent judge used by benchmarks/guide_quality.py.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

# Words that say nothing about *what* is drawn: prompts like "a red apple #pixelart" keep "red apple".
STOPWORDS = frozenset("a an the of with and in on at to for is are this that pixel pixels pixelart art icon "
                      "icons emoji sprite sprites picture image drawing style 8bit 16bit bit".split())


# What pixray users add to a prompt about how it is drawn, not what it shows ("a sword, 16-bit game
# sprite", "a ghost, low-res", "#pixelart"): read as words, "asset" was the plus sign, "res" a puzzle
# piece, the 16 of "16-bit" a keycap (benchmarks/retrieval.py, session 29). Words alone, pairs of words
# (hyphened or not), a number before "bit", and hashtags. Every emoji name reads as before (tested).
STYLE_WORDS = frozenset("asset assets isometric retro minimalist voxel voxels illustration artstation hd 4k 8k "
                        "nes snes gameboy pico8 lowres hires lowpoly clipart tileset tilesets spritesheet".split())
STYLE_PAIRS = frozenset(tuple(pair.split()) for pair in (
    "game asset", "game assets", "game sprite", "game sprites", "game art", "game icon", "game icons",
    "game graphics", "game item", "game items", "sprite sheet", "sprite sheets", "tile set", "tile sets",
    "low res", "high res", "hi res", "low resolution", "high resolution", "trending on", "unreal engine",
    "octane render", "low poly", "clip art", "pico 8"))
PHRASE_WORDS = 3  # the most words a reading of several words has (guide/aliases.py: COMPOUND_WORDS)
# Plurals no rule of singulars() undoes; read as their singular before any reading of the plural itself
# ("oxen" was WordNet's taurus, "mice" a guess from its letters).
IRREGULAR_PLURALS = {"mice": "mouse", "oxen": "ox", "geese": "goose", "teeth": "tooth", "feet": "foot",
                     "children": "child", "people": "person", "lice": "louse", "dice": "die", "cacti": "cactus",
                     "fungi": "fungus", "octopi": "octopus"}
JOINED_PART = 3  # the shortest part of a joined word read as two ("racecar" → race car)


def words(text: str) -> list[str]:
    """The words of a text that say what is drawn: without STOPWORDS and what STYLE_WORDS and STYLE_PAIRS say."""
    said, kept, at = re.findall(r"#?[a-z0-9]+", text.lower()), [], 0
    while at < len(said):
        pair = tuple(said[at:at + 2])
        if pair in STYLE_PAIRS or (said[at].isdigit() and pair[1:] in (("bit",), ("bits",))):
            at += 2
            continue
        if not said[at].startswith("#") and said[at] not in STYLE_WORDS and said[at] not in STOPWORDS:
            kept.append(said[at])
        at += 1
    return kept


def says_a_thing(text: str) -> bool:
    """Whether a prompt has a word about what is drawn, not only how ("8-bit", "pixel art"); emoji characters
    count once spelled out (guide/bank.py: spelled_out)."""
    return bool(words(text))


def singulars(word: str) -> list[str]:
    """The forms an English plural may come from: 'candles' → candle, 'cherries' → cherry."""
    rules = [("ies", "y"), ("ves", "f"), ("ves", "fe"), ("men", "man"), ("es", ""), ("s", "")]
    return [word[: -len(end)] + base for end, base in rules if word.endswith(end) and len(word) > len(end) + 2]


def trigram_ids(word: str, buckets: int) -> list[int]:
    """Stable hashed character trigrams of '<word>': 'apples' shares most of them with 'apple'."""
    padded = f"<{word}>"
    return [zlib.crc32(padded[i:i + 3].encode()) % buckets for i in range(max(1, len(padded) - 2))]


@dataclass
class GuideConfig:
    image_size: int = 32
    channels: list = field(default_factory=lambda: [32, 64, 128, 192])
    kernel: int = 3
    embed_dim: int = 128
    word_dim: int = 128
    buckets: int = 4096
    vocab: list = field(default_factory=list)
    aliases: dict = field(default_factory=dict)  # unknown word → the known word(s) it is read as (aliases.py)
    # how much a word with no reading counts in the prompt's mean, guessed from its letters alone
    # ("spooky" in "a spooky ghost"); the shipped guide and the judge use 0.25 (train.py's recipes);
    # 1.0 for files saved before the setting existed
    unknown_weight: float = 1.0


class ImageTower(nn.Module):
    """Conv → norm → SiLU stages, each halving the size, then global average pooling."""

    def __init__(self, config: GuideConfig):
        super().__init__()
        layers, channels = [], 3
        for i, width in enumerate(config.channels):
            stride = 1 if i == 0 else 2
            layers += [nn.Conv2d(channels, width, config.kernel, stride, config.kernel // 2), nn.BatchNorm2d(width),
                       nn.SiLU(), nn.Conv2d(width, width, 3, 1, 1), nn.BatchNorm2d(width), nn.SiLU()]
            channels = width
        self.features = nn.Sequential(*layers)
        self.project = nn.Linear(channels, config.embed_dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.project(self.features((images - 0.5) / 0.25).mean((2, 3)))


class TextTower(nn.Module):
    """Mean of word vectors (known word + its character trigrams), then an MLP. A word it never learned
    is read as its singular or as its WordNet reading ("cottage" → house) when it has one, else guessed
    from its letters and weighted `config.unknown_weight` in the mean. Words that name one thing
    together have a reading too ("fire truck" → fire engine; guide/aliases.py)."""

    def __init__(self, config: GuideConfig):
        super().__init__()
        self.vocab = {w: i + 1 for i, w in enumerate(config.vocab)}  # 0: unknown word
        self.aliases = config.aliases
        self.unknown_weight = config.unknown_weight
        self.buckets = config.buckets
        self.word = nn.Embedding(len(config.vocab) + 1, config.word_dim)
        self.grams = nn.EmbeddingBag(config.buckets, config.word_dim, mode="mean")
        self.mlp = nn.Sequential(nn.Linear(config.word_dim, 256), nn.GELU(), nn.Linear(256, config.embed_dim))

    def read(self, word: str) -> str:
        """The word(s) encoded for a prompt word: itself if known, else its singular or its reading (an
        emoji's name may be two words: "ladybird" → "lady beetle"), else, for two words written as one,
        the pair's reading ("racecar" → racing car), else itself (guessed from its letters)."""
        if word not in self.vocab and word in IRREGULAR_PLURALS:
            word = IRREGULAR_PLURALS[word]
        for form in (word, *singulars(word)):
            if form in self.vocab:
                return form
            if form in self.aliases:
                return self.aliases[form]
        return self.read_joined(word) or word

    def read_joined(self, word: str) -> str | None:
        """Two words written as one that name one thing: the reading of the pair ("racecar" → racing car), or
        None. (Any two known words would split too much: "stubborn" into stub + born, "chasing" cha + sing.)"""
        for at in range(JOINED_PART, len(word) - JOINED_PART + 1):
            phrase = self.read_phrase([word[:at], word[at:]])
            if phrase:
                return phrase
        return None

    def read_phrase(self, phrase: list[str]) -> str | None:
        """The reading of several words that name one thing ("fire truck" → fire engine), or None."""
        for last in (phrase[-1], *singulars(phrase[-1])):
            found = self.aliases.get(" ".join([*phrase[:-1], last]))
            if found:
                return found
        return None

    def knows(self, word: str) -> bool:
        return all(part in self.vocab for part in self.read(word).split())

    def tokens(self, text: str) -> list[str]:
        """The words encoded for a prompt: a run of words that names one thing (the longest first) as its
        reading, every other word as `read` has it."""
        said, found = words(text), []
        at = 0
        while at < len(said):
            for size in range(min(PHRASE_WORDS, len(said) - at), 1, -1):
                phrase = self.read_phrase(said[at:at + size])
                if phrase:
                    found += phrase.split()
                    at += size
                    break
            else:
                found += self.read(said[at]).split()
                at += 1
        return found

    def forward(self, texts: list[str]) -> torch.Tensor:
        # every token of every text in one lookup (one per text made training on a GPU wait on thousands of
        # tiny copies), then each text's weighted mean of its tokens' vectors
        device = self.word.weight.device
        tokens = [self.tokens(text) or ["<empty>"] for text in texts]
        flat_tokens = [w for text_tokens in tokens for w in text_tokens]
        grams = [trigram_ids(w, self.buckets) for w in flat_tokens]
        ids = torch.tensor([self.vocab.get(w, 0) for w in flat_tokens], device=device)
        offsets = torch.tensor([0] + [len(g) for g in grams[:-1]], device=device).cumsum(0)
        flat = torch.tensor([i for g in grams for i in g], device=device)
        weights = torch.tensor([1.0 if w in self.vocab else self.unknown_weight for w in flat_tokens], device=device)
        owner = torch.tensor([n for n, text_tokens in enumerate(tokens) for _ in text_tokens], device=device)
        weighted = weights[:, None] * (self.word(ids) + self.grams(flat, offsets))
        sums = weighted.new_zeros(len(texts), weighted.shape[1]).index_add_(0, owner, weighted)
        totals = weights.new_zeros(len(texts)).index_add_(0, owner, weights)
        return self.mlp(sums / totals[:, None])


class SavedModule(nn.Module):
    """A module built from a dataclass config, saved as tensors and plain containers only, so
    torch.load(..., weights_only=True) reads it. Subclasses name their format and config class."""

    file_format: str
    config_class: type

    def to_file(self) -> dict:
        return {"format": self.file_format, "config": asdict(self.config),
                "state_dict": {k: v.detach().cpu() for k, v in self.state_dict().items()}}

    @classmethod
    def from_file(cls, data: dict):
        """The saved model, frozen for inference."""
        if data.get("format") != cls.file_format:
            raise ValueError(f"not a {cls.file_format} file")
        model = cls(cls.config_class(**data["config"]))
        model.load_state_dict(data["state_dict"])
        return model.eval().requires_grad_(False)


class GuideModel(SavedModule):
    file_format = "pixray-guide-1"
    config_class = GuideConfig

    def __init__(self, config: GuideConfig):
        super().__init__()
        self.config = config
        self.image = ImageTower(config)
        self.text = TextTower(config)
        self.logit_scale = nn.Parameter(torch.tensor(2.659))  # ln(1/0.07), as CLIP

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.image(images), dim=-1)

    def encode_text(self, texts: list[str]) -> torch.Tensor:
        return F.normalize(self.text(texts), dim=-1)
