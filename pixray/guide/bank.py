"""The sprite bank: every training emoji as a latent of the sprite prior, with its main caption and
what the guide makes of both. The sprite drawer starts from the bank entry that best matches the
prompt, so optimisation begins at a recognisable sprite instead of noise.

The guide's embeddings of the bank are computed when the prior is built (decoding ~3,000 sprites
takes seconds on a CPU) and stored with a fingerprint of the guide file; if the guide is rebuilt
later, they are recomputed at run time until the prior's bank is refreshed
(`python -m pixray.guide.prior --bank-only`).
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

import torch
import torch.nn.functional as F

from ..images import over
from .model import GuideModel, says_a_thing, words
from .prior import SpritePrior
from .robust import (COLOUR_WORDS, COLOURS, colour_counts, colour_indices, dominant_colour, hue_rotate, is_saturated,
                     without_colour)

PAPER = 1.0  # opaque sprites sit on white, like the emoji the prior learned from
# Names decide *what* is drawn; the picture match, mostly colour, only picks among near-equal names
# (which style's drawing, or "apple" vs "green apple"). With equal weights "a green frog" chose
# a green circle.
PICTURE_WEIGHT = 0.1
HUE_STEP = 15  # degrees between the recolourings best_hue tries
COLOUR_TIE = 0.05  # recolourings whose share of the named colour is this close to the best one tie
# A sprite with colour in less than this share of its opaque pixels (a ghost, a skull, a cloud, a
# penguin) has too little for a hue rotation to paint: a colour the prompt names is multiplied into it,
# so white becomes the colour, greys its shades and black stays black (best_tint). Each tint's hue lies
# in its name's range of robust.HUE_NAMES.
TINT_BELOW = 0.5
TINTS = {"red": (0.9, 0.2, 0.2), "orange": (1.0, 0.55, 0.15), "yellow": (1.0, 0.85, 0.2), "green": (0.3, 0.75, 0.3),
         "blue": (0.3, 0.5, 1.0), "purple": (0.6, 0.3, 0.85), "pink": (1.0, 0.55, 0.8)}
# A hue rotation keeps a colour's lightness, but the emoji sets paint each colour at its own: a blue fish
# turned yellow came out olive, a yellow star turned red salmon. So a recoloured sprite's pixels of the
# named colour are brightened and saturated up to that colour's median saturation and value in the
# bank's sprites (bank["tones"], colour_tones), the gains within TONE_LIMITS (its own shading stays).
# Never dulled: taken down to the median too, a lime star turned green came out olive and a purple cat
# lilac (benchmarks/guide_quality.py, the sheets).
TONE_LIMITS = (1.0, 1.6)
# A colourless sprite with at least this share of its opaque pixels LIGHT in every channel is mostly
# lost on white paper; the pixel and clipdraw drawers also keep ink on its outline (losses/pale_outline.py).
PALE_SHARE = 0.2
LIGHT = 0.75
# Its parts with every channel below DARK (the skull's eye holes, the penguin's back, the robot's visor)
# are inked whole, not only along their rims: outlined alone they stayed paper, and the guide filled them
# with rainbow specks, which the outline's ink (dark in every channel) does not count.
DARK = 0.4
# A name whose words the prompt says outright wins over one the text tower merely finds close: the
# tower averages word vectors, so in "a bright sunflower" the word "bright" pulled "person bouncing
# ball" above "sunflower". Measured with benchmarks/retrieval.py.
OVERLAP_WEIGHT = 0.3
# Words after which a prompt stops naming its thing and says where it is or what it has: "a dragon
# breathing fire", "a cat in a hat" are pictures of the dragon and the cat (benchmarks/retrieval.py,
# scenes: 0.75 of 40 right by the whole prompt, where "fire" and "hat" name emoji too).
RELATIONS = frozenset("with in on at by under over near from for to into onto among behind beside inside above "
                      "below across through and while".split())
# Words before a thing that say how many or how old, not what: "two mice" drew the keycap 2, "five fish" the
# keycap 5, "lots of stars" a mountain (WordNet's "lot"), "an old treasure map" the old key. COUNTS go when a
# word follows, GROUPS when "of" does ("a couple of penguins"; "a couple" stays); neither inside an emoji's
# name the prompt says ("four leaf clover", "an old key", "a baby bottle").
COUNTS = frozenset("one two three four five six seven eight nine ten eleven twelve few many several some "
                   "old baby".split())
GROUPS = frozenset("couple pair lot lots bunch handful pile heap stack group flock herd pack swarm dozen set".split())
# A colour word that ends a prompt's subject is the thing it also names: "an orange" drew the orange heart
# ("orange" is in the names of the heart, circle, square and book; the fruit's emoji is the tangerine).
COLOUR_THINGS = {"orange": "tangerine"}


def on_paper(rgba: torch.Tensor) -> torch.Tensor:
    return over(rgba, PAPER)


def fingerprint(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def seen_by_guide(guide: GuideModel, rgba: torch.Tensor) -> torch.Tensor:
    """The guide's unit embeddings of (B,4,H,W) sprites, on paper at its input size."""
    return guide.encode_image(F.interpolate(on_paper(rgba), size=(guide.config.image_size,) * 2, mode="area"))


