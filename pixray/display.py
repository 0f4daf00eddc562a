"""Live display in Jupyter/Colab: one image updated in place plus a progress bar."""

from __future__ import annotations


def in_notebook() -> bool:
    """True inside a Jupyter kernel (not in a plain terminal IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class NotebookDisplay:
    """A progress callback: the first call shows the image, later calls replace it (display_id),
    so a run shows one picture that changes, not a growing list."""

    def __init__(self, total: int):
        from IPython.display import display
        try:  # a widget bar where ipywidgets is installed, else a text bar (no "IProgress not found")
            import ipywidgets  # noqa: F401
            from tqdm.notebook import tqdm
        except ImportError:
            from tqdm import tqdm

        self._display = display
        self.handle = None
        self.bar = tqdm(total=total, unit="it")

    def __call__(self, progress) -> None:
        self.bar.update(progress.iteration - self.bar.n)
        if progress.losses:
            self.bar.set_postfix(loss=f"{progress.losses['total']:.4f}")
        if self.handle is None:
            self.handle = self._display(progress.image, display_id=True)
        else:
            self.handle.update(progress.image)
        if progress.iteration >= progress.iterations:
            self.bar.close()
