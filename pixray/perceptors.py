"""CLIP perceptors through open_clip: model names, the weight cache, the offline message."""

from __future__ import annotations

import functools
import os
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from .errors import SettingsError, WeightsUnavailableError

# pixray/OpenAI spellings → open_clip architecture names (all with the "openai" weights).
OPENAI_NAMES = {
    "ViT-B/32": "ViT-B-32", "ViT-B/16": "ViT-B-16", "ViT-L/14": "ViT-L-14", "ViT-L/14@336px": "ViT-L-14-336",
    "RN50": "RN50", "RN101": "RN101", "RN50x4": "RN50x4", "RN50x16": "RN50x16", "RN50x64": "RN50x64",
}
RANDOM = "random"  # pretrained tag for randomly initialised weights (tests, benchmarks)
EMBEDDED = "embedded"  # the small guide shipped inside the package (see MODEL_CARD.md)
GUIDE_WEIGHTS = Path(__file__).parent / "data" / "guide.pt"


@dataclass(frozen=True)
class ModelSpec:
    """One CLIP model: an open_clip architecture and where its weights come from."""

    name: str                  # as the user wrote it
    arch: str                  # open_clip architecture
    pretrained: str | None     # open_clip tag, a local file, or None for random weights

    @property
    def is_file(self) -> bool:
        return self.pretrained is not None and Path(self.pretrained).is_file()


def _open_clip():
    """open_clip, imported without tqdm's "IProgress not found" notice (huggingface_hub imports tqdm.auto;
    in a notebook without ipywidgets pixray's own bar is a text bar)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import open_clip
    return open_clip


def parse_model_name(name: str) -> ModelSpec:
    """'ViT-B/32', 'RN50', 'ARCH:TAG', 'ARCH:/path/to/weights.pt' or 'ARCH:random' → ModelSpec."""
    open_clip = _open_clip()

    if name == EMBEDDED or name.startswith(EMBEDDED + ":"):
        weights = name.partition(":")[2] or str(GUIDE_WEIGHTS)
        if not Path(weights).is_file():
            raise SettingsError(f"setting 'clip_models': embedded guide weights {weights!r} do not exist")
        return ModelSpec(name, EMBEDDED, weights)
    if name in OPENAI_NAMES:
        return ModelSpec(name, OPENAI_NAMES[name], "openai")
    arch, _, pretrained = name.partition(":")
    arch = arch.strip()
    if arch not in open_clip.list_models():
        import difflib
        close = difflib.get_close_matches(arch, list(OPENAI_NAMES) + open_clip.list_models(), n=3)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise SettingsError(f"setting 'clip_models': unknown model {name!r}{hint} (use a pixray name like "
                            f"ViT-B/32 or open_clip ARCH:PRETRAINED)")
    pretrained = pretrained.strip()
    tags = open_clip.list_pretrained_tags_by_model(arch)
    if not pretrained:
        if "openai" in tags:
            return ModelSpec(name, arch, "openai")
        if not tags:
            raise SettingsError(f"setting 'clip_models': {arch} has no published weights; "
                                f"use {arch}:/path/to/weights.pt or {arch}:random")
        return ModelSpec(name, arch, tags[0])
    if pretrained == RANDOM:
        return ModelSpec(name, arch, None)
    if pretrained in tags or Path(pretrained).is_file():
        return ModelSpec(name, arch, pretrained)
    if os.sep in pretrained or "/" in pretrained or Path(pretrained).suffix:
        raise SettingsError(f"setting 'clip_models': weights file {pretrained!r} for {arch} does not exist")
    raise SettingsError(f"setting 'clip_models': {arch} has no weights {pretrained!r}; allowed: "
                        f"{', '.join(tags + [RANDOM])} or a local file path")


def _cached_weights(arch: str, tag: str) -> str | None:
    """The local file for a published tag if the huggingface (or legacy URL) cache holds it."""
    from open_clip.pretrained import get_pretrained_cfg

    cfg = get_pretrained_cfg(arch, tag)
    if cfg.get("hf_hub"):
        from huggingface_hub import try_to_load_from_cache
        repo_id = cfg["hf_hub"].rstrip("/")
        for filename in ("open_clip_model.safetensors", "open_clip_pytorch_model.bin"):
            path = try_to_load_from_cache(repo_id, filename)
            if isinstance(path, str) and os.path.isfile(path):
                return path
    if cfg.get("url"):
        path = Path(os.path.expanduser("~/.cache/clip")) / os.path.basename(cfg["url"])
        if path.is_file():
            return str(path)
    return None


def _hub_reachable() -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false"):
        return False
    return _probe_hub()


@functools.cache
def _probe_hub(timeout: float = 3.0) -> bool:
    """Probe the hub once per process, so an offline machine fails in seconds, not after minutes of
    retries, and a batch of many jobs does not wait on it for each."""
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout):
            return True
    except OSError:
        return False


def _download_hint(spec: ModelSpec) -> str:
    return (f"CLIP weights for {spec.name!r} ({spec.arch}, {spec.pretrained}) are not in the local cache "
            f"and huggingface.co cannot be reached: run once with internet to fill the cache "
            f"(~/.cache/huggingface), or pass clip_models='{spec.arch}:/path/to/weights.pt' "
            f"(or '{spec.arch}:random' to test without meaningful guidance)")


class Perceptor(torch.nn.Module):
    """A frozen CLIP model with its input size and normalisation."""

    # The smallest part of the picture (fraction of its area) a cutout shows: CLIP knows a thing from a
    # detail (pixray's cutouts go down to 15 %).
    min_cut_area = 0.15
    # Whether it sees only the picture's centred square (cutouts.centre_square) rather than all of it.
    square_frame = False

    def __init__(self, spec: ModelSpec, model: torch.nn.Module, tokenizer, mean, std, image_size: int):
        super().__init__()
        self.spec = spec
        self.model = model.eval().requires_grad_(False)
        self.tokenizer = tokenizer
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))
        self.image_size = image_size

    @torch.no_grad()
    def encode_text(self, texts: list[str]) -> torch.Tensor:
        tokens = self.tokenizer(texts).to(self.mean.device)
        return F.normalize(self.model.encode_text(tokens).float(), dim=-1)

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        """(N,3,S,S) in [0,1] → (N,D) normalised embeddings; resized if S is not the model's size."""
        if images.shape[-1] != self.image_size or images.shape[-2] != self.image_size:
            images = F.interpolate(images, size=(self.image_size, self.image_size), mode="bilinear",
                                   align_corners=False, antialias=True)
        return F.normalize(self.model.encode_image((images - self.mean) / self.std).float(), dim=-1)

    def prompt_targets(self, texts: list[str], picture_mix: float) -> torch.Tensor:
        """What each text prompt steers towards: CLIP's reading of the words (`picture_mix` is the
        embedded guide's)."""
        return self.encode_text(texts)

    def reads_a_thing(self, text: str) -> bool:
        """Whether a text prompt says something this model can steer by (CLIP reads any text, "pixel art" too)."""
        return True