@torch.no_grad()
def guide_view(prior: SpritePrior, guide: GuideModel, bank: dict) -> dict:
    """The guide's unit embeddings of every bank sprite (decoded, on paper) and of every name."""
    device = next(prior.parameters()).device
    sprites = torch.cat([prior.decode(chunk.float().to(device)).cpu() for chunk in bank["latents"].split(256)])
    return {"images": seen_by_guide(guide, sprites).half(), "texts": guide.encode_text(bank["names"]).half()}


def build(prior: SpritePrior, latents: torch.Tensor, captions: list[list[str]], codes: list[str],
          guide_path: Path) -> dict:
    """Bank entries are sprites (one per emoji and style); names belong to the emoji, all its
    captions (label, other names, tags), stored once whatever the number of styles."""
    concept = {code: i for i, code in enumerate(dict.fromkeys(codes))}
    first = {code: options for code, options in reversed(list(zip(codes, captions)))}
    # a name of stop words alone ("a", "on", "art") says nothing: the text tower reads it as empty
    names = [(concept[code], name) for code in concept for name in first[code] if words(name)]
    bank = {"latents": latents.half(), "captions": [options[0] for options in captions],
            "concepts": torch.tensor([concept[c] for c in codes]), "names": [name for _, name in names],
            "characters": [emoji_characters(code) for code in concept],
            "name_concepts": torch.tensor([i for i, _ in names]), "guide": fingerprint(guide_path),
            "tones": colour_tones(torch.cat([prior.decode(part.float()) for part in latents.split(512)]))}
    guide = GuideModel.from_file(torch.load(guide_path, weights_only=True))
    return {**bank, **guide_view(prior, guide, bank)}


def emoji_characters(code: str) -> str:
    """An emoji's text from its code points as the emoji sets name their files ("1F9D1-200D-1F373"), without
    the variation selector FE0F, which people type or leave out."""
    return "".join(chr(int(point, 16)) for point in code.split("-") if point.upper() != "FE0F")


def spelled_out(text: str, bank: dict) -> str:
    """`text` with every emoji character the bank holds written as the emoji's main name ("a 🐸 in a hat" →
    "a frog in a hat"), so the guide, which reads words, reads it; the longest sequence wins ("🧑‍🍳" is the
    cook, not a person and a cooking pot). When the words name a colour, the names lose theirs: "a blue 🍎" is
    "a blue apple", not "a blue red apple". Unchanged for a text of ASCII alone, or a bank without characters."""
    if text.isascii() or "characters" not in bank:
        return text
    colour_said = bool(COLOUR_WORDS.intersection(words(text)))
    names = {}
    for entry, concept in enumerate(bank["concepts"].tolist()):
        caption = bank["captions"][entry]
        names.setdefault(bank["characters"][concept], without_colour(caption) if colour_said else caption)
    text, out, at = text.replace("\ufe0f", ""), [], 0
    longest = max(map(len, names))
    while at < len(text):
        sizes = range(min(longest, len(text) - at), 0, -1)
        size = next((size for size in sizes if text[at:at + size] in names), 0)
        out.append(f" {names[text[at:at + size]]} " if size else text[at])
        at += size or 1
    return "".join(out)


