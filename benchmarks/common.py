"""Helpers shared by the benchmark scripts: test photographs, machine description, side-by-side timing."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np
from PIL import Image

# Colour photographs that ship with scikit-image (no download needed).
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina")


def _photo(name: str) -> Image.Image:
    from skimage import data

    if name.startswith("motorcycle_"):
        left, right, _ = data.stereo_motorcycle()
        return Image.fromarray(left if name.endswith("left") else right)
    return Image.fromarray(getattr(data, name)())


def write_photos(folder: Path, count: int = 24, size: int = 512, seed: int = 0) -> list[Path]:
    """Write `count` JPEG crops of the scikit-image photographs, each resized to `size` x `size`."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = PHOTOS + ("motorcycle_left", "motorcycle_right")
    sources = {name: _photo(name) for name in names}
    paths = []
    for i in range(count):
        name = names[i % len(names)]
        image = sources[name]
        scale = rng.uniform(0.6, 1.0)
        side = int(min(image.size) * scale)
        x = int(rng.integers(0, image.width - side + 1))
        y = int(rng.integers(0, image.height - side + 1))
        crop = image.crop((x, y, x + side, y + side)).resize((size, size), Image.Resampling.BICUBIC)
        path = folder / f"{name}_{i:03d}.jpg"
        crop.save(path, quality=92)
        paths.append(path)
    return paths


def machine() -> dict:
    """Describe the machine a benchmark ran on: cores, CPU model, memory and load."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory": memory,
        "load_1_5_15": " ".join(f"{v:.2f}" for v in os.getloadavg()),
        "python": platform.python_version(),
    }


def print_machine(label: str = "machine") -> None:
    info = machine()
    print(f"{label}: nproc {info['nproc']}, CPU {info['cpu']}, RAM {info['memory']}, "
          f"load {info['load_1_5_15']}, Python {info['python']}", flush=True)


class Timer:
    """Accumulate wall time per name over alternating rounds, so shared-machine load hits every side alike."""

    def __init__(self):
        self.seconds: dict[str, list[float]] = {}
        self.items: dict[str, int] = {}

    def add(self, name: str, seconds: float, items: int) -> None:
        self.seconds.setdefault(name, []).append(seconds)
        self.items[name] = self.items.get(name, 0) + items

    def rate(self, name: str) -> float:
        return self.items[name] / sum(self.seconds[name])

    def best_rate(self, name: str, per_round: int) -> float:
        return per_round / min(self.seconds[name])

    def time(self, name: str, items: int, function, *args, **kwargs):
        started = time.perf_counter()
        result = function(*args, **kwargs)
        self.add(name, time.perf_counter() - started, items)
        return result
