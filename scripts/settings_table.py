"""Print the README's settings table from the schema (python scripts/settings_table.py)."""

import dataclasses

from pixray.settings import Settings

PRESET = {"num_cuts": "quality preset", "iterations": "quality preset", "clip_models": "quality preset",
          "learning_rate": "the drawer's", "size": "from aspect", "pixel_size": "from aspect"}

print("| setting | default | what it does |")
print("|---|---|---|")
for f in dataclasses.fields(Settings):
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    shown = PRESET.get(f.name) or ("" if default in (None, []) else f"`{default}`")
    text = f.metadata["help"].replace("|", "\\|")
    if f.metadata["choices"]:
        text += f" ({', '.join(f.metadata['choices'])})"
    print(f"| `{f.name}` | {shown} | {text} |")
