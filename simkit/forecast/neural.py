"""A small LSTM member built with pytorch-lightning, on the CPU (the ``neural`` extra).

torch and lightning are imported inside :meth:`LSTMMember.fit` only, so importing simkit
never pays their ~4 s import, and an install without them still works: the ensemble
skips the member and records a warning (:func:`neural_available`).

The network reads a window of the last ``window_days`` days (the four drivers, standardised,
plus log spend, day of week and holiday flag) together with the next day's known regressors
(the planned spend, its weekday, holiday) and predicts the next day's drivers as a deviation
from the window mean.  Multi-step forecasts are recursive, feeding predictions back in.

Determinism: weights and batch order come from ``torch`` generators seeded with ``seed``
inside :func:`torch.random.fork_rng`, so the global torch state is left as it was; the
trainer runs single-process (no workers), with no logger, checkpoints or progress bar, and
``deterministic=True``.
"""

from __future__ import annotations

import importlib.util
import logging
import warnings
from typing import Any, Self

import numpy as np
import pandas as pd

from simkit.forecast._member import _Member

__all__ = ["LSTMMember", "neural_available"]

log = logging.getLogger(__name__)


def neural_available() -> bool:
    """Whether torch and pytorch-lightning are installed (without importing them)."""
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "pytorch_lightning"))


def _features(
    drivers: np.ndarray, log_spend: np.ndarray, dow: np.ndarray, holiday: np.ndarray
) -> np.ndarray:
    angle = 2 * np.pi * np.asarray(dow, dtype=float) / 7.0
    return np.column_stack([drivers, log_spend, np.sin(angle), np.cos(angle), holiday])


class LSTMMember(_Member):
    """One LSTM for all four drivers (they share the campaign's dynamics).

    Parameters
    ----------
    window_days
        Days the network reads before each prediction.
    hidden_size
        LSTM width.
    max_epochs
        Training epochs (small: histories are a few months).
    learning_rate
        Adam step size.
    batch_size
        Windows per batch.
    seed
        Seeds weights and batch order.
    """

    name = "lstm"
    min_history_days = 56
    uses_regressors = True
    context_params = ("seed",)

    def __init__(
        self,
        *,
        window_days: int = 14,
        hidden_size: int = 16,
        max_epochs: int = 40,
        learning_rate: float = 0.01,
        batch_size: int = 32,
        seed: int = 0,
        alias: str = "lstm",
    ) -> None:
        self.window_days = window_days
        self.hidden_size = hidden_size
        self.max_epochs = max_epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.seed = seed
        self.alias = alias

    def fit(self, y: pd.DataFrame, X: pd.DataFrame | None = None) -> Self:
        import torch  # heavy, optional (the neural extra): only the LSTM member needs it

        values = np.asarray(y, dtype=float)
        n, k = values.shape
        w = self.window_days
        if n < w + 8:
            raise ValueError(f"needs at least {w + 8} days, got {n}")
        X = X if X is not None else _no_regressors(pd.DatetimeIndex(y.index))
        self.mean_ = values.mean(axis=0)
        self.std_ = np.maximum(values.std(axis=0), 1e-6)
        ls = X["log_spend"].to_numpy(dtype=float)
        self.spend_mean_, self.spend_std_ = float(ls.mean()), float(max(ls.std(), 1e-6))
        z = (values - self.mean_) / self.std_
        feats = _features(z, (ls - self.spend_mean_) / self.spend_std_, X["dow"], X["holiday"])
        windows = np.stack([feats[t - w : t] for t in range(w, n)])
        nxt = feats[w:n, k:]  # next day's known regressors
        target = z[w:n] - windows[:, :, :k].mean(axis=1)

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                self.net_ = _train(
                    windows, nxt, target, self._hparams(k, feats.shape[1]), self.seed
                )
        finally:
            torch.set_num_threads(threads)
        self.tail_ = feats[-w:]
        self.n_drivers_ = k
        self.n_obs_ = n
        return self

    def _hparams(self, n_out: int, n_in: int) -> dict[str, Any]:
        return {
            "n_in": n_in,
            "n_out": n_out,
            "hidden": self.hidden_size,
            "lr": self.learning_rate,
            "epochs": self.max_epochs,
            "batch": self.batch_size,
        }

    def predict(self, h: int, X_future: pd.DataFrame | None = None) -> np.ndarray:
        import torch  # heavy, optional (the neural extra): only the LSTM member needs it

        self._check_fitted()
        k = self.n_drivers_
        if X_future is None:
            raise ValueError("the LSTM needs X_future (the plan and calendar)")
        ls = (X_future["log_spend"].to_numpy(dtype=float)[:h] - self.spend_mean_) / self.spend_std_
        reg = _features(
            np.zeros((h, 0)), ls, X_future["dow"].to_numpy()[:h], X_future["holiday"].to_numpy()[:h]
        )
        window = self.tail_.copy()
        out = np.empty((h, k))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.no_grad():
                for t in range(h):
                    x = torch.as_tensor(window[None], dtype=torch.float32)
                    r = torch.as_tensor(reg[t][None], dtype=torch.float32)
                    step = self.net_(x, r).numpy()[0].astype(float)
                    z_next = window[:, :k].mean(axis=0) + step
                    out[t] = z_next
                    window = np.vstack([window[1:], np.concatenate([z_next, reg[t]])])
        finally:
            torch.set_num_threads(threads)
        return out * self.std_ + self.mean_


def _no_regressors(dates: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame(
        {"log_spend": 0.0, "dow": dates.day_of_week.to_numpy(), "holiday": 0.0}, index=dates
    )


def _train(
    windows: np.ndarray, nxt: np.ndarray, target: np.ndarray, hp: dict[str, Any], seed: int
) -> Any:
    import torch  # heavy, optional (the neural extra): only the LSTM member needs it
    from torch import nn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pytorch_lightning as pl
    # the trainer logs device and tip lines at INFO on every fit
    for name in ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)

    class _Net(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(hp["n_in"], hp["hidden"], batch_first=True)
            self.head = nn.Linear(hp["hidden"] + hp["n_in"] - hp["n_out"], hp["n_out"])

        def forward(self, x: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
            _, (hidden, _) = self.lstm(x)
            return self.head(torch.cat([hidden[-1], r], dim=1))

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            x, r, y = batch
            return nn.functional.mse_loss(self(x, r), y)

        def configure_optimizers(self) -> Any:
            return torch.optim.Adam(self.parameters(), lr=hp["lr"])

    net = _Net()
    data = torch.utils.data.TensorDataset(
        torch.as_tensor(windows, dtype=torch.float32),
        torch.as_tensor(nxt, dtype=torch.float32),
        torch.as_tensor(target, dtype=torch.float32),
    )
    loader = torch.utils.data.DataLoader(
        data,
        batch_size=hp["batch"],
        shuffle=True,
        num_workers=0,
        generator=torch.Generator().manual_seed(seed),
    )
    trainer = pl.Trainer(
        max_epochs=hp["epochs"],
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        deterministic=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(net, loader)
    net.eval()
    return net
