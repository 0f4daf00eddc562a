from pathlib import Path

from setuptools import setup

version = {}
exec(Path("pixray/version.py").read_text(), version)

setup(
    name="pixray",
    version=version["__version__"],
    description="Text and image prompts to pixel art, guided by CLIP; pure PyTorch, runs on CPU",
    long_description=Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    # Drawers and filters live in top-level folders but install as pixray.drawers and pixray.filters.
    packages=["pixray", "pixray.batching", "pixray.drawers", "pixray.filters", "pixray.guide", "pixray.losses"],
    package_dir={"pixray": "pixray", "pixray.drawers": "drawers", "pixray.filters": "filters"},
    # the xkcd colour names and the embedded guide's weights (MODEL_CARD.md)
    package_data={"pixray": ["data/*.json", "data/*.pt"]},
    install_requires=[
        # A range that torch 2.14.1 satisfies, so pip never pulls a newer multi-GB build.
        "torch>=2.1,<=2.14.1",
        "torchvision>=0.16,<=0.29.1",
        "open-clip-torch>=3.0",
        "kornia>=0.8",
        "einops>=0.7",
        "imageio>=2.31",
        "imageio-ffmpeg>=0.5",
        "tqdm>=4.60",
        "pillow>=10",
        "numpy>=1.24",
        "pyyaml>=6",
        # pixray's DiffGrad and AdamP optimisers (pure Python); wavelets for the fft drawer's fft_use=dwt
        "pytorch-optimizer>=3.0",
        "pywavelets>=1.4",
    ],
    extras_require={
        "cog": ["cog>=0.23"],
        "notebook": ["ipython>=8", "ipywidgets>=8"],
        # `pixray batch --backend ray`: the same jobs on a Ray cluster (or a local Ray)
        "ray": ["ray>=2.9"],
        # only to rebuild the embedded models (MODEL_CARD.md): renders the SVG emoji sets and reads the
        # sentence encoder's weights (guide/teacher.py)
        "guide": ["resvg-py>=0.5", "safetensors>=0.4"],
        "dev": ["pytest>=8", "pytest-timeout>=2.2", "hypothesis>=6", "nbclient>=0.10", "nbformat>=5", "ipykernel>=6", "cog>=0.23", "resvg-py>=0.5", "ray>=2.9"],
    },
    entry_points={"console_scripts": ["pixray = pixray.cli:main"]},
)
