"""pixray's optimiser names → optimisers. torch has most; DiffGrad and AdamP come from
pytorch-optimizer (the maintained successor of torch-optimizer, which pixray used: it installs beside
torch 2.x without pytorch-ranger and is pure Python), imported only when asked for."""

from __future__ import annotations

import torch

FROM_TORCH = {"Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW, "Adagrad": torch.optim.Adagrad,
              "Adamax": torch.optim.Adamax, "RAdam": torch.optim.RAdam, "RMSprop": torch.optim.RMSprop}
FROM_PYTORCH_OPTIMIZER = ("DiffGrad", "AdamP")


def build_optimiser(name: str, param_groups: list[dict], lr: float) -> torch.optim.Optimizer:
    if name in FROM_TORCH:
        return FROM_TORCH[name](param_groups, lr=lr)
    if name in FROM_PYTORCH_OPTIMIZER:
        import pytorch_optimizer

        return getattr(pytorch_optimizer, name)(param_groups, lr=lr)
    raise ValueError(f"unknown optimiser {name!r}")
