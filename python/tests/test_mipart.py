# SPDX-License-Identifier: MIT
"""The binding against the simulator: each call returns what the mipart tool says, and each
refusal raises MipartError with the tool's message."""
import errno
import json

import pytest

import mipart
from mipart import GIB, MipartError


def cli_error(stderr):
    """The first 'error: ...' line of the tool, without the prefix."""
    for line in stderr.splitlines():
        if line.startswith("error: "):
            return line[len("error: "):]
    return None


def test_topology_reads_the_simulated_host(host):
    t = mipart.topology(host)
    assert [g.product for g in t.gpus] == ["MI300X", "MI300X"]
    g = t.gpus[0]
    assert (g.compute, g.memory) == ("SPX", "NPS1")
    assert "CPX" in g.compute_available and "NPS4" in g.memory_available
    assert len(g.partitions) == 1 and 191 * GIB < g.partitions[0].memory_bytes <= 192 * GIB
    assert g.hive_id is not None and g.hive_id == t.gpus[1].hive_id


def test_topology_matches_the_tool(host, cli):
    rc, out, _ = cli("--root", host, "list", "--json")
    assert rc == 0
    want = [(p["index"], p["xcp"], p["memory_bytes"]) for g in json.loads(out)["gpus"] for p in g["partitions"]]
    got = [(p.index, p.xcp, p.memory_bytes) for p in mipart.topology(host).partitions]
    assert got == want


def test_mipart_root_selects_the_host(host, monkeypatch):
    monkeypatch.setenv("MIPART_ROOT", host)
    assert len(mipart.topology().gpus) == 2


def test_missing_root_raises(tmp_path):
    with pytest.raises(MipartError) as e:
        mipart.topology(str(tmp_path / "nothing"))
    assert "cannot read GPUs under" in str(e.value)
    assert e.value.errno < 0


def test_set_modes_dry_run_plans_and_changes_nothing(host):
    plan = mipart.set_modes([0], "CPX", dry_run=True, root=host)
    assert plan["gpus"][0]["to_compute"] == "CPX" and plan["gpus"][0]["partitions"] == 8
    assert plan["gpus"][0]["disruption"] == "compute"
    assert plan["gpus"][1]["disruption"] == "none"
    assert mipart.topology(host).gpus[0].compute == "SPX"


def test_set_modes_changes_the_driver(host):
    res = mipart.set_modes(None, "CPX", "NPS4", root=host)
    assert res["state"] == "done" and res["journal_id"] > 0
    t = mipart.topology(host)
    assert [(g.compute, g.memory, len(g.partitions)) for g in t.gpus] == [("CPX", "NPS4", 8)] * 2


def test_set_modes_refusal_has_the_tools_message(host, cli):
    with pytest.raises(MipartError) as e:
        mipart.set_modes([0], None, "NPS4", dry_run=True, root=host)
    rc, _, err = cli("--root", host, "set", "-g", "0", "--memory", "NPS4", "--dry-run")
    assert rc == 1
    assert cli_error(err) in str(e.value)


def test_invalid_mode_is_a_usage_error(host):
    with pytest.raises(MipartError) as e:
        mipart.set_modes([0], "XPX", root=host)
    assert e.value.usage and "invalid compute mode 'XPX'" in str(e.value)


def test_apply_layout_dry_run(host, tmp_path):
    f = tmp_path / "layout.yaml"
    f.write_text("version: v1\npartition-configs:\n  dense:\n    - devices: all\n      compute: CPX\n      memory: NPS4\n")
    plan = mipart.apply_layout(str(f), "dense", dry_run=True, root=host)
    assert plan["needs_reload"] and all(g["to_compute"] == "CPX" for g in plan["gpus"])
    with pytest.raises(MipartError) as e:
        mipart.apply_layout(str(f), "sparse", dry_run=True, root=host)
    assert "no config 'sparse'" in str(e.value)


def test_estimate(host):
    e = mipart.estimate("meta-llama/Llama-3.1-8B-Instruct", precision="fp16", max_model_len=8192,
                        device_bytes=24 * GIB)
    assert 14 * GIB < e["weights_bytes"] < 16 * GIB
    assert e["fits"] is True and e["kv_cache_tokens"] > 8192


