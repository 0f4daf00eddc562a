"""pixray 1.9's settings, and what each one is here. Read by the settings parser (other spellings,
settings accepted with a warning), the CLI (pixray's short flags) and the tests, which check that every
key of pixray's parser is covered."""

from __future__ import annotations

# pixray's own keys (its argparse `dest`s and flags) that are other names for one of ours.
PIXRAY_ALIASES = {
    "losses": "custom_loss",
    "cut_pow": "cut_power",
    "make_video": "video",
    "transparency": "transparent",
    "alpha_weight": "transparent_weight",
    "cudnn_determinism": "deterministic",
    "spot_prompts": "spot",
    "spot_prompts_off": "spot_off",
    "optimizer": "optimiser",
}

# pixray keys whose value stands for settings of ours: key → {bool value: our settings}.
PIXRAY_SPELLINGS = {
    "use_pixeldraw": {True: {"drawer": "pixel"}, False: {}},
    "save_intermediates": {True: {}, False: {"save_every": 0}},  # pixray kept no frames unless asked
    "wallpaper_shift": {True: {"wallpaper_type": "shift"}, False: {}},
    "wallpaper_mirror": {True: {"wallpaper_type": "mirror"}, False: {}},
}

# pixray keys accepted and left out, each with one line saying why and what replaces it.
PIXRAY_IGNORED = {
    "vector_prompts": "pixray's CLIP direction files (like textoff) are not shipped; a negative prompt such as "
                      "'text:-0.1' does the same",
    "image_prompt_shuffle": "image prompts are encoded whole once per run, so there are no cutout transforms "
                            "to shuffle",
    "image_labels": "not supported (pixray's VQGAN-latent labels); use image_prompts",
    "image_label_weight": "not supported (pixray's VQGAN-latent labels); use image_prompts",
    "target_images": "animation targets are not supported; use image_prompts",
    "animation_dir": "animations are not supported; run once per frame with init_image",
    "animation_alpha": "animations are not supported; run once per frame with init_image",
    "display_clear": "the notebook display always replaces its picture",
    "perceptors": "only CLIP perceptors (open_clip) and the embedded guide; SLIP models are not available",
    "alpha_use_g": "the alpha loss is plain (transparent_weight); no gaussian weighting",
    "alpha_gamma": "the alpha loss is plain (transparent_weight); no gaussian weighting",
    "styleloss_content_weight": "the style loss matches style only (Gram matrices); the prompt and init "
                                "anchoring keep the content",
    "vdiff_model": "the vdiff drawer is not available here",
    "vdiff_schedule": "the vdiff drawer is not available here",
    "vdiff_skip": "the vdiff drawer is not available here",
}

# pixray's single-dash flags (its setup_parser) → our setting names.
PIXRAY_SHORT_FLAGS = {
    "p": "prompts", "sp": "spot", "spo": "spot_off", "spf": "spot_file", "l": "labels", "vp": "vector_prompts",
    "ip": "image_prompts", "ipw": "image_prompt_weight", "ips": "image_prompt_shuffle", "il": "image_labels",
    "ilw": "image_label_weight", "i": "iterations", "se": "save_every", "de": "display_every",
    "dc": "display_clear", "ove": "overlay_every", "ovo": "overlay_offset", "ovi": "overlay_image",
    "asp": "aspect", "ezs": "ezsize", "sca": "scale", "ova": "overlay_alpha", "s": "size", "ii": "init_image",
    "iia": "init_image_alpha", "in": "init_noise", "ti": "target_images", "anim": "animation_dir",
    "ana": "animation_alpha", "iw": "init_weight", "iwd": "init_weight_dist", "iwc": "init_weight_cos",
    "iwp": "init_weight_pix", "nps": "noise_prompt_seeds", "npw": "noise_prompt_weights", "lr": "learning_rate",
    "lrd": "learning_rate_drops", "as": "auto_stop", "cuts": "num_cuts", "bats": "batches", "cutp": "cut_power",
    "opt": "optimiser", "o": "output", "vid": "video", "d": "deterministic", "est": "smoothness_type",
}
