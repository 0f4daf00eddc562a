"""Make the VQGAN compatibility fixture with taming-transformers' own VQModel.

Not run by the tests or CI. It needs taming importable, e.g. in a scratch folder:
    pip install --target /tmp/tt --no-deps taming-transformers-rom1504 pytorch-lightning==1.6.5 \
        omegaconf antlr4-python3-runtime==4.9.3 torchmetrics==0.11.4 pyDeprecate "setuptools<81"
    pip install --target /tmp/tt tensorboard
    PYTHONPATH=/tmp/tt python scripts/make_taming_fixture.py tests/data
It writes a taming config YAML, a Lightning-style checkpoint of a tiny randomly initialised VQModel,
and reference tensors (encode, codes, decode) computed by taming, which tests/test_vqgan.py
compares against pixray's own loader and network.
"""

import argparse
from pathlib import Path

import torch
import yaml
from taming.models.vqgan import VQModel

PARAMS = {
    "embed_dim": 16,
    "n_embed": 64,
    "ddconfig": {"double_z": False, "z_channels": 16, "resolution": 32, "in_channels": 3, "out_ch": 3, "ch": 32,
                 "ch_mult": [1, 2], "num_res_blocks": 1, "attn_resolutions": [16], "dropout": 0.0},
    # Identity instead of the LPIPS/discriminator loss: nothing is downloaded.
    "lossconfig": {"target": "torch.nn.Identity"},
}


def main(out: Path) -> None:
    torch.manual_seed(0)
    model = VQModel(**PARAMS).eval()
    with torch.no_grad():  # spread the codebook like a trained one, so codes differ
        model.quantize.embedding.weight.normal_()
    out.mkdir(parents=True, exist_ok=True)
    config = {"model": {"base_learning_rate": 4.5e-6, "target": "taming.models.vqgan.VQModel", "params": PARAMS}}
    (out / "taming_tiny.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    torch.save({"state_dict": model.state_dict(), "global_step": 0, "epoch": 0}, out / "taming_tiny.ckpt")
    x = torch.rand(1, 3, 32, 48, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.no_grad():
        h = model.quant_conv(model.encoder(x))
        quant, _, (_, _, codes) = model.quantize(h)
        decoded = model.decode(quant)
    torch.save({"input": x, "pre_quant": h, "codes": codes.reshape(1, *h.shape[2:]), "quant": quant,
                "decoded": decoded}, out / "taming_tiny_reference.pt")
    print("wrote", *sorted(p.name for p in out.glob("taming_tiny*")))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Write the taming VQGAN fixture (see the module docstring).")
    parser.add_argument("out", nargs="?", type=Path, default=Path("tests/data"))
    main(parser.parse_args().out)
