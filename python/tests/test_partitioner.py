# SPDX-License-Identifier: MIT
"""rocm_partitioner_real: the interface runs verbatim against MIPART_ROOT=<simulated host>."""
import pytest

import mipart
from mipart import GIB


@pytest.fixture
def root(host, monkeypatch):
    monkeypatch.setenv("MIPART_ROOT", host)
    return host


def test_the_interface_verbatim(root):
    from rocm_partitioner_real import ROCmPartitionerReal, ComputePartitionMode, MemoryPartitionMode
    partitioner = ROCmPartitionerReal(gpu_id=0)
    partitioner.initialize(gpu_name="MI300X", compute_mode=ComputePartitionMode.CPX,
                           memory_mode=MemoryPartitionMode.NPS4)
    devices = partitioner.get_logical_devices()          # 8 logical devices in CPX
    success, error = partitioner.allocate_model("meta-llama/Llama-3.1-8B-Instruct",
                                                partition_id=0, precision="fp16")
    env_vars = partitioner.get_environment_variables(partition_id=0)

    assert len(devices) == 8
    # ~24 GiB each (192 GiB / 8), not 48: NPS4 places memory, it does not add any
    assert all(23.9 <= d.memory_gb <= 24.0 for d in devices), [d.memory_gb for d in devices]
    assert [d.partition_id for d in devices] == list(range(8))
    assert (success, error) == (True, None)
    assert env_vars["ROCR_VISIBLE_DEVICES"] == "0" and env_vars["AIM_PARTITION_ID"] == "0"
    assert env_vars["MIPART_MODEL"] == "meta-llama/Llama-3.1-8B-Instruct"
    # the booking is in the ledger the mipart tool reads
    assert [a["model"] for a in mipart.allocations()] == ["meta-llama/Llama-3.1-8B-Instruct"]
    assert partitioner.get_logical_devices()[0].allocated_model == "meta-llama/Llama-3.1-8B-Instruct"
    assert partitioner.get_vllm_command(0)[:2] == ["vllm", "serve"]


def test_initialize_sets_the_hive(root):
    from rocm_partitioner_real import ROCmPartitionerReal, ComputePartitionMode, MemoryPartitionMode
    p = ROCmPartitionerReal(gpu_id=1)
    assert p.initialize("MI300X", ComputePartitionMode.CPX, MemoryPartitionMode.NPS4) is True
    assert [(g.compute, g.memory) for g in mipart.topology().gpus] == [("CPX", "NPS4")] * 2
    # the same again changes nothing; a compute switch touches only this GPU
    p.initialize("MI300X", ComputePartitionMode.CPX, MemoryPartitionMode.NPS4)
    p.initialize("MI300X", ComputePartitionMode.QPX, MemoryPartitionMode.NPS4)
    assert [g.compute for g in mipart.topology().gpus] == ["CPX", "QPX"]
    assert len(p.get_logical_devices()) == 4
    assert all(47.9 <= d.memory_gb <= 48.0 for d in p.get_logical_devices())


def test_partition_ids_are_per_gpu(root):
    from rocm_partitioner_real import ROCmPartitionerReal, ComputePartitionMode, MemoryPartitionMode
    p = ROCmPartitionerReal(gpu_id=1)
    p.initialize("MI300X", ComputePartitionMode.CPX, MemoryPartitionMode.NPS4)
    env = p.get_environment_variables(partition_id=3)
    assert env["AIM_PARTITION_ID"] == "3" and env["ROCR_VISIBLE_DEVICES"] == "11"


def test_a_model_that_does_not_fit_returns_false_with_the_reason(root):
    from rocm_partitioner_real import ROCmPartitionerReal, ComputePartitionMode, MemoryPartitionMode
    p = ROCmPartitionerReal(gpu_id=0)
    p.initialize("MI300X", ComputePartitionMode.CPX, MemoryPartitionMode.NPS4)
    ok, err = p.allocate_model("meta-llama/Llama-3.1-70B-Instruct", partition_id=2, precision="fp16",
                               max_model_len=8192)
    assert ok is False
    assert "needs" in err and "hint:" in err


def test_release_and_cleanup(root):
    from rocm_partitioner_real import ROCmPartitionerReal, ComputePartitionMode, MemoryPartitionMode
    p = ROCmPartitionerReal(gpu_id=0)
    p.initialize("MI300X", ComputePartitionMode.CPX, MemoryPartitionMode.NPS4)
    assert p.allocate_model("llama-3.1-8b", partition_id=1, max_model_len=4096) == (True, None)
    assert p.allocate_model("llama-3.1-8b", partition_id=2, max_model_len=4096) == (True, None)
    assert p.release_model(1) == (True, None)
    assert p.release_model(1)[0] is False
    p.cleanup()
    assert mipart.allocations() == []


def test_wrong_gpu_name_raises(root):
    from rocm_partitioner_real import ROCmPartitionerReal, ComputePartitionMode, MemoryPartitionMode
    p = ROCmPartitionerReal(gpu_id=0)
    with pytest.raises(mipart.MipartError, match="is an MI300X, not an MI325X"):
        p.initialize("MI325X", ComputePartitionMode.CPX, MemoryPartitionMode.NPS4)
    with pytest.raises(mipart.MipartError, match="no GPU 7"):
        ROCmPartitionerReal(gpu_id=7).get_logical_devices()
