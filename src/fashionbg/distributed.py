"""Data-parallel training under torchrun: the process group from WORLD_SIZE and RANK, shards and reductions.

Without those variables (a plain `python -m fashionbg train`) every helper here acts for a world of one.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist

from .errors import ConfigError

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class World:
    """This process's place among the training processes."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    local_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    owns_group: bool = False  # this module started the process group and ends it in `close`

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"environment variable {name}={value!r} is not an integer; torchrun sets it") from None


def from_env() -> World:
    """Join the process group that torchrun describes: gloo on CPU, nccl with one GPU per process."""
    size = _env_int("WORLD_SIZE", 1)
    if size <= 1:
        return World()
    rank = _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", 0)
    local_size = _env_int("LOCAL_WORLD_SIZE", size)
    if torch.cuda.is_available() and torch.cuda.device_count() >= local_size:
        backend, device = "nccl", torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        backend, device = "gloo", torch.device("cpu")
    owns = False
    if not dist.is_initialized():
        dist.init_process_group(backend)
        owns = True
    _logger.debug("rank %d of %d (%s, %s)", rank, size, backend, device)
    return World(rank, size, local_rank, local_size, device, owns)


def close(world: World) -> None:
    if world.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


def shard(count: int, world: World) -> slice:
    """Return this rank's contiguous part of `count` items. Parts differ in length by at most one."""
    return slice(count * world.rank // world.size, count * (world.rank + 1) // world.size)


def all_sum(values: list[float], world: World) -> list[float]:
    """Sum `values` element-wise over all ranks (float64)."""
    if not world.distributed:
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=world.device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def gather_rows(local: torch.Tensor, total: int, world: World) -> torch.Tensor:
    """Concatenate every rank's `shard(total)` rows of a 2-D tensor, in rank order, on every rank."""
    if not world.distributed:
        return local
    longest = total // world.size + 1
    padded = torch.zeros((longest, *local.shape[1:]), dtype=local.dtype, device=local.device)
    padded[: len(local)] = local
    pieces = [torch.empty_like(padded) for _ in range(world.size)]
    dist.all_gather(pieces, padded)
    parts = []
    for rank, piece in enumerate(pieces):
        part = shard(total, World(rank=rank, size=world.size))
        parts.append(piece[: part.stop - part.start])
    return torch.cat(parts)
