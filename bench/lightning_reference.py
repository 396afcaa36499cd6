#!/usr/bin/env python3
"""The PyTorch Lightning peer of shared/bench/torch_reference.py, for the side-by-side GPU benchmark.

Same CSV, split, feature standardisation, model (imported from torch_reference.py itself, so the
definitions cannot drift), batch size, Adam optimizer, accumulation, gradient clipping (norm),
validation schedule, DataLoader settings (persistent_workers=False, num_workers <= 2, pin_memory
with CUDA), the seeds' empty_cache every 50 batches on CUDA and gc.collect() at each epoch end. The
loop is Lightning's Trainer with `--precision` (16-mixed by default: autocast + GradScaler).

Differences from torch_reference.py that Lightning imposes: a last partial accumulation group of an
epoch is stepped (the reference drops it), and Lightning divides the loss by the accumulation itself.

Prints one JSON line per epoch and a final JSON summary line, as torch_reference.py does, with the
device figures added: torch.cuda.max_memory_allocated / max_memory_reserved, memory_allocated at
each epoch end and its growth per epoch after the first epoch.

  python3 bench/lightning_reference.py --reference-dir shared/bench --csv data.csv --model transformer \\
      --layers 4 --batch-size 4 --accumulate 4 --clip 0.5 --lr 1e-4 --epochs 3 --device-budget-mb 4096
"""
import argparse
import gc
import importlib.util
import json
import sys
import time
from pathlib import Path

MB = 2**20


def load_reference(directory):
    """torch_reference.py as a module: its model, CSV reader and RSS helpers."""
    path = Path(directory) / "torch_reference.py"
    if not path.exists():
        raise SystemExit(f"{path} not found: pass --reference-dir (shared/bench)")
    spec = importlib.util.spec_from_file_location("torch_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference-dir", default=str(Path(__file__).resolve().parent.parent / "shared" / "bench"))
    p.add_argument("--csv", required=True)
    p.add_argument("--model", choices=["mlp", "transformer"], default="mlp")
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--d-model", type=int, default=512)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--patch", type=int, default=4)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--accumulate", type=int, default=1)
    p.add_argument("--clip", type=float, default=0.0)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--val-every", type=int, default=1)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: leave default)")
    p.add_argument("--max-val-outputs", type=int, default=10_000, help="samples kept for plots")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", default="16-mixed", choices=["16-mixed", "bf16-mixed", "32-true"])
    p.add_argument("--device-budget-mb", type=float, default=0,
                   help="cap the CUDA caching allocator (set_per_process_memory_fraction); 0 = none")
    return p.parse_args(argv)


def split_and_standardize(torch, x, seed):
    """torch_reference.py's split (80/10 by a seeded permutation) and train-set standardisation."""
    n = x.shape[0]
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_train, n_val = int(0.8 * n), int(0.1 * n)
    train, val = order[:n_train], order[n_train:n_train + n_val]
    mean, std = x[train].mean(0), x[train].std(0).clamp_min(1e-8)
    return (x - mean) / std, train, val


def growth_per_epoch(values):
    """torch_reference.py's formula: last minus the second epoch's, over the epochs between."""
    if not values:
        return 0.0
    return (values[-1] - values[min(1, len(values) - 1)]) / max(len(values) - 2, 1)