def test_estimate_compute_units(cli):
    # vLLM's Triton sampler (0.17 on, the default version here) holds one float32 row of the
    # vocabulary per compute unit: an MI300X CPX partition's 38 CUs against 132 by default
    base = mipart.estimate("meta-llama/Llama-3.1-8B-Instruct", max_model_len=8192)
    cpx = mipart.estimate("meta-llama/Llama-3.1-8B-Instruct", max_model_len=8192, compute_units=38)
    assert base["compute_units"] == 132 and cpx["compute_units"] == 38
    assert base["sampler_bytes"] - cpx["sampler_bytes"] == (132 - 38) * 128256 * 4
    rc, out, _ = cli("estimate", "meta-llama/Llama-3.1-8B-Instruct", "--max-model-len", "8192", "--json")
    assert rc == 0 and json.loads(out)["sampler_bytes"] == base["sampler_bytes"]


def test_estimate_unknown_model_has_the_tools_message(cli):
    with pytest.raises(MipartError) as e:
        mipart.estimate("no-such-model")
    rc, _, err = cli("estimate", "no-such-model")
    assert rc == 2 and e.value.usage
    assert str(e.value) == cli_error(err)


def test_allocate_env_vllm_release(host):
    mipart.set_modes(None, "CPX", "NPS4", root=host)
    a = mipart.allocate("llama-3.1-8b", partition="1.3", name="chat", max_model_len=8192, root=host)
    assert a["name"] == "chat" and a["partitions"][0]["index"] == 11
    assert [x["name"] for x in mipart.allocations(root=host)] == ["chat"]
    env = mipart.env("chat", root=host)
    assert env["ROCR_VISIBLE_DEVICES"] == "11" and env["AIM_PARTITION_ID"] == "3"
    assert env["MIPART_PARTITION"] == "1.3" and env["MIPART_MODEL"] == "meta-llama/Llama-3.1-8B-Instruct"
    assert mipart.env("chat", container=True, root=host)["ROCR_VISIBLE_DEVICES"] == "0"
    v = mipart.vllm("chat", root=host)
    assert v["argv"][:3] == ["vllm", "serve", "meta-llama/Llama-3.1-8B-Instruct"]
    assert 0 < v["gpu_memory_utilization"] < 1 and "--max-model-len" in v["argv"]
    assert mipart.release("chat", root=host)["name"] == "chat"
    assert mipart.allocations(root=host) == []


def test_env_matches_the_tool(host, cli):
    mipart.set_modes(None, "CPX", "NPS4", root=host)
    rc, out, _ = cli("--root", host, "env", "1.2", "--format", "json")
    assert rc == 0 and json.loads(out) == mipart.env("1.2", root=host)


def test_allocate_refusal_has_the_tools_message_and_hint(host, cli):
    mipart.set_modes(None, "CPX", "NPS4", root=host)
    with pytest.raises(MipartError) as e:
        mipart.allocate("llama-3.1-70b", max_model_len=8192, root=host)
    assert e.value.errno == -errno.ENOSPC and not e.value.usage
    rc, _, err = cli("--root", host, "allocate", "llama-3.1-70b", "--max-model-len", "8192")
    assert rc == 1
    assert str(e.value) == cli_error(err)
    assert f"hint: {e.value.hint}" in err.splitlines()


def test_allocate_fit_context_on_a_partition(host):
    mipart.set_modes(None, "CPX", "NPS4", root=host)
    a = mipart.allocate("llama-3.1-8b", partition="0.0", precision="fp16", fit_context=True, root=host)
    assert 8192 < a["max_model_len"] < 131072
    assert a["booked_bytes"] <= a["partitions"][0]["capacity_bytes"]


def test_release_unknown(host):
    with pytest.raises(MipartError) as e:
        mipart.release("nobody", root=host)
    assert e.value.errno == -errno.ENOENT and "no allocation 'nobody'" in str(e.value)


def test_readings(host):
    r = mipart.readings(host)
    assert len(r["gpus"]) == 2 and len(r["partitions"]) == 2
    assert r["gpus"][0]["metrics"] is not None


def test_sim_create_refuses_a_bad_product(tmp_path):
    with pytest.raises(MipartError) as e:
        mipart.sim_create(str(tmp_path / "x"), gpus=1, product="mi999x")
    assert e.value.errno == -errno.EINVAL
