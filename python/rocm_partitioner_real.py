# SPDX-License-Identifier: MIT
"""The partitioner interface of controllers that place models on MI300 partitions, on mipart.

::

    from rocm_partitioner_real import ROCmPartitionerReal, ComputePartitionMode, MemoryPartitionMode
    partitioner = ROCmPartitionerReal(gpu_id=0)
    partitioner.initialize(gpu_name="MI300X", compute_mode=ComputePartitionMode.CPX,
                           memory_mode=MemoryPartitionMode.NPS4)
    devices = partitioner.get_logical_devices()          # 8 logical devices in CPX
    success, error = partitioner.allocate_model("meta-llama/Llama-3.1-8B-Instruct",
                                                partition_id=0, precision="fp16")
    env_vars = partitioner.get_environment_variables(partition_id=0)
    # {'ROCR_VISIBLE_DEVICES': '0', 'AIM_PARTITION_ID': '0', ...}

Every answer comes from libmipart (the ``mipart`` package): the modes and devices as the amdgpu
driver presents them, the memory estimate, the allocation ledger shared with the ``mipart``
tool, the environment ``mipart env`` prints. ``MIPART_ROOT`` (or ``root=``) selects a
simulated host made by ``mipart sim create``.

Where the truth differs from common belief (docs/python.md):

* An MI300X has 192 GiB of HBM. In CPX each of its 8 XCDs is a logical device, and each gets
  **about 24 GiB** (192 / 8), in NPS1 as in NPS4: NPS4 does not give a CPX device 48 GiB, it
  puts each pair of devices' memory on its own quarter of the HBM stacks (locality, not size).
  ``memory_gb`` is the size the driver reports for the device (KFD mem_banks), in GiB (2^30).
* A memory mode (NPS) is one setting for the whole XGMI hive: changing it reloads the driver
  and applies to every GPU of the hive, each of which then needs a compute mode that the NPS
  mode allows (NPS4: QPX or CPX). ``initialize`` therefore sets the requested compute mode on
  every GPU of the hive when the memory mode must change, and only on ``gpu_id`` otherwise.
* ``partition_id`` is the index of the device within its GPU (the XCP). ``ROCR_VISIBLE_DEVICES``
  is the device's index on the host (KFD node order), which equals ``partition_id`` on GPU 0
  only; ``AIM_PARTITION_ID`` is ``partition_id``.
* An 8B model in fp16 takes ~15 GiB of weights: on a 24 GiB device its context is limited by the
  KV cache left over, not by the model's 131072 tokens. Without ``max_model_len``,
  ``allocate_model`` books the longest context that fits the device.
"""
from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import mipart
from mipart import GIB, MipartError

__all__ = ["ComputePartitionMode", "MemoryPartitionMode", "LogicalDevice", "ROCmPartitionerReal",
           "MipartError"]


class ComputePartitionMode(enum.Enum):
    """Compute partition modes of the amdgpu driver (current_compute_partition)."""

    SPX = "SPX"  #: one device per GPU
    DPX = "DPX"  #: 2
    TPX = "TPX"  #: 3 (MI300A)
    QPX = "QPX"  #: 4
    CPX = "CPX"  #: one per XCD: 8 on MI300X


class MemoryPartitionMode(enum.Enum):
    """Memory partition (NUMA per socket) modes (current_memory_partition)."""

    NPS1 = "NPS1"
    NPS2 = "NPS2"
    NPS4 = "NPS4"


@dataclass
class LogicalDevice:
    """One logical device (partition) of the GPU."""

    partition_id: int           #: index within the GPU (XCP)
    device_id: int              #: index on the host: ROCR_VISIBLE_DEVICES
    gpu_id: int
    memory_gb: float            #: GiB (2^30 bytes), as the driver reports it
    memory_bytes: int
    compute_units: Optional[int]
    render_node: Optional[str]  #: "/dev/dri/renderD128"
    compute_mode: Optional[str]
    memory_mode: Optional[str]
    allocated_model: Optional[str] = None
    allocated_gb: float = 0.0   #: GiB booked in the ledger by allocate_model (this object)


