"""Write the TensorBoard event files under tests/data/tensorboard/ with the real writers.

Run once (needs the test extra: ``pip install tensorboard tensorboardX``) and commit the output:

    python tests/data/make_tensorboard.py

No TensorFlow or PyTorch is needed:

* ``pytorch_style/`` -- tensorboardX ``SummaryWriter.add_scalar`` (the code PyTorch's
  ``torch.utils.tensorboard`` copies): ``simple_value`` scalars, plus a histogram and a text summary
  (not scalars), written in two sessions where the second restarts at step 30 (a resumed job);
* ``tb_writer/`` -- tensorboard's own ``tensorboard.summary.Writer``: tensors with ``float_val``;
* ``keras_tf2/`` -- ``train/`` and ``validation/`` sub-folders with ``epoch_*`` tags written as TF2
  does (a rank-0 DT_FLOAT tensor with 4 bytes of ``tensor_content``, ``scalars`` plugin metadata on
  the first event of a tag), built with tensorboard's protobuf classes and ``EventFileWriter``;
* ``hf_style/`` -- Hugging Face TensorBoardCallback tags (``train/loss``, ``eval/loss``,
  ``train/learning_rate``, ``train/epoch`` and the end-of-training ``train/train_loss`` summary);
* ``lightning/version_0/`` -- Lightning TensorBoardLogger: user tags, ``epoch``, ``hp_metric = -1``
  at step 0, and ``hparams.yaml``;
* ``dtypes/`` -- one tag per value encoding: DOUBLE ``double_val``, HALF and BFLOAT16 in
  ``half_val`` and in ``tensor_content``, INT32 ``int_val``, INT64 ``int64_val``, DOUBLE
  ``tensor_content``.

File names are fixed (the writers put the time and host name in them) so that reruns replace
rather than add files.
"""

from __future__ import annotations

import shutil
import struct
import sys
from pathlib import Path

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2
from tensorboard.summary import Writer
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboardX import SummaryWriter

OUT = Path(__file__).resolve().parent / "tensorboard"
WALL = 1_700_000_000.0


def _fix_names(folder: Path, stem: str) -> None:
    """Rename the writer's event files to stable names, keeping their order."""
    files = sorted(p for p in folder.iterdir() if "tfevents" in p.name)
    for i, p in enumerate(files):
        p.rename(folder / f"events.out.tfevents.{1700000000 + i:010d}.{stem}.{i}")


def pytorch_style() -> None:
    d = OUT / "pytorch_style"
    with SummaryWriter(str(d)) as w:
        for step in range(0, 40):
            loss = 2.0 * np.exp(-step / 15) + 0.1
            w.add_scalar("Loss/train", loss, step, walltime=WALL + step)
            if step % 5 == 4:
                w.add_scalar("Loss/val", loss + 0.15, step, walltime=WALL + step)
                w.add_scalar("Accuracy/val", 1 - loss / 3, step, walltime=WALL + step)
            if step % 10 == 0:
                w.add_histogram("weights", np.linspace(-1, 1, 8) * (1 + step / 40), step, bins=4)
        w.add_text("notes", "first session", 0)
    # a second session: the job restarted from a checkpoint at step 30 and logs 30.. again
    with SummaryWriter(str(d), filename_suffix=".resumed") as w:
        for step in range(30, 50):
            loss = 1.9 * np.exp(-step / 15) + 0.1
            w.add_scalar("Loss/train", loss, step, walltime=WALL + 100 + step)
            if step % 5 == 4:
                w.add_scalar("Loss/val", loss + 0.12, step, walltime=WALL + 100 + step)
                w.add_scalar("Accuracy/val", 1 - loss / 3, step, walltime=WALL + 100 + step)
    _fix_names(d, "pytorch")


def tb_writer() -> None:
    d = OUT / "tb_writer"
    d.mkdir(parents=True, exist_ok=True)
    w = Writer(str(d))
    for step in range(20):
        w.add_scalar("loss", 1.0 / (step + 1), step, wall_time=WALL + step)
        w.add_scalar("val_loss", 1.2 / (step + 1) + 0.05, step, wall_time=WALL + step)
    w.close()
    _fix_names(d, "tbwriter")


def _scalar_meta() -> summary_pb2.SummaryMetadata:
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
        data_class=summary_pb2.DataClass.DATA_CLASS_SCALAR,
    )


def _tf2_event(tag: str, value: float, step: int, first: bool) -> event_pb2.Event:
    tensor = tensor_pb2.TensorProto(
        dtype=1,  # DT_FLOAT
        tensor_shape=tensor_shape_pb2.TensorShapeProto(),  # rank 0
        tensor_content=struct.pack("<f", value),
    )
    ev = event_pb2.Event(wall_time=WALL + step, step=step)
    val = ev.summary.value.add(tag=tag, tensor=tensor)
    if first:
        val.metadata.CopyFrom(_scalar_meta())
    return ev


