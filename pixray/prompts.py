"""Prompt parsing ("text:weight:stop"); torch-free, so prompts are checked before models load.
The loss against CLIP embeddings is pixray.losses.prompt."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .errors import SettingsError

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:inf(?:inity)?|nan)"
_COLON = r"(?<!\\):"  # a colon written as '\:' is part of the text


@dataclass(frozen=True)
class ParsedPrompt:
    text: str
    weight: float = 1.0
    stop: float = -math.inf
    given_weight: bool = field(default=False, compare=False)  # the text named its weight (else image_prompt_weight)


def parse_prompt(prompt: str, setting: str = "prompts") -> ParsedPrompt:
    """Split 'text[:weight[:stop]]'. Only trailing numbers count as weight/stop, so text with colons
    ('note: red', 'C:/img.png', 'https://...') stays intact; 'ten past 10\\:30' keeps a literal colon
    before a number. Weights must be finite; a stop may be -inf (pixray's "never stop")."""
    match = re.fullmatch(rf"(?s)(.*?)(?:{_COLON}({_NUMBER}))?(?:{_COLON}({_NUMBER}))?", prompt.strip(),
                         flags=re.IGNORECASE)
    text, weight, stop = match.group(1).strip().replace("\\:", ":"), match.group(2), match.group(3)
    if not text:
        raise SettingsError(f"setting {setting!r}: {prompt!r} has no text before its weight")
    parsed = ParsedPrompt(text, float(weight) if weight else 1.0, float(stop) if stop else -math.inf, bool(weight))
    if not math.isfinite(parsed.weight) or math.isnan(parsed.stop) or parsed.stop == math.inf:
        raise SettingsError(f"setting {setting!r}: {prompt!r} has weight {parsed.weight} and stop {parsed.stop}; "
                            f"the weight must be a finite number and the stop finite or -inf")
    return parsed


def wanted_texts(prompts: list[str]) -> list[str]:
    """The texts of the prompts with a positive weight: what a picture should show (not what it avoids)."""
    return [p.text for p in map(parse_prompt, prompts) if p.weight > 0]