class EmbeddedPerceptor(Perceptor):
    """The shipped guide behind the Perceptor interface (it tokenises and normalises itself)."""

    # It learned whole sprites, zoomed by at most a quarter: shown small parts, it paints the
    # named thing again in every part of the picture.
    min_cut_area = 0.5
    # It asks every cutout for the whole thing: on a wide canvas the pixel drawer drew a frog 1.7 times
    # as wide as tall, one frog per cutout side by side; letterboxed on a square of paper, the cutouts
    # (half the square or more) were wider than the canvas is tall and the frog stayed wide. Shown the
    # centred square, it draws the thing there, as large as fits, where the trace and pale_outline
    # losses put its lines; the paper loss keeps the sides blank.
    square_frame = True

    def __init__(self, spec: ModelSpec, model):
        super().__init__(spec, model, None, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), model.config.image_size)
        self._bank = None  # (sprite prior, its bank, the guide on the CPU), read when first needed

    @torch.no_grad()
    def encode_text(self, texts: list[str]) -> torch.Tensor:
        return self.model.encode_text(texts).float()

    def reads_a_thing(self, text: str) -> bool:
        """Whether the guide finds a word about what is drawn: "8-bit" or "pixel art" alone say how (it
        steered "a cute frog|8-bit" half towards a flamingo, its pictures of nothing in particular); an
        emoji character it holds counts as its name."""
        from .guide.model import says_a_thing

        return says_a_thing(self._spelled_out(text))

    def _spelled_out(self, text: str) -> str:
        """`text` with its emoji characters written as their names (guide/bank.py: spelled_out)."""
        if text.isascii():
            return text
        from .guide.bank import spelled_out

        return spelled_out(text, self._sprite_bank()[1])

    @torch.no_grad()
    def prompt_targets(self, texts: list[str], picture_mix: float) -> torch.Tensor:
        """A mix of the guide's reading of the words and its view of the emoji pictures that match
        them (guide/bank.py: picture_target): a small contrastive model's text and picture embeddings
        lie apart, and steered towards the words alone the pixel drawer painted flat colour areas;
        towards the pictures it paints the thing's shape (MODEL_CARD.md). Emoji characters are read as
        their names."""
        texts = [self._spelled_out(text) for text in texts]
        by_words = self.encode_text(texts)
        if picture_mix == 0:
            return by_words
        from .errors import warn
        from .guide.bank import picture_target
        from .guide.model import words

        prior, bank, guide = self._sprite_bank()
        pictures = []
        for text in texts:
            picture, entry, unknown = picture_target(bank, prior, self.spec.pretrained, guide, text)
            if len(unknown) == len(words(text)):  # no word it knows: the pictures are a guess, say which
                warn(f"the embedded guide knows no word of {text!r}; it steers towards its pictures of "
                     f"{bank['captions'][entry]!r}")
            pictures.append(picture)
        return F.normalize((1 - picture_mix) * by_words + picture_mix * torch.stack(pictures).to(by_words), dim=-1)

    def _sprite_bank(self):
        if self._bank is None:
            from .guide.bank import load_sprite_bank

            self._bank = load_sprite_bank(self.spec.pretrained, "setting 'guide_picture_mix' (set it to 0 to do "
                                                                "without)")
        return self._bank