class ROCmPartitionerReal:
    """Partitions of one GPU (``gpu_id``, the index ``mipart status`` shows) through mipart."""

    def __init__(self, gpu_id: int = 0, root: Optional[str] = None) -> None:
        self.gpu_id = int(gpu_id)
        self.root = root if root is not None else (os.environ.get("MIPART_ROOT") or None)
        self.gpu_name: Optional[str] = None
        self.initialized = False
        #: partition_id -> allocation name, for what this object allocated
        self._allocations: Dict[int, str] = {}
        self._booked: Dict[int, Tuple[str, int]] = {}

    def _gpu(self) -> mipart.GPU:
        topo = mipart.topology(self.root)
        for g in topo.gpus:
            if g.index == self.gpu_id:
                return g
        raise MipartError(f"no GPU {self.gpu_id} on this host (it has {len(topo.gpus)})")

    def initialize(self, gpu_name: str = "MI300X",
                   compute_mode: ComputePartitionMode = ComputePartitionMode.SPX,
                   memory_mode: MemoryPartitionMode = MemoryPartitionMode.NPS1) -> bool:
        """Bring the GPU to ``compute_mode`` / ``memory_mode`` (a no-op when it is there).

        Returns True. Raises :class:`MipartError` when the GPU is not a ``gpu_name``, when the
        driver does not allow the pair, or when processes use the GPUs the change disrupts
        (the message names them).
        """
        g = self._gpu()
        if gpu_name and g.product.lower() != gpu_name.lower():
            raise MipartError(f"GPU {self.gpu_id} ({g.bdf}) is an {g.product}, not an {gpu_name}")
        cm = ComputePartitionMode(compute_mode).value
        mm = MemoryPartitionMode(memory_mode).value
        if g.memory != mm:
            # NPS is hive-wide: every GPU of the hive is reloaded and needs a compute mode
            # that the new memory mode allows
            topo = mipart.topology(self.root)
            hive = [x.index for x in topo.gpus
                    if g.hive_id is not None and x.hive_id == g.hive_id] or [self.gpu_id]
            mipart.set_modes(hive, cm, mm, root=self.root)
        elif g.compute != cm:
            mipart.set_modes([self.gpu_id], cm, None, root=self.root)
        self.gpu_name = g.product
        self.initialized = True
        return True

    def get_logical_devices(self) -> List[LogicalDevice]:
        """The logical devices of the GPU now, with their memory in GiB."""
        g = self._gpu()
        out = []
        for p in g.partitions:
            pid = p.xcp if p.xcp is not None else 0
            booked = self._booked.get(pid)
            out.append(LogicalDevice(
                partition_id=pid, device_id=p.index, gpu_id=g.index,
                memory_gb=round((p.memory_bytes or 0) / GIB, 2),
                memory_bytes=p.memory_bytes or 0, compute_units=p.compute_units,
                render_node=None if p.render_minor is None else f"/dev/dri/renderD{p.render_minor}",
                compute_mode=g.compute, memory_mode=g.memory,
                allocated_model=booked[0] if booked else None,
                allocated_gb=round(booked[1] / GIB, 2) if booked else 0.0))
        return out

    def allocate_model(self, model_name: str, partition_id: int, precision: str = "fp16",
                       max_model_len: Optional[int] = None,
                       name: Optional[str] = None) -> Tuple[bool, Optional[str]]:
        """Book memory for ``model_name`` on the device ``partition_id`` of this GPU.

        Returns ``(True, None)``, or ``(False, message)`` with mipart's message and hint
        ("no partition has 30.12 GiB free ...; hint: partition 0.3 has 23.99 GiB free ...").
        """
        try:
            a = mipart.allocate(model_name, partition=f"{self.gpu_id}.{int(partition_id)}",
                                name=name, precision=precision,
                                max_model_len=int(max_model_len or 0),
                                fit_context=max_model_len is None, root=self.root)
        except MipartError as e:
            msg = str(e)
            if getattr(e, "hint", None):
                msg += f"; hint: {e.hint}"
            return False, msg
        self._allocations[int(partition_id)] = a["name"]
        self._booked[int(partition_id)] = (a["model"], a["booked_bytes"])
        return True, None

    def release_model(self, partition_id: int) -> Tuple[bool, Optional[str]]:
        """Release what :meth:`allocate_model` booked on ``partition_id``."""
        name = self._allocations.pop(int(partition_id), None)
        self._booked.pop(int(partition_id), None)
        if name is None:
            return False, f"nothing allocated on partition {self.gpu_id}.{int(partition_id)} by this partitioner"
        try:
            mipart.release(name, root=self.root)
        except MipartError as e:
            return False, str(e)
        return True, None

    def get_environment_variables(self, partition_id: int,
                                  container: bool = False) -> Dict[str, str]:
        """The environment of a workload on the device: ROCR_VISIBLE_DEVICES, AIM_PARTITION_ID, ...

        For a device with an allocation of this partitioner, also MIPART_ALLOCATION,
        MIPART_MODEL and MIPART_BOOKED_BYTES (``mipart env``).
        """
        target = self._allocations.get(int(partition_id), f"{self.gpu_id}.{int(partition_id)}")
        return mipart.env(target, container=container, root=self.root)

    def get_vllm_command(self, partition_id: int) -> List[str]:
        """``vllm serve ...`` sized to start on the allocation of ``partition_id``."""
        name = self._allocations.get(int(partition_id))
        if name is None:
            raise MipartError(f"nothing allocated on partition {self.gpu_id}.{int(partition_id)}: allocate_model first")
        return list(mipart.vllm(name, root=self.root)["argv"])

    def cleanup(self) -> None:
        """Release every allocation this partitioner made."""
        for pid in list(self._allocations):
            self.release_model(pid)
