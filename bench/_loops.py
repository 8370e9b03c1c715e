"""Timing loops shared by the training benchmarks (CPU and GPU)."""

from __future__ import annotations

import time


def _sync(torch, device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def matmul_peak(torch, sizes=(512, 1024, 2048), repeats=5, device="cpu", dtype=None) -> float:
    """Best GFLOP/s of square matmuls (warm-up excluded, CUDA synchronised)."""
    best = 0.0
    for n in sizes:
        a = torch.randn(n, n, device=device, dtype=dtype or torch.float32)
        b = torch.randn(n, n, device=device, dtype=dtype or torch.float32)
        a @ b
        _sync(torch, device)
        for _ in range(repeats):
            t = time.perf_counter()
            a @ b
            _sync(torch, device)
            best = max(best, 2 * n ** 3 / (time.perf_counter() - t) / 1e9)
    return best


def macs(model, torch) -> int:
    return sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear))


def resident_loop(torch, model, xn, xc, y, batch, steps, bf16=False):
    """Samples/s of the training step on tensors resident on their device (randperm + slicing)."""
    from accelops.training.train import adamw

    device = xn.device.type
    opt = adamw(model.parameters(), 1e-3, 0.0, device)          # the optimiser training uses
    loss_fn = torch.nn.BCEWithLogitsLoss()
    n = len(y)

    def run(k):
        perm = torch.randperm(n, device=xn.device)
        for i in range(k):
            idx = perm[(i * batch) % max(1, n - batch):][:batch]
            opt.zero_grad(set_to_none=True)
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=bf16):
                loss = loss_fn(model(xn[idx], xc[idx]).float(), y[idx])
            loss.backward()
            opt.step()
        _sync(torch, device)

    run(5)                                   # warm-up excluded
    t = time.perf_counter()
    run(steps)
    return steps * min(batch, n) / (time.perf_counter() - t)


def dataloader_loop(torch, model, xn, xc, y, batch, steps):
    class Rows(torch.utils.data.Dataset):
        def __len__(self):
            return len(y)

        def __getitem__(self, i):
            return xn[i], xc[i], y[i]

    loader = torch.utils.data.DataLoader(Rows(), batch_size=batch, shuffle=True, num_workers=0)
    from accelops.training.train import adamw

    opt = adamw(model.parameters(), 1e-3, 0.0, xn.device.type)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    it = iter(loader)
    done, t = 0, None
    for k in range(steps + 5):
        if k == 5:
            t = time.perf_counter()
        try:
            bn, bc, by = next(it)
        except StopIteration:
            it = iter(loader)
            bn, bc, by = next(it)
        opt.zero_grad(set_to_none=True)
        loss_fn(model(bn, bc), by).backward()
        opt.step()
        done += len(by) if k >= 5 else 0
    return done / (time.perf_counter() - t)