def keras_tf2() -> None:
    root = OUT / "keras_tf2"
    for sub in ("train", "validation"):
        d = root / sub
        d.mkdir(parents=True, exist_ok=True)
        w = EventFileWriter(str(d), filename_suffix=".v2")
        seen: set[str] = set()
        for epoch in range(12):
            train = 1.0 * np.exp(-epoch / 4) + 0.05
            values = {"epoch_loss": train, "epoch_accuracy": 1 - train / 2}
            if sub == "train":
                values["epoch_learning_rate"] = 1e-3 if epoch < 8 else 1e-4
            else:  # overfits after epoch 6
                values = {"epoch_loss": train + 0.1 + max(0, epoch - 6) * 0.05}
                values["epoch_accuracy"] = 0.8 - max(0, epoch - 6) * 0.01
                if epoch % 4 == 3:
                    values["evaluation_loss_vs_iterations"] = values["epoch_loss"]
            for tag, v in values.items():
                w.add_event(_tf2_event(tag, float(v), epoch, tag not in seen))
                seen.add(tag)
        w.close()
        _fix_names(d, f"keras.{sub}.v2")


def hf_style() -> None:
    d = OUT / "hf_style"
    with SummaryWriter(str(d)) as w:
        for step in range(10, 210, 10):
            w.add_scalar("train/loss", 2.5 * np.exp(-step / 80) + 0.3, step)
            w.add_scalar("train/learning_rate", 5e-5 * (1 - step / 200), step)
            w.add_scalar("train/grad_norm", 3.0 / (1 + step / 50), step)
            w.add_scalar("train/epoch", step / 100, step)
            if step % 50 == 0:
                w.add_scalar("eval/loss", 2.4 * np.exp(-step / 90) + 0.45, step)
                w.add_scalar("eval/accuracy", 0.5 + step / 500, step)
                w.add_scalar("eval/runtime", 12.5, step)
                w.add_scalar("eval/samples_per_second", 80.2, step)
        for key, v in {"train_loss": 0.9, "train_runtime": 600.0, "total_flos": 1.2e15}.items():
            w.add_scalar(f"train/{key}", v, 200)
    _fix_names(d, "hf")


def lightning() -> None:
    d = OUT / "lightning" / "version_0"
    with SummaryWriter(str(d)) as w:
        w.add_scalar("hp_metric", -1, 0)
        step = 0
        for epoch in range(8):
            for _ in range(5):
                step += 1
                w.add_scalar("train_loss_step", 1.5 * np.exp(-step / 12) + 0.2, step)
            w.add_scalar("epoch", epoch, step)
            w.add_scalar("val_loss", 1.6 * np.exp(-step / 14) + 0.25, step)
            w.add_scalar("val_acc", 0.4 + epoch * 0.05, step)
    (d / "hparams.yaml").write_text("lr: 0.002\nbatch_size: 64\n")
    _fix_names(d, "lightning")


def _tensor(**kw: object) -> tensor_pb2.TensorProto:
    return tensor_pb2.TensorProto(tensor_shape=tensor_shape_pb2.TensorShapeProto(), **kw)


def dtypes() -> None:
    d = OUT / "dtypes"
    d.mkdir(parents=True, exist_ok=True)
    w = EventFileWriter(str(d))
    half = lambda v: int(np.array(v, dtype=np.float16).view(np.uint16))  # noqa: E731
    bf16 = lambda v: int(np.array(v, dtype=np.float32).view(np.uint32)) >> 16  # noqa: E731
    for step in range(1, 6):
        v = 1.0 / step
        tensors = {
            "double": _tensor(dtype=2, double_val=[v]),
            "double_content": _tensor(dtype=2, tensor_content=struct.pack("<d", v)),
            "half": _tensor(dtype=19, half_val=[half(v)]),
            "half_content": _tensor(dtype=19, tensor_content=struct.pack("<e", v)),
            "bf16": _tensor(dtype=14, half_val=[bf16(v)]),
            "bf16_content": _tensor(dtype=14, tensor_content=struct.pack("<H", bf16(v))),
            "int32": _tensor(dtype=3, int_val=[10 * step]),
            "int64": _tensor(dtype=9, int64_val=[-(10**12) * step]),
            "vector": tensor_pb2.TensorProto(
                dtype=1,
                tensor_shape=tensor_shape_pb2.TensorShapeProto(
                    dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=2)]
                ),
                float_val=[v, v],
            ),
        }
        ev = event_pb2.Event(wall_time=WALL + step, step=step)
        for tag, t in tensors.items():
            ev.summary.value.add(tag=tag, tensor=t, metadata=_scalar_meta())
        w.add_event(ev)
    w.close()
    _fix_names(d, "dtypes")


def main() -> int:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    for make in (pytorch_style, tb_writer, keras_tf2, hf_style, lightning, dtypes):
        make()
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
