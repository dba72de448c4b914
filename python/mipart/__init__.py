# SPDX-License-Identifier: MIT
"""mipart: the partitions of AMD Instinct GPUs from Python.

A thin binding of libmipart.so.1 (the C library the ``mipart`` tool is built on). Every
function reads or changes the host under ``root`` -- a directory holding a simulated host made
by ``mipart sim create`` (or :func:`sim_create`), or ``None`` for ``$MIPART_ROOT`` and, when
that is unset, the real host. Results are plain dicts and lists (sizes in bytes), the topology
comes as dataclasses. Every refusal raises :class:`MipartError` with the message the ``mipart``
tool prints for the same request. See docs/python.md.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from . import _core

__all__ = [
    "MipartError", "Partition", "GPU", "Topology", "topology", "set_modes", "apply_layout",
    "estimate", "allocate", "release", "allocations", "env", "vllm", "readings", "sim_create",
    "GIB",
]

#: 2^30 bytes: every size a person reads is in GiB.
GIB = 1 << 30

#: A refusal or failure of libmipart. ``str(e)`` is the message the mipart tool prints after
#: ``error:``; ``e.hint`` what it prints after ``hint:`` (or None); ``e.errno`` the negative
#: errno (``-errno.ENOSPC``: does not fit, ...; include/mipart/error.h); ``e.usage`` is True
#: when the request itself is wrong (the tool exits 2).
MipartError = _core.Error


def _root(root: Optional[str]) -> Optional[str]:
    if root is None:
        root = os.environ.get("MIPART_ROOT") or None
    return os.fspath(root) if root is not None else None


@dataclass(frozen=True)
class Partition:
    """One logical device (XCP) of a GPU. Unknown numbers are None."""

    index: int                  #: logical index on the host (ROCR_VISIBLE_DEVICES)
    gpu: int                    #: index of the parent GPU
    xcp: Optional[int]          #: index within the GPU
    memory_bytes: Optional[int]
    compute_units: Optional[int]
    num_xcc: Optional[int]
    render_minor: Optional[int]  #: N of /dev/dri/renderDN
    kfd_node: Optional[int]
    drm_device: str

    @property
    def memory_gib(self) -> Optional[float]:
        """Memory in GiB (2^30 bytes), or None when unknown."""
        return None if self.memory_bytes is None else self.memory_bytes / GIB


@dataclass(frozen=True)
class GPU:
    """One physical GPU with its modes and partitions."""

    index: int
    bdf: str
    product: str
    compute: Optional[str]      #: "SPX", ..., "CPX"; None when unknown
    memory: Optional[str]       #: "NPS1", "NPS2", "NPS4"; None when unknown
    compute_available: List[str]
    memory_available: List[str]
    memory_bytes: Optional[int]
    num_xcc: Optional[int]
    compute_units: Optional[int]
    numa_node: Optional[int]
    hive_id: Optional[int]
    unique_id: Optional[str]
    partitioning: bool
    is_apu: bool
    partitions: List[Partition] = field(default_factory=list)


@dataclass(frozen=True)
class Topology:
    """The GPUs of a host, and the warnings reading them produced."""

    gpus: List[GPU]
    warnings: List[str]

    @property
    def partitions(self) -> List[Partition]:
        """Every partition of every GPU, in GPU then XCP order."""
        return [p for g in self.gpus for p in g.partitions]


def topology(root: Optional[str] = None) -> Topology:
    """Every AMD GPU of the host and its partitions, as the kernel presents them."""
    d = _core.topology(_root(root))
    gpus = []
    for g in d["gpus"]:
        parts = [Partition(**p) for p in g.pop("partitions")]
        gpus.append(GPU(partitions=parts, **g))
    return Topology(gpus=gpus, warnings=list(d["warnings"]))


def set_modes(gpus: Optional[Sequence[int]] = None, compute: Optional[str] = None,
              memory: Optional[str] = None, *, dry_run: bool = False,
              root: Optional[str] = None) -> Dict[str, Any]:
    """Set the compute and/or memory mode of GPUs (None: all), safely (``mipart set``).

    With ``dry_run`` the plan is returned and nothing changes. Otherwise the change runs under
    the host lock, is refused while processes use the GPUs it disrupts, is verified and rolled
    back on failure; the result has ``state`` ("done", "noop") and ``journal_id``.
    """
    return _core.set_modes(_root(root), None if gpus is None else list(gpus), compute, memory,
                           bool(dry_run))


def apply_layout(path: str, config: Optional[str] = None, *, dry_run: bool = False,
                 root: Optional[str] = None) -> Dict[str, Any]:
    """Bring the GPUs to the named config of a layout file (``mipart apply -f PATH -c NAME``)."""
    return _core.apply_layout(_root(root), os.fspath(path), config, bool(dry_run))


def estimate(model: str, *, precision: Optional[str] = None, kv_cache_fp8: bool = False,
             tensor_parallel_size: int = 0, max_model_len: int = 0, max_num_seqs: int = 0,
             gpu_memory_utilization: float = 0.0, device_bytes: int = 0,
             compute_units: int = 0) -> Dict[str, Any]:
    """What a model needs in memory the way vLLM accounts for it (``mipart estimate``).

    ``model`` is a catalog id or alias, or a Hugging Face model directory. With
    ``device_bytes`` the result also says whether one sequence of ``max_model_len`` fits.
    ``compute_units`` are the CUs of the partition (38 for an MI300X in CPX): vLLM's sampler
    holds one float32 vocabulary row per CU; 0 takes 132 (an H100's SMs).
    """
    return _core.estimate(model, precision, bool(kv_cache_fp8), int(tensor_parallel_size),
                          int(max_model_len), int(max_num_seqs), float(gpu_memory_utilization),
                          int(device_bytes), int(compute_units))


def allocate(model: str, *, partition: Optional[str] = None, name: Optional[str] = None,
             precision: Optional[str] = None, kv_cache_fp8: bool = False,
             tensor_parallel_size: int = 0, max_model_len: int = 0, max_num_seqs: int = 0,
             gpu_memory_utilization: float = 0.0, fit_context: bool = False,
             root: Optional[str] = None) -> Dict[str, Any]:
    """Book memory for a model instance on a partition (``mipart allocate``).

    ``partition`` is "G.X" (GPU, XCP), a logical index, or None/"auto" for the best fit. With
    ``fit_context`` and a named partition, an unset ``max_model_len`` becomes the longest
    context that fits the partition's free memory. On a refusal :class:`MipartError` carries
    the hint: a partition with room, a mode that would fit, or what to change.
    """
    return _core.allocate(_root(root), model, partition, name, precision, bool(kv_cache_fp8),
                          int(tensor_parallel_size), int(max_model_len), int(max_num_seqs),
                          float(gpu_memory_utilization), bool(fit_context))


def release(allocation: str, *, root: Optional[str] = None) -> Dict[str, Any]:
    """Release an allocation by name or id; returns what it booked."""
    return _core.release(_root(root), str(allocation))


def allocations(*, root: Optional[str] = None) -> List[Dict[str, Any]]:
    """Every allocation of the ledger, oldest first."""
    return _core.allocations(_root(root))


def env(target: str, *, container: bool = False, root: Optional[str] = None) -> Dict[str, str]:
    """The environment that runs a workload on an allocation or a partition "G.X" (``mipart env``).

    ROCR_VISIBLE_DEVICES, AIM_PARTITION_ID, MIPART_PARTITION, MIPART_GPU_BDF, ... With
    ``container`` the view from inside a container that sees only the target's render nodes.
    """
    return _core.env(_root(root), str(target), bool(container))


def vllm(allocation: str, *, root: Optional[str] = None) -> Dict[str, Any]:
    """The ``vllm serve`` command sized to start on an allocation (``mipart vllm --format json``)."""
    return _core.vllm(_root(root), str(allocation))


def readings(root: Optional[str] = None) -> Dict[str, Any]:
    """What each GPU and partition is doing now: busy %, VRAM used, power, temperatures."""
    return _core.readings(_root(root))


def sim_create(directory: str, *, gpus: int = 8, product: Optional[str] = None,
               compute: Optional[str] = None, memory: Optional[str] = None) -> str:
    """Write a simulated host into ``directory`` (``mipart sim create``); returns the directory."""
    _core.sim_create(os.fspath(directory), int(gpus), product, compute, memory)
    return os.fspath(directory)