def weights_available(spec: ModelSpec) -> bool:
    """Whether loading `spec` can succeed here: local weights, or a reachable hub to fetch them."""
    if spec.arch == EMBEDDED or spec.pretrained is None or spec.is_file:
        return True
    return _cached_weights(spec.arch, spec.pretrained) is not None or _hub_reachable()


def load_perceptor(spec: ModelSpec, device: torch.device) -> Perceptor:
    """Create the open_clip model, finding weights in the cache or downloading them if online."""
    open_clip = _open_clip()

    if spec.arch == EMBEDDED:
        from .guide.model import GuideModel
        try:
            model = GuideModel.from_file(torch.load(spec.pretrained, weights_only=True))
        except Exception:  # pickle, zip, key and shape errors: any of them means "not a guide file"
            raise SettingsError(f"setting 'clip_models': {spec.pretrained!r} is not an embedded guide weights "
                                f"file (see MODEL_CARD.md)") from None
        return EmbeddedPerceptor(spec, model).to(device)
    from open_clip.pretrained import get_pretrained_cfg

    kwargs = {}
    pretrained = spec.pretrained
    mean, std = open_clip.OPENAI_DATASET_MEAN, open_clip.OPENAI_DATASET_STD
    if pretrained is not None and not spec.is_file:
        cfg = get_pretrained_cfg(spec.arch, pretrained)
        mean, std = cfg.get("mean", mean), cfg.get("std", std)
        cached = _cached_weights(spec.arch, pretrained)
        if cached:
            # Loading the cached file directly skips the hub's online revision check.
            pretrained = cached
            kwargs["force_quick_gelu"] = bool(cfg.get("quick_gelu", False))
        elif not _hub_reachable():
            raise WeightsUnavailableError(_download_hint(spec))
    try:
        # Random weights come from a fixed seed, so ':random' models are the same in every process.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = open_clip.create_model(spec.arch, pretrained=pretrained, device=device, **kwargs)
    except Exception as err:
        if spec.is_file:  # a file the user named that torch/open_clip cannot read as this model's weights
            raise SettingsError(f"setting 'clip_models': {spec.pretrained!r} is not a checkpoint of {spec.arch} "
                                f"weights (a PyTorch state dict or safetensors file open_clip can load)") from None
        if isinstance(err, RuntimeError) and "download" in str(err).lower():
            raise WeightsUnavailableError(_download_hint(spec)) from None
        raise
    image_size = open_clip.get_model_preprocess_cfg(model).get("size", 224)
    if isinstance(image_size, (tuple, list)):
        image_size = image_size[0]
    return Perceptor(spec, model, open_clip.get_tokenizer(spec.arch), mean, std, int(image_size)).to(device)


class ModelCache:
    """Perceptors kept across runs in one process, keyed by spec and device."""

    def __init__(self):
        self._models: dict[tuple, object] = {}  # perceptors by (spec, device); drawers' weights by their key

    def get(self, spec: ModelSpec, device: torch.device) -> Perceptor:
        key = (spec, str(device))
        if key not in self._models:
            self._models[key] = load_perceptor(spec, device)
        return self._models[key]

    def load(self, key: tuple, loader):
        """Any other model kept for the process (a drawer's decoder), made by `loader` the first time."""
        if key not in self._models:
            self._models[key] = loader()
        return self._models[key]

    def clear(self) -> None:
        self._models.clear()