def make_module(L, torch, nn, model, lr, max_val_outputs):
    class Regressor(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.model = model
            self.loss_fn = nn.MSELoss()
            self.val_sq_err, self.val_count, self.kept = 0.0, 0, []

        def forward(self, x):
            return self.model(x)

        def training_step(self, batch, batch_idx):
            xb, yb = batch
            return self.loss_fn(self.model(xb), yb)

        def on_validation_epoch_start(self):
            self.val_sq_err, self.val_count, self.kept = 0.0, 0, []

        def validation_step(self, batch, batch_idx):
            xb, yb = batch
            pred = self.model(xb).float()
            self.val_sq_err += float(((pred - yb) ** 2).sum())
            self.val_count += yb.numel()
            if sum(k[0].shape[0] for k in self.kept) < max_val_outputs:
                self.kept.append((pred.detach().cpu().clone(), yb.detach().cpu().clone()))

        def configure_optimizers(self):
            return torch.optim.Adam(self.model.parameters(), lr=lr)

    return Regressor()


def make_recorder(L, torch, cuda, rss_mb, val_every):
    """Times each training epoch (without its validation), counts samples, mirrors the seeds'
    empty_cache / gc.collect cadence and prints the per-epoch JSON line."""
    class Recorder(L.Callback):
        def __init__(self):
            self.samples, self.seconds, self.rss, self.device_mb = 0, 0.0, [], []
            self.started, self.epoch_seconds = None, None

        def _sync(self):
            if cuda:
                torch.cuda.synchronize()

        def _stop_clock(self):
            if self.started is not None:
                self._sync()
                self.epoch_seconds = time.perf_counter() - self.started
                self.seconds += self.epoch_seconds
                self.started = None

        def on_train_epoch_start(self, trainer, module):
            self._sync()
            self.started, self.epoch_seconds = time.perf_counter(), None

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            self.samples += batch[0].shape[0]
            if cuda and batch_idx % 50 == 0:
                torch.cuda.empty_cache()

        def on_validation_start(self, trainer, module):
            self._stop_clock()  # validation at an epoch's end runs before on_train_epoch_end

        def on_train_epoch_end(self, trainer, module):
            self._stop_clock()
            gc.collect()
            self.rss.append(rss_mb())
            line = {"epoch": trainer.current_epoch, "train_seconds": round(self.epoch_seconds or 0.0, 3),
                    "rss_mb": round(self.rss[-1], 1)}
            if cuda:
                self.device_mb.append(torch.cuda.memory_allocated() / MB)
                line["cuda_allocated_mb"] = round(self.device_mb[-1], 1)
            if module.val_count and (trainer.current_epoch + 1) % val_every == 0:
                line["val_mse"] = module.val_sq_err / module.val_count
                line["val_kept"] = sum(k[0].shape[0] for k in module.kept)
            module.kept = []
            print(json.dumps(line), flush=True)

    return Recorder()


def main(argv=None):
    a = parse_args(argv)
    ref = load_reference(a.reference_dir)
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset
    try:
        import lightning as L
    except ImportError:
        import pytorch_lightning as L

    torch.manual_seed(a.seed)
    if a.threads:
        torch.set_num_threads(a.threads)
    cuda = torch.cuda.is_available()
    if cuda and a.device_budget_mb > 0:
        total = torch.cuda.get_device_properties(0).total_memory
        torch.cuda.set_per_process_memory_fraction(min(1.0, a.device_budget_mb * MB / total), 0)

    t0 = time.perf_counter()
    x, y = ref.load_csv(a.csv)
    x, train, val = split_and_standardize(torch, x, a.seed)
    load_s = time.perf_counter() - t0

    def loader(idx, shuffle):
        return DataLoader(TensorDataset(x[idx], y[idx]), batch_size=a.batch_size, shuffle=shuffle,
                          num_workers=min(a.workers, 2), persistent_workers=False, pin_memory=cuda)

    model = ref.build_model(a, x.shape[1], y.shape[1])
    params = sum(t.numel() for t in model.parameters())
    module = make_module(L, torch, nn, model, a.lr, a.max_val_outputs)
    recorder = make_recorder(L, torch, cuda, ref.rss_mb, a.val_every)
    trainer = L.Trainer(
        max_epochs=a.epochs, accelerator="gpu" if cuda else "cpu", devices=1, precision=a.precision,
        accumulate_grad_batches=a.accumulate, gradient_clip_val=a.clip if a.clip > 0 else None,
        gradient_clip_algorithm="norm", check_val_every_n_epoch=a.val_every, num_sanity_val_steps=0,
        logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        callbacks=[recorder])
    trainer.fit(module, train_dataloaders=loader(train, True), val_dataloaders=loader(val, False))

    summary = {"summary": True, "side": "lightning", "model": a.model, "params": params, "rows": x.shape[0],
               "precision": a.precision, "load_seconds": round(load_s, 3),
               "train_samples_per_s": round(recorder.samples / max(recorder.seconds, 1e-9), 1),
               "peak_rss_mb": round(ref.peak_rss_mb(), 1),
               "rss_growth_mb_per_epoch": round(growth_per_epoch(recorder.rss), 2),
               "threads": torch.get_num_threads(), "torch": torch.__version__, "lightning": L.__version__}
    if cuda:
        summary.update({"cuda_max_allocated_mb": round(torch.cuda.max_memory_allocated() / MB, 1),
                        "cuda_max_reserved_mb": round(torch.cuda.max_memory_reserved() / MB, 1),
                        "cuda_growth_mb_per_epoch": round(growth_per_epoch(recorder.device_mb), 3),
                        "device_budget_mb": a.device_budget_mb, "gpu": torch.cuda.get_device_name(0)})
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    sys.exit(main())
