"""transformers' ``Trainer`` driving an lrfun schedule through ``lrfun.torch.Scheduler``, on a
tiny model built here (nothing is downloaded): the lrs the trainer's optimizer steps with are
the ones the trainer's own scheduler sets, and a checkpoint resumes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate", reason="transformers' Trainer needs accelerate")

import lrfun  # noqa: E402
import lrfun.torch  # noqa: E402
from parity import assert_close  # noqa: E402

_STEPS, _WARMUP, _LR = 24, 5, 0.1


class _Tiny(torch.nn.Module):
    """A linear regression with the forward signature the Trainer expects."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.linear = torch.nn.Linear(3, 1)

    def forward(self, x: Any, labels: Any) -> dict[str, Any]:
        return {"loss": torch.nn.functional.mse_loss(self.linear(x).squeeze(-1), labels)}


class _Data(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 64

    def __getitem__(self, i: int) -> dict[str, Any]:
        x = torch.tensor([i / 64, (i % 7) / 7, 1.0])
        return {"x": x, "labels": x.sum()}


class _Lrs(transformers.TrainerCallback):
    """Records the lr of every group when each optimizer step has been taken."""

    def __init__(self) -> None:
        self.rows: list[list[float]] = []

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        groups = kwargs["optimizer"].param_groups
        self.rows.append([float(g["lr"]) for g in groups])


def _arguments(out: Path, **extra: Any) -> Any:
    arguments: dict[str, Any] = {
        "output_dir": str(out),
        "max_steps": _STEPS,
        "per_device_train_batch_size": 4,
        "learning_rate": _LR,
        "lr_scheduler_type": "cosine",
        "warmup_steps": _WARMUP,
        "report_to": [],
        "use_cpu": True,
        "logging_strategy": "no",
        "save_strategy": "no",
        "disable_tqdm": True,
    }
    return transformers.TrainingArguments(**{**arguments, **extra})


def _train(out: Path, optimizers: Any = (None, None), resume: str | None = None, **extra: Any):
    model = _Tiny()
    if callable(optimizers):
        optimizers = optimizers(model)
    lrs = _Lrs()
    trainer = transformers.Trainer(
        model=model,
        args=_arguments(out, **extra),
        train_dataset=_Data(),
        optimizers=optimizers,
        callbacks=[lrs],
    )
    trainer.train(resume_from_checkpoint=resume)
    return trainer, np.asarray(lrs.rows)


def _ours(model: Any) -> tuple[Any, Any]:
    optimizer = torch.optim.AdamW(model.parameters(), lr=_LR)
    schedule = lrfun.hf.get_scheduler("cosine", _LR, _WARMUP, _STEPS)
    return optimizer, lrfun.torch.Scheduler(optimizer, schedule)


def test_the_trainer_steps_with_transformers_lrs(tmp_path: Path) -> None:
    _, theirs = _train(tmp_path / "native")
    trainer, ours = _train(tmp_path / "lrfun", _ours)
    assert isinstance(trainer.lr_scheduler, lrfun.torch.Scheduler)  # the trainer kept ours
    # the trainer's own optimizer has two groups (with and without weight decay), one lr
    assert ours.shape == (_STEPS, 1) and theirs.shape[0] == _STEPS
    assert_close(np.broadcast_to(ours, theirs.shape), theirs, dtype="float64")
    # and the schedule itself, step by step
    expected = lrfun.hf.get_scheduler("cosine", _LR, _WARMUP, _STEPS)(np.arange(_STEPS))
    assert_close(ours, expected[:, None], dtype="float64")


def test_a_checkpoint_resumes_the_schedule(tmp_path: Path) -> None:
    _, whole = _train(tmp_path / "whole", _ours)
    _train(tmp_path / "first", _ours, save_strategy="steps", save_steps=10)
    checkpoint = tmp_path / "first" / "checkpoint-10"
    assert (checkpoint / "scheduler.pt").exists()
    trainer, resumed = _train(tmp_path / "first", _ours, resume=str(checkpoint))
    # the resumed run takes steps 10.. and sets the lrs of the uninterrupted run
    assert trainer.lr_scheduler.last_epoch == _STEPS
    assert_close(resumed, whole[10:], dtype="float64")