def spelled_out_by_shipped_bank(texts: list[str]) -> list[str]:
    """`texts` with their emoji characters spelled out by the shipped sprite bank (read once, and only when a
    text is not plain ASCII), for a check before any model loads; as they are when the prior's file is missing."""
    from .prior import PRIOR_WEIGHTS

    if all(text.isascii() for text in texts) or not PRIOR_WEIGHTS.is_file():
        return texts
    bank = torch.load(PRIOR_WEIGHTS, weights_only=True)["bank"]
    return [spelled_out(text, bank) for text in texts]


def plain(word: str) -> str:
    """A word without a plural s, so "sword" finds "crossed swords" and "cherry" "cherries" ("-ies" and
    "-ie" both end in "y": "cookies" still finds "cookie")."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ie") and len(word) > 3:
        return word[:-2] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


def name_overlap(names: list[str], said: set[str]) -> torch.Tensor:
    """For each name, the share of its words found in `said`, each word weighted by its rarity among
    the names (inverse document frequency: "sunflower" says more than "face")."""
    name_words = [{plain(w) for w in words(name)} for name in names]
    said = {plain(w) for w in said}
    counts: dict[str, int] = {}
    for found in name_words:
        for word in found:
            counts[word] = counts.get(word, 0) + 1
    rarity = {word: math.log(len(names) / count) for word, count in counts.items()}
    return torch.tensor([sum(rarity[w] for w in found & said) / max(1e-6, sum(rarity[w] for w in found))
                         for found in name_words])


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def subject(text: str, heads: set[str], names: tuple[str, ...] = (), read=lambda word: word) -> str:
    """The prompt up to where it stops naming its thing: "a dragon breathing fire" → "a dragon", "a cat in a
    hat" → "a cat"; "of" joins ("a cup of coffee" stays whole). The cut comes at a word of RELATIONS after
    the first word that names something, or at an -ing word right after a thing's name; an -ing word that
    ends an emoji's name is a thing ("a tall building"), and no cut falls inside an emoji's name the prompt
    says word for word ("a bow and arrow"). `heads`: the last words of the emoji's main names (the things
    they name); `names`: emoji names; `read`: a word as the text tower reads it ("puppy" → dog: "a puppy
    chasing a ball" is the puppy)."""
    def names_a_thing(word: str) -> bool:
        return (read(word).split() or [word])[-1] in heads

    # what follows a comma (or ; or |) once a thing is named says how it is drawn: "a red apple, pixel art"
    first_part = re.split(r"[,;|]", text)[0]
    if first_part != text and any(names_a_thing(word) for word in _tokens(first_part)):
        text = first_part
    said = _tokens(text)
    said_plain = [plain(word) for word in said]
    inside_a_name, starts_a_name = set(), set()
    for name in names:
        found = _tokens(name)
        counted = plain(found[0]) in COUNTS or plain(found[0]) in GROUPS if found else False
        if len(found) > 1 and (counted or RELATIONS.intersection(found)):
            found = [plain(word) for word in found]  # "a bow and arrows" says "bow and arrow"
            for start in range(len(said) - len(found) + 1):
                if said_plain[start:start + len(found)] == found:
                    inside_a_name.update(range(start + 1, start + len(found)))
                    starts_a_name.add(start)

    # a hyphened word ending in -ing or -ed describes what follows, it is not the thing: "a fire-breathing
    # dragon", "a red-nosed reindeer"
    spans = [(found.start(), found.end()) for found in re.finditer(r"[a-z0-9']+", text.lower())]
    compounds = re.finditer(r"[a-z0-9']+(?:-[a-z0-9']+)+", text.lower())
    describing = {at for found in compounds if found.group().endswith(("ing", "ed"))
                  for at, (start, end) in enumerate(spans) if found.start() <= start and end <= found.end()}
    # so does an -ing word between an article and a thing's name that no emoji's name says: "a ringing
    # bell" is the bell (the guide reads "ringing" as ring, and the ring won); one an emoji's name says
    # belongs to the thing ("a bowling ball", "a fishing rod", "a sleeping cat")
    named_words = {word for name in names for word in _tokens(name)}
    describing |= {at for at, word in enumerate(said[:-1]) if word.endswith("ing") and len(word) > 4
                   and word not in named_words and names_a_thing(said[at + 1])
                   and (at == 0 or said[at - 1] in ("a", "an", "the"))}
    # how many or how old, before the thing ("two mice", "a couple of penguins", "a baby dragon"), and whose
    # ("a knight's shield": the shield; the guide read "knight" as the chess horse)
    for at, word in enumerate(said[:-1]):
        if at in starts_a_name or at in inside_a_name:
            continue
        if word in COUNTS or (word in GROUPS and said[at + 1] == "of"):
            describing.add(at)
            if said[at + 1] == "of":
                describing.add(at + 1)
        elif word.endswith("'s"):
            describing.add(at)
    kept: list[str] = []
    for at, word in enumerate(said):
        if at in describing:
            continue
        named = any(w not in ("a", "an", "the", "of") for w in kept)
        # "a dragon breathing": after a thing's name; "a happy smiling sun" is still naming it
        doing = (word.endswith("ing") and len(word) > 4 and not names_a_thing(word)
                 and kept and names_a_thing(kept[-1]))
        if named and (word in RELATIONS or doing) and at not in inside_a_name:
            break
        kept.append(word)
    if kept and kept[-1] in COLOUR_THINGS and not any(map(names_a_thing, words(" ".join(kept[:-1])))):
        kept[-1] = COLOUR_THINGS[kept[-1]]
    return " ".join(kept)


@torch.no_grad()
def best_entry(bank: dict, prior: SpritePrior, guide_path: Path, prompts: list[str],
               guide: GuideModel | None = None, overlap_weight: float = OVERLAP_WEIGHT,
               by_subject: bool = True) -> tuple[int, list[str]]:
    """The entry whose emoji has the best-matching name (by the text tower, and by the words the name
    shares with the prompts), its picture breaking near ties; and the prompt words the guide has never
    seen (it can only guess at those from their letters). Each prompt counts as much again by its
    subject (the words naming its thing; by_subject=False: by the whole prompt again). `guide`: the
    model in `guide_path`, when the caller has it loaded already."""
    if guide is None:
        guide = GuideModel.from_file(torch.load(guide_path, weights_only=True))
    prompts = [spelled_out(text, bank) for text in prompts]
    prompts = [text for text in prompts if says_a_thing(text)] or prompts  # "8-bit" beside "a frog" says nothing of it
    view = bank if bank.get("guide") == fingerprint(guide_path) else guide_view(prior, guide, bank)
    heads = {found[-1] for caption in bank["captions"] if (found := words(caption))}
    subjects = [subject(text, heads, bank["names"], guide.text.read) if by_subject else text for text in prompts]
    query = F.normalize(guide.encode_text(prompts).mean(0) + guide.encode_text(subjects).mean(0), dim=0)
    said = {token for text in prompts for token in guide.text.tokens(text)}
    said_of_subjects = {token for text in subjects for token in guide.text.tokens(text)}
    overlap = (name_overlap(bank["names"], said) + name_overlap(bank["names"], said_of_subjects)) / 2
    name_scores = view["texts"].float() @ query + overlap_weight * overlap
    by_name = torch.full((int(bank["concepts"].max()) + 1,), -2.0).scatter_reduce(
        0, bank["name_concepts"], name_scores, "amax")
    entry = int((by_name[bank["concepts"]] + PICTURE_WEIGHT * view["images"].float() @ query).argmax())
    unknown = [w for text in prompts for w in words(text) if not guide.text.knows(w)]
    return entry, unknown


def require_sprite_bank(needed_by: str) -> None:
    """One line naming the setting (`needed_by`) when the sprite prior's file, which holds the bank, is missing."""
    from ..errors import SettingsError
    from .prior import PRIOR_WEIGHTS

    if not PRIOR_WEIGHTS.is_file():
        raise SettingsError(f"{needed_by} needs the sprite prior's bank {PRIOR_WEIGHTS}, which is missing; "
                            f"rebuild it with python -m pixray.guide.prior")


def load_sprite_bank(guide_path: Path, needed_by: str) -> tuple[SpritePrior, dict, GuideModel]:
    """The sprite prior, its bank (with this guide's view of it: recomputed when the guide file is not the
    one the bank was built with) and the guide, on the CPU. `needed_by` names the setting that asked, for
    the error when the prior's file is missing."""
    from .prior import PRIOR_WEIGHTS

    require_sprite_bank(needed_by)
    data = torch.load(PRIOR_WEIGHTS, weights_only=True)
    guide = GuideModel.from_file(torch.load(guide_path, weights_only=True))
    prior, bank = SpritePrior.from_file(data), data["bank"]
    guide_print = fingerprint(guide_path)
    if bank["guide"] != guide_print:
        bank = {**bank, **guide_view(prior, guide, bank), "guide": guide_print}
    return prior, bank, guide


@torch.no_grad()
def retrieved_sprite(bank: dict, prior: SpritePrior, guide_path: Path, guide: GuideModel,
                     prompts: list[str]) -> torch.Tensor:
    """(1,4,32,32): the sprite the prompts retrieve (best_entry), as the prior draws it."""
    entry, _ = best_entry(bank, prior, guide_path, prompts, guide)
    return prior.decode(bank["latents"][entry].float()[None].to(next(prior.parameters()).device))


def outline_target(bank: dict, prior: SpritePrior, guide_path: Path, guide: GuideModel, prompts: list[str]):
    """(32,32) bool: the line drawing (pixray/tracing.py: outline) of the sprite the prompts retrieve."""
    from ..tracing import outline

    return outline(retrieved_sprite(bank, prior, guide_path, guide, prompts))


def _coloured_retrieved(bank: dict, prior: SpritePrior, guide_path: Path, guide: GuideModel,
                        prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """The (1,4,32,32) sprite the prompts retrieve, and the same coloured as the picture targets colour it
    (best_tint)."""
    sprite = retrieved_sprite(bank, prior, guide_path, guide, prompts)
    return sprite, tinted(sprite, best_tint(sprite, prompts))


def _is_pale(coloured: torch.Tensor) -> bool:
    """Too little colour, and at least PALE_SHARE of its opaque pixels as light as white paper."""
    opaque = coloured[0, 3] > 0.5
    light = (coloured[0, :3].min(0).values > LIGHT)[opaque].float().mean() if opaque.any() else 0.0
    return too_little_colour(coloured) and light >= PALE_SHARE


def _dark(coloured: torch.Tensor) -> torch.Tensor:
    """(32,32) bool: the opaque cells dark in every channel (below DARK)."""
    return (coloured[0, :3].amax(0) < DARK) & (coloured[0, 3] > 0.5)


def pale_outline_target(bank: dict, prior: SpritePrior, guide_path: Path, guide: GuideModel,
                        prompts: list[str]):
    """(32,32) bool: the outline and the DARK parts of the sprite the prompts retrieve when that sprite,
    coloured as the picture targets colour it (best_tint), is pale: too little colour, and at least
    PALE_SHARE of it as light as white paper (a ghost, a cloud, a skull, a penguin's belly); None for a
    coloured or a dark one (a black cat shows on white by itself)."""
    from ..tracing import outline

    sprite, coloured = _coloured_retrieved(bank, prior, guide_path, guide, prompts)
    return outline(sprite) | _dark(coloured).cpu().numpy() if _is_pale(coloured) else None


def dark_parts_target(bank: dict, prior: SpritePrior, guide_path: Path, guide: GuideModel, prompts: list[str]):
    """(32,32) bool: the DARK parts (every channel below DARK: pupils, a nose, a patty) of the sprite the
    prompts retrieve, coloured as the picture targets colour it, when that sprite is not pale (a pale one
    has pale_outline_target, its dark parts among them); None for a pale one."""
    _, coloured = _coloured_retrieved(bank, prior, guide_path, guide, prompts)
    if _is_pale(coloured):
        return None
    # inside the silhouette: a dark rim (a tinted ghost's outline) drawn where the picture's thing is not
    # came out as dots scattered around it
    inside = -F.max_pool2d(-(coloured[:, 3:] > 0.5).float(), 3, 1, 1) > 0.5
    return (_dark(coloured) & inside[0, 0]).cpu().numpy()


def closest(bank: dict, prior: SpritePrior, guide_path: Path, prompts: list[str]) -> torch.Tensor:
    return bank["latents"][best_entry(bank, prior, guide_path, prompts)[0]].float()[None]


@torch.no_grad()
def picture_target(bank: dict, prior: SpritePrior, guide_path: Path, guide: GuideModel,
                   text: str) -> tuple[torch.Tensor, int, list[str]]:
    """The guide's unit embedding of the pictures of the emoji that best matches `text`: the mean over
    its drawings in the bank (one per style), each recoloured as `best_tint` and `best_hue` choose when
    the text names a colour. What the guide's own pictures of a thing look like to it, which a drawer
    can be steered towards instead of (or beside) its reading of the words. Also the entry chosen and
    the words of `text` the guide does not know (as best_entry)."""
    entry, unknown = best_entry(bank, prior, guide_path, [text], guide)
    drawings = (bank["concepts"] == bank["concepts"][entry]).nonzero()[:, 0]
    latents = bank["latents"][drawings].float()
    sprites = prior.decode(latents.to(next(prior.parameters()).device)).cpu()
    sprites = torch.cat([tinted(sprite[None], best_tint(sprite[None], [text])) for sprite in sprites])
    degrees = torch.tensor([best_hue(guide, sprite[None], [text]) for sprite in sprites])
    recoloured = []
    for sprite, turn in zip(sprites, degrees):
        rotated = hue_rotate(sprite[None], turn[None])
        recoloured.append(toned(rotated, recolour_gains(rotated, [text], bank.get("tones"))) if turn else rotated)
    return F.normalize(seen_by_guide(guide, torch.cat(recoloured)).mean(0), dim=0), entry, unknown


def named_colours(prompts: list[str]) -> list[str]:
    """The colour words (of COLOURS, the hues a rotation can reach) the prompts say, in the order said."""
    return list(dict.fromkeys(w for text in prompts for w in words(text) if w in COLOURS))


def best_tint(sprite: torch.Tensor, prompts: list[str]) -> torch.Tensor | None:
    """(3,): the colour (TINTS) to multiply into a (1,4,H,W) sprite that has too little colour for a hue
    rotation ("a red ghost": the ghost is white), the first one the prompts name; None when they name
    none or the sprite has colour enough (TINT_BELOW)."""
    named = named_colours(prompts)
    if not named or not too_little_colour(sprite):
        return None
    return torch.tensor(TINTS[named[0]])


def too_little_colour(sprite: torch.Tensor) -> bool:
    """Whether a (1,4,H,W) sprite has colour in less than TINT_BELOW of its opaque pixels."""
    counts, opaque = colour_counts(sprite)
    return bool(counts.sum() < TINT_BELOW * opaque.sum().clamp_min(1))


def tinted(rgba: torch.Tensor, tint: torch.Tensor | None) -> torch.Tensor:
    """(B,4,H,W) with `tint` (3,) multiplied into its colours (alpha kept); unchanged for None."""
    if tint is None:
        return rgba
    return torch.cat([rgba[:, :3] * tint.to(rgba).view(1, 3, 1, 1), rgba[:, 3:]], 1)


def _saturation_value(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """HSV saturation and value of (...,3) colours."""
    value = rgb.amax(-1)
    return (value - rgb.amin(-1)) / value.clamp_min(1e-6), value


def _coloured_pixels(rgba: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The opaque, saturated pixels of (B,4,H,W) pictures as (N,3) rows, and each one's index in COLOURS."""
    pixels = rgba.permute(0, 2, 3, 1).reshape(-1, 4).cpu()
    pixels = pixels[(pixels[:, 3] > 0.5) & is_saturated(pixels[:, :3])][:, :3]
    return pixels, colour_indices(pixels)


@torch.no_grad()
def colour_tones(sprites: torch.Tensor) -> torch.Tensor:
    """(len(COLOURS), 2): the median HSV saturation and value of the opaque, saturated pixels of each colour
    of COLOURS in (B,4,H,W) sprites: how the emoji sets paint a red, a yellow, a blue thing (0, 0 for a
    colour they never show: nothing to bring a sprite up to)."""
    pixels, names = _coloured_pixels(sprites)
    saturation, value = _saturation_value(pixels)
    return torch.tensor([[float(saturation[names == i].median()), float(value[names == i].median())]
                         if (names == i).any() else [0.0, 0.0] for i in range(len(COLOURS))])


@torch.no_grad()
def tone_gains(rgba: torch.Tensor, colour: str | None, tones: torch.Tensor | None) -> tuple[float, float]:
    """The saturation and value gains (TONE_LIMITS) that bring the pixels of `colour` in a recoloured
    (1,4,H,W) sprite up to the bank's median `tones` of that colour; (1, 1) when there is no colour or
    too few of its pixels."""
    if colour not in COLOURS or tones is None:
        return 1.0, 1.0
    pixels, names = _coloured_pixels(rgba)
    mine = pixels[names == COLOURS.index(colour)]
    if len(mine) < 10:
        return 1.0, 1.0
    saturation, value = _saturation_value(mine)
    low, high = TONE_LIMITS
    want = tones[COLOURS.index(colour)]
    return (float((want[0] / saturation.median()).clamp(low, high)),
            float((want[1] / value.median()).clamp(low, high)))


def toned(rgba: torch.Tensor, gains: tuple[float, float]) -> torch.Tensor:
    """(B,4,H,W) with every colourful pixel's HSV saturation and value scaled by `gains` (its hue kept;
    greys, white and black kept), differentiably."""
    if gains == (1.0, 1.0):
        return rgba
    saturation_gain, value_gain = gains
    rgb = rgba[:, :3]
    value = rgb.amax(1, keepdim=True)
    # each channel's distance below the brightest scales with the saturation, then all with the value
    scaled = value_gain * (value - saturation_gain * (value - rgb)).clamp_min(0)
    # toned in full from saturation 0.35, not at all below 0.15 (greys, white, black), a ramp between
    colourful = (((value - rgb.amin(1, keepdim=True)) / value.clamp_min(1e-6) - 0.15) / 0.2).clamp(0, 1)
    return torch.cat([(rgb + colourful * (scaled - rgb)).clamp(0, 1), rgba[:, 3:]], 1)


def recolour_gains(rgba: torch.Tensor, prompts: list[str], tones: torch.Tensor | None) -> tuple[float, float]:
    """tone_gains for a sprite a hue rotation has recoloured, for the named colour it now shows most."""
    colour = dominant_colour(rgba.cpu())[0]
    return tone_gains(rgba, colour, tones) if colour in named_colours(prompts) else (1.0, 1.0)


@torch.no_grad()
def best_hue(guide: GuideModel, sprite: torch.Tensor, prompts: list[str]) -> float:
    """0, or when a prompt names a colour the (1,4,H,W) sprite does not have, the hue rotation (every
    HUE_STEP degrees) that paints the most of the sprite in that colour, the guide's match of the
    recoloured sprite with the prompts choosing among near ties (no emoji is a blue apple: the prior
    cannot paint one). A sprite already in the named colour keeps its own colours (the guide's scores of
    near angles are close: "a red love heart" would otherwise start orange)."""
    named = named_colours(prompts)
    if not named:
        return 0.0
    sprite = sprite.cpu()
    if dominant_colour(sprite)[0] in named:
        return 0.0
    degrees = torch.arange(0, 360, HUE_STEP, dtype=torch.float32)
    rgba = sprite.expand(len(degrees), -1, -1, -1)
    recoloured = hue_rotate(rgba, degrees)
    scores = (seen_by_guide(guide, recoloured) @ guide.encode_text(prompts).T).mean(1)
    # the angles that paint the most of the sprite in the named colours, the guide choosing among near
    # ties: the guide alone kept "a red frog" green (its red mouth was enough for it), and an angle that
    # only just tips the body into the colour's hue range leaves it another colour after a little noise
    counts, _ = colour_counts(recoloured)
    share = counts[:, [COLOURS.index(name) for name in named]].sum(1) / counts.sum(1).clamp_min(1)
    scores = scores.masked_fill(share < share.max() - COLOUR_TIE, float("-inf"))
    return float(degrees[scores.argmax()])
