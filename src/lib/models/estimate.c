// SPDX-License-Identifier: MIT
/*
 * The memory estimator (include/mipart/estimate.h): what vLLM will log when it starts a model on
 * one GPU or partition, version by version, after vLLM's own accounting:
 *
 *   budget    vllm/v1/worker/gpu_worker.py: determine_available_memory (V0:
 *             vllm/worker/worker.py: determine_num_available_blocks), vllm/utils: memory_profiling:
 *             available = total x utilization - weights - peak activation of the profile run
 *                         - non-torch memory [- CUDA graph estimate, from 0.21]
 *   pages     vllm/v1/kv_cache_interface.py: AttentionSpec.page_size_bytes, MLAAttentionSpec
 *             (V0: vllm/worker/cache_engine.py: CacheEngine.get_cache_block_size)
 *   groups    vllm/v1/core/kv_cache_utils.py: _get_kv_cache_groups_uniform_page_size,
 *             get_kv_cache_config_from_groups, get_num_blocks, _report_kv_cache_config,
 *             get_max_concurrency_for_kv_cache_config, _max_memory_usage_bytes_from_groups
 *
 * Weights come from the checkpoint's exact tensor bytes when known (safetensors), else from the
 * parameter count split into quantizable linear layers and 16-bit rest (model.c). Every constant,
 * its source and the versions it holds for: docs/estimator.md.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mipart/estimate.h"
#include "util.h"
#include "banned.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

#define V(major, minor) MIPART_VLLM_VERSION(major, minor)

/* vLLM defaults (vllm/config.py CacheConfig, vllm/engine/arg_utils.py): */
#define DEFAULT_BLOCK_SIZE 16
/*
 * max_num_batched_tokens B and max_num_seqs S of `vllm serve` (UsageContext.OPENAI_API_SERVER),
 * vllm/engine/arg_utils.py:
 *  - V0 (EngineArgs._set_default_args_v0 / SchedulerConfig): S = 256; B = max(max_model_len,
 *    2048) without chunked prefill; chunked prefill is switched on for contexts over 32K, and
 *    then B = 2048, but not for every run (v0_chunked_by_default).
 *  - get_batch_defaults reads the device's memory through NVML inside `try: ... except
 *    Exception: device_memory = 0`; NVML has no memory figure for unified memory (GB10), so
 *    such a device takes the small defaults whatever its size.
 *  - V1 0.8 (_set_default_args_v1): B = 8192, S = 1024 when the device name has "h100" or
 *    "h200", else B = 2048, S = 256.
 *  - V1 from 0.9 (get_batch_defaults, PR #17885): B = 8192, S = 1024 when the device has 70 GiB
 *    or more and its name is not an A100's; else B = 2048, S = 256. The device's memory is what
 *    torch reports, so a partition of an MI300X smaller than 70 GiB gets the small defaults.
 *  - From 0.28 (PR #51726, arg_utils.py get_batch_defaults: "for GPUs like B200/B300 with
 *    >= 160GB memory, use the largest defaults", `device_memory >= 160 * GiB_bytes`): B = 16384
 *    for the API server on such a device (a whole MI300X, MI325X, MI355X, B200); S stays 1024.
 */
#define V0_MIN_BATCHED 2048
#define V0_CHUNKED_ABOVE 32768
#define SMALL_BATCHED 2048
#define SMALL_SEQS 256
#define LARGE_BATCHED 8192
#define LARGE_SEQS 1024
#define LARGE_DEVICE_BYTES (70.0 * GIB)
#define LARGEST_BATCHED 16384
#define LARGEST_DEVICE_BYTES (160.0 * GIB)
#define LARGEST_DEFAULTS_FROM V(0, 28)

/*
 * Non-torch memory (memory_profiling's non_torch_increase: the CUDA/HIP context's growth,
 * allocator pools outside torch, NCCL/RCCL and custom all-reduce buffers). Measured, not derived;
 * fitted on the calibration rows of tests/fixtures/vllm-reference.csv (docs/estimator.md):
 * one NVIDIA GPU 0.13-0.14 GiB (H100, vLLM 0.11); tensor parallel over NVLink adds 0.40 (H100
 * TP 2: 0.54 against 0.14 at TP 1), over PCIe 0.17 (L40S TP 2 0.30, RTX 3090 TP 16 0.20,
 * against 0.03-0.16 at TP 1). ROCm: 0.5 GiB, the figure of shared/VLLM-MEMORY.md; there is no
 * ROCm calibration row (the one ROCm row, 0.53, is a validation row and is not fitted on).
 */
#define NON_TORCH_CUDA (0.13 * GIB)
#define NON_TORCH_ROCM (0.5 * GIB)
#define NON_TORCH_TP_PCIE (0.17 * GIB)
#define NON_TORCH_TP_FAST (0.40 * GIB)
/*
 * From vLLM 0.18 on CUDA the non-torch memory is larger: PR #30515 ("CUDA graph memory
 * accounting during profiling", in the v0.18.0 release notes) makes
 * gpu_worker.py: determine_available_memory capture CUDA graphs on a small dummy KV cache
 * inside the memory_profiling window (profile_cudagraph_memory), whether or not
 * VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS subtracts the estimate (it does from 0.21: see
 * CUDA_GRAPH_FROM); PR #51590 says that path "did not budget memory allocated during profiling
 * setup or retained after profiling cleanup". The 0.19 logs show the capture and its cleanup
 * before "Memory profiling takes ...", and a non-torch increase of 0.24-0.26 GiB at TP 1 and
 * 2.06-2.21 GiB at TP 2 and 4 on H100 (NVLink), whatever the model's hidden size (llm-d-planner
 * accuracy report: Llama-3.1-8B and Qwen2.5-7B at TP 2 2.07 / 2.06, at TP 4 2.13; 0.11 logs
 * 0.13-0.14 and 0.54-0.55). Also from 0.17 at TP > 1 (PR #34299, AR+RMS fusion on by default at
 * -O2): FlashInfer's all-reduce fusion workspace, IPC buffers outside torch's allocator,
 * created when the model is compiled inside the same window (the 0.19 TP 2 logs: "Enabled
 * custom fusions: allreduce_rms"). No log of 0.12 to 0.18 shows where between 0.11 and 0.19
 * the step happens; the version here is that of the change that put graph capture inside the
 * window. Fitted on calibration rows of vLLM 0.19.0 on H100: one GPU 0.25 GiB (rows 67, 71,
 * 72, 73, 74, 75, 76, 77: 0.24-0.26), NVLink tensor parallel 2.07 GiB in all (rows 79 and
 * 82, TP 2, both 2.07), i.e. 1.82 more than one GPU. PCIe tensor parallel keeps
 * NON_TORCH_TP_PCIE on top of the one-GPU figure (no log). ROCm is left at NON_TORCH_ROCM:
 * from PR #36720 (merged 2026-03-18) to PR #48526 (2026-07-15) the profiling capture does not run
 * on ROCm at all (ROCM_GRAPH_PROFILE_FROM), FlashInfer's fusion is CUDA-only, and no ROCm log of
 * 0.18 or later prints the figure (whether 0.18.0, cut around #36720's merge, captured on ROCm
 * is not pinned).
 */
#define NON_TORCH_STEP_FROM V(0, 18)
#define NON_TORCH_CUDA_V018 (0.25 * GIB)
#define NON_TORCH_TP_FAST_V018 (1.82 * GIB)
/*
 * Peak activation of the profile run (gpu_model_runner.py: profile_run): the max, not the sum,
 * of the dummy forward over B tokens (_dummy_run; dominated by the MLP's gate/up output,
 * B x 2 x intermediate / tp elements; FORWARD_FACTOR covers SiluAndMul, attention and the
 * residual: 1.93 from the Llama-3.1-8B row at 29,000 tokens) and the sampler warm-up over
 * min(S, B) rows of the whole vocabulary (the logits are gathered, so the vocabulary is not
 * divided by tp). V1 (_dummy_sampler_run: fp32 logits, sort for top-p/top-k, logprobs):
 * 38.9 bytes per row and vocabulary entry (calibration rows, H100, vLLM 0.11: gpt-oss-20b 38.5,
 * Llama-3.1-8B 38.9, Llama-3.3-70B 39.6, Qwen3-32B TP 2 38.9). V0 does the same work
 * (vllm/worker/model_runner.py: GPUModelRunnerBase.profile_run samples its dummy sequences
 * with SamplingParams(top_p=0.99, top_k=vocab_size - 1): fp32 logits, the top-k/top-p sort,
 * softmax and log-softmax) and so takes the same constant: the V0 calibration rows agree
 * (DeepSeek-Coder-V2-Lite 38.5, R1-Distill-Qwen-1.5B 38.4, Llama-3-8B 41.2 bytes at 256 rows);
 * one calibration row (Qwen3-0.6B, 6.35) does not and its settings are not shown. In V0 only the
 * driver rank samples (model_runner.py: execute_model returns before sampling on the other
 * ranks), and the KV cache takes the smallest rank's blocks (the driver's), which is what this
 * estimate is; a log's printed profile may be another rank's, without the sampler.
 */
#define FORWARD_FACTOR 1.93
#define SAMPLER_BYTES_V1 38.9
#define SAMPLER_BYTES_V0 SAMPLER_BYTES_V1
/*
 * The V1 sampler warm-up from vLLM 0.17 (PR #33538, "Triton-based top-k and top-p sampler
 * kernels", in the v0.17.0 release notes; merged the week of 2026-02-20):
 * v1/sample/ops/topk_topp_sampler.py apply_top_k_top_p masks the logits in place with
 * apply_top_k_top_p_triton when triton is present and the batch has at least 8 rows
 * ("if HAS_TRITON and logits.shape[0] >= 8"), instead of apply_top_k_top_p_pytorch's full
 * sort (sorted values, int64 indices and the sort's scratch: the 38.9 bytes above). The
 * FlashInfer sampler stays opt-in (PR #26859, 2025-10-15: 0.19's log says "FlashInfer
 * top-p/top-k sampling is available but disabled by default"). What _dummy_sampler_run
 * (gpu_model_runner.py: top_k = vocab - 1, top_p = 0.9, no logprobs, no penalties) then holds
 * at its peak, per sampled row and vocabulary entry: the logits in the model's dtype
 * (compute_logits; the caller keeps them), their float32 copy (sampler.py Sampler.forward
 * "logits = logits.to(torch.float32)", no copy when the model runs in float32), the float32
 * probabilities (forward_native: logits.softmax(dtype=float32)) and random_sample's
 * exponential noise q (empty_like(probs)); SAMPLER_TRITON_BYTES is the last three. Plus the
 * kernel's per-program buffer (topk_topp_triton.py: one float32 row of the vocabulary per
 * program, min(rows, num_compute_units) programs, cached), the dummy forward's hidden states
 * (profile_run keeps them: B x hidden) and the S-row copies the sampler run starts from
 * (hidden_states[logit_indices], torch.rand_like). The programs: apply_top_k_top_p_triton
 * launches "NUM_PROGRAMS = min(num_sm, batch_size)" with "num_sm =
 * num_compute_units(logits.device.index)" (vllm/v1/sample/ops/topk_topp_triton.py;
 * vllm/utils/platform_utils.py num_compute_units -> current_platform.num_compute_units, which
 * is torch.cuda.get_device_properties(device_id).multi_processor_count in both
 * vllm/platforms/cuda.py and vllm/platforms/rocm.py: the SMs of an NVIDIA GPU, the CUs of an
 * AMD one, the partition's own on an AMD partition, 38 in CPX on an MI300X; PR #33538's first
 * form read multi_processor_count directly). It caches one buffer of that many vocabulary rows
 * per device (later versions round the rows up to a power of two, capped at num_sm: the same
 * for the dummy run's 256 or 1024 rows). The count comes from the options or the device
 * table; SAMPLER_TRITON_PROGRAMS, the H100 SXM's 132 SMs (the device of every log this is
 * checked against), when neither knows it. The rest,
 * SAMPLER_TRITON_FIXED, is fitted on the calibration rows of vLLM 0.19.0 on H100 whose peak
 * is the sampler and which have no vision tower (tests/fixtures/vllm-reference.csv rows 67,
 * 73, 75, 76, 77, 82: 0.031 to 0.038 GiB above the terms derived here, mean 0.035).
 * ROCm takes the same path by default: TopKTopPSampler.__init__ takes forward_hip (aiter's
 * top_k_top_p_sampling_from_probs on float32 probabilities, logging "Using aiter sampler on
 * ROCm") only when rocm_aiter_ops.is_enabled(), i.e. VLLM_ROCM_USE_AITER=1, whose default in
 * envs.py is "False" in every stored version; else forward_native, whose apply_top_k_top_p
 * tests HAS_TRITON (0.17's form also 8 rows or more), never the platform, so the Triton kernel
 * of PR #33538 runs on ROCm too (vllm-project/vllm vllm/v1/sample/ops/topk_topp_sampler.py at
 * 01fa3fe74b05 and its 0.1x forms). The ROCm vLLM 0.23 row 85 (gemma-3-4b-it) nevertheless
 * leaves at most 1.36 GiB for activation, non-torch memory and graphs together against this
 * term's 3.88 alone (304 CUs), for a reason the code does not show (docs/estimator.md). Versions after 0.19 are modelled alike (from 0.20 FlashInfer's
 * sampler is on by default again on CUDA, PR #40376: its masked logits
 * and probabilities cost the same per entry; not checked against logs).
 */
#define TRITON_SAMPLER_FROM V(0, 17)
#define TRITON_SAMPLER_MIN_ROWS 8
#define SAMPLER_TRITON_BYTES 12.0
#define SAMPLER_TRITON_PROGRAMS 132u
#define SAMPLER_TRITON_FIXED (0.035 * GIB)
/* vLLM >= 0.21 captures a few graphs during profiling and subtracts the estimate
 * (gpu_worker.py: determine_available_memory); measured graph pools 0.13-1.12 GiB */
#define CUDA_GRAPH_FROM V(0, 21)
#define CUDA_GRAPH_BYTES (0.5 * GIB)
/*
 * Not on ROCm before 0.26. PR #36720 (vllm-project/vllm e8f9dbc, merged 2026-03-18, "Fix worker
 * startup OOM on ROCm by skipping unreliable cudagraph memory profiling") gated the profiling
 * capture in gpu_worker.py: determine_available_memory on `current_platform.is_cuda()`, false on
 * ROCm, with the comment "On ROCm, cudagraph_memory_estimate is always 0 so this is a no-op"
 * (vllm-project/vllm vllm/v1/worker/gpu_worker.py as stored with the "default since v0.21.0"
 * message). PR #47366 (2026-07-02, merged 2026-07-10) says so of the released code: "The memory
 * profiler skipped CUDA graph profiling on ROCm (#36720), so the KV cache was sized as if capture
 * were free; capture then had to fit in the (1 - gpu_memory_utilization) slack". It lifted the
 * gate; PR #48440 (2026-07-12) restored it ("On ROCm the profiling capture regresses steady-state
 * decode throughput"); PR #48526 (merged 2026-07-15, commit 05eed72) re-enabled ROCm with the
 * capture on the current stream (`is_cuda_alike()`). v0.24.0 was released 2026-06-29 and v0.25.1
 * by 2026-07-13, so 0.21 to 0.25 skip the estimate on ROCm and 0.26 is the first release that can
 * hold #48526 (not pinned by a release note; 0.25.0 may hold #47366's two days, not modelled).
 * The ROCm vLLM 0.23 log (tests/fixtures/vllm-reference.csv row 85) agrees: no "Estimated CUDA
 * graph memory" line, and "Graph capturing finished ... took 3.74 GiB" after the KV cache.
 */
#define ROCM_GRAPH_PROFILE_FROM V(0, 26)
/* V0's CacheEngine aligns an MLA cache entry (kv_lora_rank + rope elements) to 256 bytes:
 * the V0 MLA row logs 1280 bytes per layer and token for 576 x 2 bytes. V1's MLAAttentionSpec
 * stores 576 elements unpadded. */
#define V0_MLA_ALIGN 256
/* vllm/model_executor/layers/vocab_parallel_embedding.py: DEFAULT_VOCAB_PADDING_SIZE */
#define VOCAB_PADDING 64
/* vllm/model_executor/layers/quantization/mxfp4.py: Mxfp4MoEMethod.create_weights pads the
 * experts by backend. Marlin (GPUs below compute capability 9.0, and sm_12x such as GB10, whose
 * log says "Marlin"): intermediate to a multiple of 128, hidden to 256 ("n % 256 == 0 and
 * k % 128 == 0"); B200 (SM100 FlashInfer): both to 256. H100/H200 (triton kernels): the code
 * pads the intermediate to 64 (2880 stays) but the swizzled layout of process_weights_after_
 * loading takes more: modelled as the intermediate to 256 (gpt-oss 2880 -> 3072, 6.7% more
 * expert bytes), fitted on the gpt-oss-20b H100 calibration row (13.47 GiB logged); also used for
 * ROCm and unknown devices. */
#define MXFP4_INTERMEDIATE_ALIGN 256
#define MXFP4_MARLIN_INTERMEDIATE_ALIGN 128
#define MXFP4_MARLIN_HIDDEN_ALIGN 256
#define MXFP4_SM100_ALIGN 256
/*
 * bitsandbytes 4-bit (vllm/model_executor/model_loader/bitsandbytes_loader.py:
 * _unquantized_generator quantizes in flight with quantize_4bit(compress_statistics=True,
 * quant_type="nf4"), bitsandbytes' default blocksize 64): 4 bits per weight, the absmax of each
 * block of 64 quantized to 8 bits (double quantization) and one fp32 absmax per 256 of those.
 * Pre-quantized Unsloth/HF checkpoints store the same (bnb_4bit_use_double_quant).
 */
#define BNB4_BLOCK 64.0
#define BNB4_NESTED_BLOCK 256.0
/*
 * Weight loading reports every tensor the model allocates, buffers included
 * (DeviceMemoryProfiler around get_model). The rotary embedding's cos_sin_cache
 * (vllm/model_executor/layers/rotary_embedding/base.py: RotaryEmbedding.__init__ registers
 * max_position_embeddings x rotary_dim in the model dtype) is such a buffer: get_rope
 * (rotary_embedding/__init__.py) caches instances in _ROPE_DICT, so a model holds one per
 * distinct RoPE (Gemma 3: local and global, two). vLLM 0.5's gemma2.py built a
 * GemmaRotaryEmbedding in every layer ("TODO(woosuk): Use the `get_rope` interface"), one
 * cache per layer; from 0.6 Gemma 2 shares one through get_rope.
 */
#define ROPE_PER_LAYER_GEMMA2_BEFORE V(0, 6)
/*
 * MLA (vllm/attention/backends/mla/common.py, V1 vllm/v1/attention/backends/mla/common.py:
 * MLACommonImpl.process_weights_after_loading): from 0.8 the kv_b_proj of a quantized
 * checkpoint is dequantized (get_and_maybe_dequant_weights) into W_UK / W_UV, 16-bit copies of
 * kv_lora_rank x heads/tp x (qk_nope + v) that stay next to the quantized weight ("we currently
 * do not have quantized bmm's"); a 16-bit kv_b_proj is only viewed. 0.7.1 to 0.7.x absorbed the
 * matrices instead (VLLM_MLA_PERFORM_MATRIX_ABSORPTION, default on): W_Q_UK (q input x
 * heads/tp x kv_lora_rank) and W_UV_O (kv_lora_rank x heads/tp x hidden) in 16 bits, for every
 * checkpoint.
 */
#define MLA_DEQUANT_FROM V(0, 8)
#define MLA_ABSORB_FROM V(0, 7)

/* Version thresholds (docs/estimator.md says which PR each comes from). */
#define V1_DEFAULT_FROM V(0, 8)		/* VLLM_USE_V1=1 by default */
#define V1_ONLY_FROM V(0, 11)		/* V0 removed */
#define LARGE_DEFAULTS_BY_MEMORY V(0, 9) /* PR #17885: >= 70 GiB and not A100 */
#define HYBRID_GROUPS_FROM V(0, 10)	/* hybrid KV cache manager (sliding/chunked groups) */
#define GROUP_MAX_RULE_FROM V(0, 11)	/* group size = max when max < 1.5 x min */
#define TOKENS_FROM_CONCURRENCY V(0, 20) /* PRs 38364, 40694: logged tokens = concurrency x L */

static const char *const prec_names[] = {
	[MIPART_PREC_AUTO] = "auto", [MIPART_PREC_FP32] = "fp32", [MIPART_PREC_BF16] = "bf16",
	[MIPART_PREC_FP16] = "fp16", [MIPART_PREC_FP8] = "fp8",	  [MIPART_PREC_INT8] = "int8",
	[MIPART_PREC_INT4] = "int4", [MIPART_PREC_AWQ] = "awq",	  [MIPART_PREC_GPTQ] = "gptq",
	[MIPART_PREC_MXFP4] = "mxfp4", [MIPART_PREC_BNB4] = "bnb4",
};

int mipart_precision_parse(const char *s, mipart_precision *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(prec_names); i++)
		if (!strcasecmp(s, prec_names[i])) {
			*ret = (mipart_precision)i;
			return 0;
		}
	if (!strcasecmp(s, "bfloat16"))
		*ret = MIPART_PREC_BF16;
	else if (!strcasecmp(s, "float16") || !strcasecmp(s, "half"))
		*ret = MIPART_PREC_FP16;
	else if (!strcasecmp(s, "float32") || !strcasecmp(s, "float"))
		*ret = MIPART_PREC_FP32;
	else
		return -EINVAL;
	return 0;
}

const char *mipart_precision_name(mipart_precision p)
{
	return (unsigned)p < ARRAY_SIZE(prec_names) ? prec_names[p] : "unknown";
}

int mipart_size_parse(const char *s, uint64_t *ret)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = { { "", 1 },	     { "B", 1 },	       { "KiB", 1024.0 },
		      { "MiB", 1048576.0 }, { "GiB", GIB },	       { "TiB", GIB * 1024.0 } };
	char *end;
	double v;

	while (*s == ' ')
		s++;
	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (!strcasecmp(end, units[i].unit) && (i == 0 || strcmp(end, "b"))) {
			double bytes = v * units[i].mult;

			if (bytes >= 18446744073709551615.0)
				return -ERANGE;
			if (i <= 1 && v != floor(v))
				return -EINVAL;
			*ret = (uint64_t)bytes;
			return 0;
		}
	return -EINVAL; /* "GB", "G", "24GiB/s": say what is meant */
}


/*
 * Devices by name: the total memory torch reports (what vLLM logs as total_gpu_memory), the
 * platform and the link between GPUs. Sources: the rows of tests/fixtures/vllm-reference.csv
 * where a log prints the total (torch's total is a little under the VRAM size: MI300X 191.98
 * GiB of 192); the other AMD Instinct totals from product.c (the amdgpu VRAM size).
 *
 * The last field is the device's compute units as torch reports multi_processor_count (SMs,
 * CUs), for the Triton sampler's programs (SAMPLER_TRITON_PROGRAMS); 0 where no source was
 * found (the estimate then takes 132). AMD: the "Compute Units" column of ROCm's "GPU hardware
 * specifications" (rocm.docs.amd.com reference/gpu-arch-specs.html: MI355X and MI350X 256 (32
 * per XCD), MI325X and MI300X 304 (38 per XCD), MI300A 228, MI250X 110 per GCD (each GCD is a
 * device to torch), MI210 104); MI308X: a real KFD topology, simd_count 80 (20 CUs) on each of
 * its 4 CPX nodes (../shared/HARDWARE.md 4.1, product.c). NVIDIA: the H100 SXM5's 132 SMs
 * (NVIDIA H100 Tensor Core GPU Architecture whitepaper, as glennklockwood.com's H100 notes
 * quote it), the H200 the same GH100 configuration with more HBM (ibid.); the A100's 108 SMs
 * (NVIDIA A100 Tensor Core GPU Architecture whitepaper: 7 GPCs, 108 SMs, as geeks3d and
 * fudzilla quote it, May 2020; both memory sizes); the B200's 148 (74 enabled per die, Chips
 * and Cheese "Nvidia's B200: Keeping the CUDA Juggernaut Rolling"). L40S, L4, A10, RTX 3090,
 * RTX 4090 and GB10: no vendor source found, 0.
 */
static const mipart_device_info devices[] = {
	{ "MI300X", (uint64_t)(191.98 * GIB), false, true,
	  "torch total on ROCm (hipMemGetInfo), rocm/vllm 0.9.1 log: total_gpu_memory (191.98GiB), "
	  "cmontemuino/amd-mi300x-ml-benchmarks; amdgpu's mem_info_vram_total is 192 GiB", 0, false, 304 },
	{ "MI308X", 192ull << 30, false, true, "amdgpu mem_info_vram_total (product.c)", 0, false, 80 },
	{ "MI325X", 256ull << 30, false, true, "amdgpu mem_info_vram_total (product.c)", 0, false, 304 },
	{ "MI350X", (uint64_t)(287.69 * GIB), false, true,
	  "torch total on ROCm, vLLM 0.22 log: Free memory on device (12.38/287.69 GiB), "
	  "psuri-github/vllm-rocm-inference-lab docs/session-log.md", 0, false, 256 },
	{ "MI355X", 288ull << 30, false, true, "amdgpu mem_info_vram_total (product.c)", 0, false, 256 },
	{ "MI300A", 128ull << 30, false, true, "amdgpu mem_info_vram_total (product.c)", 0, false, 228 },
	{ "MI250X", 64ull << 30, false, true, "amdgpu mem_info_vram_total (product.c)", 0, false, 110 },
	{ "MI210", 64ull << 30, false, false, "amdgpu mem_info_vram_total (product.c)", 0, false, 104 },
	{ "H100-80GB", (uint64_t)(79.22 * GIB), true, true, "vllm PR 12126 log: total_gpu_memory 79.22GiB", 90,
	  false, 132 },
	{ "H200", (uint64_t)(139.80 * GIB), true, true,
	  "faradawn/bench3 logs/trtllm-serve-egine.log: device total memory 139.80 GiB", 90, false, 132 },
	{ "B200", (uint64_t)(178.35 * GIB), true, true, "180 GB HBM3e (nominal)", 100, false, 148 },
	{ "A100-80GB", (uint64_t)(79.15 * GIB), true, true, "self-llm Phi-4 log: total_gpu_memory 79.15GiB", 80,
	  false, 108 },
	{ "A100-40GB", (uint64_t)(39.50 * GIB), true, true, "vllm issue 12330 log: total_gpu_memory 39.50GiB", 80,
	  false, 108 },
	{ "L40S", (uint64_t)(44.42 * GIB), true, false, "vllm issue 15815 log: total_gpu_memory 44.42GiB", 89 },
	{ "L4", (uint64_t)(22.05 * GIB), true, false, "24 GB GDDR6 (nominal)", 89 },
	{ "A10", (uint64_t)(22.07 * GIB), true, false, "24 GB GDDR6 (nominal)", 86 },
	{ "RTX 3090", (uint64_t)(23.58 * GIB), true, false, "vllm issue 10517 log: total_gpu_memory 23.58GiB", 86 },
	{ "GB10", (uint64_t)(121.69 * GIB), true, false,
	  "DGX Spark, 128 GB unified LPDDR5x; torch total from vLLM's log: Free memory on device "
	  "(110.37/121.69 GiB), MiaAI-Lab/GLM-5.3-Flash-EXL3-2x-DGX-Sparks issue 47", 121, true },
	{ "RTX 4090", (uint64_t)(23.55 * GIB), true, false, "24 GB GDDR6X (nominal)", 89 },
};

/* Compare names ignoring case, spaces, dashes and underscores. */
static bool same_name(const char *a, const char *b)
{
	for (;;) {
		while (*a == ' ' || *a == '-' || *a == '_')
			a++;
		while (*b == ' ' || *b == '-' || *b == '_')
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		if ((*a | 0x20) != (*b | 0x20))
			return false;
		a++;
		b++;
	}
}

int mipart_device_lookup(const char *name, const mipart_device_info **ret)
{
	static const struct {
		const char *alias, *name;
	} aliases[] = { { "H100", "H100-80GB" }, { "H100 SXM", "H100-80GB" }, { "H100 80GB HBM3", "H100-80GB" },
			{ "A100", "A100-80GB" }, { "A100 SXM4 80GB", "A100-80GB" }, { "A100 40GB", "A100-40GB" },
			{ "3090", "RTX 3090" }, { "4090", "RTX 4090" }, { "H200 141GB", "H200" },
			{ "A10G", "A10" }, { "NVIDIA GB10", "GB10" }, { "DGX Spark", "GB10" } };

	if (!name)
		return -ENOENT;
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (same_name(name, aliases[i].alias))
			name = aliases[i].name;
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++)
		if (same_name(name, devices[i].name)) {
			*ret = &devices[i];
			return 0;
		}
	return -ENOENT;
}

int mipart_vllm_version_parse(const char *s, unsigned *ret)
{
	unsigned long major, minor;
	char *end;

	if (!s)
		return -EINVAL;
	if (*s == 'v' || *s == 'V')
		s++;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	major = strtoul(s, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	minor = strtoul(end + 1, &end, 10);
	/* a patch level or a pre-release suffix may follow: 0.8.5, 0.10.1rc1, 0.9.0+rocm */
	if (*end && *end != '.' && *end != '+' && *end != '-' && !(*end >= 'a' && *end <= 'z'))
		return -EINVAL;
	if (major > 99 || minor > 99)
		return -ERANGE;
	if (V(major, minor) < MIPART_VLLM_OLDEST || V(major, minor) > MIPART_VLLM_NEWEST)
		return -ERANGE;
	*ret = (unsigned)V(major, minor);
	return 0;
}

const char *mipart_vllm_version_str(unsigned v, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u", v / 100, v % 100);
	return buf;
}

/* The precision vLLM runs the checkpoint in when the user does not say. */
static mipart_precision auto_precision(const mipart_model *m)
{
	const char *q = m->quant_method;

	/* fbgemm_fp8 (vllm/model_executor/layers/quantization/fbgemm_fp8.py: FBGEMMFp8LinearMethod,
	 * fp8 weights with a per-channel fp32 scale; Meta's Llama 3.1 FP8 checkpoints). Its
	 * modules_to_not_convert stay 16-bit and are not modelled: the estimate is low when the
	 * list is long */
	if (!strcasecmp(q, "fp8") || !strcasecmp(q, "fbgemm_fp8"))
		return MIPART_PREC_FP8;
	if (!strcasecmp(q, "awq"))
		return MIPART_PREC_AWQ;
	if (!strcasecmp(q, "gptq"))
		return m->quant_bits == 8 ? MIPART_PREC_INT8 : MIPART_PREC_GPTQ;
	if (!strcasecmp(q, "mxfp4"))
		return MIPART_PREC_MXFP4;
	if (!strcasecmp(q, "bitsandbytes") && (!m->quant_bits || m->quant_bits <= 4))
		return MIPART_PREC_BNB4;
	if (!strcasecmp(q, "compressed-tensors") || !strcasecmp(q, "bitsandbytes"))
		return m->quant_bits && m->quant_bits <= 4 ? MIPART_PREC_INT4 : MIPART_PREC_INT8;
	/* vLLM's dtype "auto": the checkpoint's dtype, with float32 run in 16 bits */
	if (!strcasecmp(m->dtype, "float16"))
		return MIPART_PREC_FP16;
	return MIPART_PREC_BF16;
}

/* Bytes per parameter of the linear layers; the rest stays in 16 bits (fp32: 4 bytes). AWQ and
 * GPTQ add a 16-bit scale and a 4-bit zero point per group of 128 (autoawq, auto-gptq). MXFP4
 * is 4 bits plus an 8-bit shared exponent per 32 (OCP MX spec). */
static double linear_bytes(mipart_precision p, unsigned group)
{
	double g = group ? group : 128;

	switch (p) {
	case MIPART_PREC_FP32:
		return 4;
	case MIPART_PREC_FP8:
		/* fp8 with weight_block_size [g, g]: one fp32 scale per g x g block
		 * (DeepSeek-V3, Qwen3-FP8: 128); per-channel scales are negligible */
		return group ? 1 + 4.0 / ((double)group * group) : 1;
	case MIPART_PREC_INT8:
		return 1;
	case MIPART_PREC_INT4:
	case MIPART_PREC_AWQ:
	case MIPART_PREC_GPTQ:
		return 0.5 + (2.0 + 0.5) / g;
	case MIPART_PREC_MXFP4:
		return 0.5 + 1.0 / 32;
	case MIPART_PREC_BNB4:
		return 0.5 + 1.0 / BNB4_BLOCK + 4.0 / (BNB4_BLOCK * BNB4_NESTED_BLOCK);
	default:
		return 2;
	}
}


static unsigned moe_layers(const mipart_model *m);

static double expert_params(const mipart_model *m)
{
	return (double)moe_layers(m) * m->experts * 3 * m->hidden * m->moe_intermediate;
}

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

/* A size computed in double as bytes: 0 at or below zero (and for NaN), UINT64_MAX from 2^64
 * up, where the cast is undefined (C17 6.3.1.4: the value must fit; gcc on x86-64 gives 0).
 * mllama's attention mask grows with (tiles x positions)^2 x S and passes 2^64 well within the
 * sizes a config and the options may give. */
static uint64_t bytes_of(double v)
{
	if (!(v > 0))
		return 0;
	return v >= 0x1p64 ? UINT64_MAX : (uint64_t)v;
}

/* a + b and a x b of byte and token counts, UINT64_MAX when the result does not fit: a
 * wrapped sum would make a term that is too large look small */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* As bytes_of for a signed size (the KV cache left, negative when nothing is) */
static int64_t sbytes_of(double v)
{
	if (v != v)
		return 0;
	if (v >= 0x1p63)
		return INT64_MAX;
	return v <= -0x1p63 ? INT64_MIN : (int64_t)v;
}

/* Layers of one attention kind and what a request of len tokens keeps of them. */
enum { KIND_FULL, KIND_SLIDING, KIND_CHUNKED };

struct kv_kind {
	unsigned layers;
	int kind;
	unsigned tokens;	/* window or chunk */
};

struct kv_plan {
	struct kv_kind kinds[3];
	unsigned n_kinds;
	unsigned group_layers;	/* G */
	unsigned groups[3];	/* groups of each kind */
	unsigned n_groups;
	unsigned block;		/* tokens per block */
	uint64_t layer_token;	/* bytes of one layer for one token on this GPU */
	uint64_t page;		/* block x layer_token */
	unsigned batched;	/* B: the sliding and chunked specs keep a chunk of B in flight */
	bool v0;
};

/* Blocks one layer of kind k holds for a request of len tokens (vllm/v1/kv_cache_interface.py
 * max_memory_usage_bytes: FullAttentionSpec cdiv(len, block); SlidingWindowSpec
 * cdiv(min(window - 1 + B, len), block) + 1; ChunkedLocalAttentionSpec
 * cdiv(min(chunk + B, len), block)). V0 keeps every layer whole. */
static uint64_t blocks_for(const struct kv_plan *p, const struct kv_kind *k, uint64_t len)
{
	uint64_t n;

	if (p->v0 || k->kind == KIND_FULL)
		return ceil_div(len, p->block);
	if (k->kind == KIND_SLIDING) {
		n = (uint64_t)k->tokens - 1 + p->batched;
		return ceil_div(n < len ? n : len, p->block) + 1;
	}
	n = (uint64_t)k->tokens + p->batched;
	return ceil_div(n < len ? n : len, p->block);
}

/* Blocks (of G layers each) one request of len tokens needs: the denominator of
 * get_max_concurrency_for_kv_cache_config. */
static uint64_t request_blocks(const struct kv_plan *p, uint64_t len)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < p->n_kinds; i++)
		sum += (uint64_t)p->groups[i] * blocks_for(p, &p->kinds[i], len);
	return sum;
}

/* Bytes of KV cache one request of len tokens takes (_max_memory_usage_bytes_from_groups:
 * group layers x page x blocks; padding layers count). */
static double request_bytes(const struct kv_plan *p, uint64_t len)
{
	return (double)p->group_layers * (double)p->page * (double)request_blocks(p, len);
}

/* How vLLM lays the KV cache out for model m (docs/estimator.md, "KV cache"). */
static void plan_kv(const mipart_model *m, unsigned tp, double elem, unsigned version, bool v0,
		    unsigned block, unsigned batched, struct kv_plan *p)
{
	unsigned sliding = 0, chunked = 0, full, lo = UINT32_MAX, hi = 0;

	memset(p, 0, sizeof(*p));
	p->block = block;
	p->batched = batched;
	p->v0 = v0;
	if (m->attention == MIPART_ATTN_MLA) {
		uint64_t bytes = bytes_of(((double)m->kv_lora_rank + m->qk_rope_head_dim) * elem);

		if (v0)
			bytes = sat_mul(bytes / V0_MLA_ALIGN + (bytes % V0_MLA_ALIGN != 0), V0_MLA_ALIGN);
		p->layer_token = bytes;
	} else {
		unsigned kvh = m->kv_heads ? m->kv_heads : m->heads;
		/* vllm/config.py ModelConfig.get_num_kv_heads: max(1, kv_heads // tp) */
		unsigned per_gpu = kvh / tp ? kvh / tp : 1;
		unsigned hd = m->head_dim ? m->head_dim : m->hidden / (m->heads ? m->heads : 1);

		p->layer_token = bytes_of(2.0 * per_gpu * hd * elem);
	}
	p->page = sat_mul(p->layer_token, block);
	if (m->attention == MIPART_ATTN_HYBRID) {
		sliding = m->sliding_window ? m->sliding_layers : 0;
		chunked = m->attention_chunk ? m->chunked_layers : 0;
		if (sliding > m->layers)
			sliding = m->layers;
		if (chunked > m->layers - sliding)
			chunked = m->layers - sliding;
	}
	full = m->layers - sliding - chunked;
	/* V0 (ModelConfig drops the window of interleaved models) and V1 before the hybrid
	 * manager (unify_hybrid_kv_cache_specs) keep a mixed model's layers whole; a model whose
	 * layers all slide keeps its one kind */
	if (v0 || (version < HYBRID_GROUPS_FROM && full)) {
		full = m->layers;
		sliding = chunked = 0;
	}
	if (full)
		p->kinds[p->n_kinds++] = (struct kv_kind){ full, KIND_FULL, 0 };
	if (sliding)
		p->kinds[p->n_kinds++] = (struct kv_kind){ sliding, KIND_SLIDING, m->sliding_window };
	if (chunked)
		p->kinds[p->n_kinds++] = (struct kv_kind){ chunked, KIND_CHUNKED, m->attention_chunk };
	for (unsigned i = 0; i < p->n_kinds; i++) {
		lo = p->kinds[i].layers < lo ? p->kinds[i].layers : lo;
		hi = p->kinds[i].layers > hi ? p->kinds[i].layers : hi;
	}
	/* _get_kv_cache_groups_uniform_page_size: groups of the smallest kind's layer count;
	 * from 0.11 the largest when it is under 1.5 x the smallest (fewer padding layers) */
	p->group_layers = lo;
	if (p->n_kinds > 1 && version >= GROUP_MAX_RULE_FROM && hi < 1.5 * lo)
		p->group_layers = hi;
	for (unsigned i = 0; i < p->n_kinds; i++) {
		p->groups[i] = (p->kinds[i].layers + p->group_layers - 1) / p->group_layers;
		p->n_groups += p->groups[i];
	}
}

/* The defaults of B and S for this version on this device (see the top of the file). */
/*
 * Whether V0 switches chunked prefill on by itself for a context of len tokens
 * (vllm/engine/arg_utils.py: EngineArgs._set_default_args_v0 from 0.8, create_engine_config
 * before): only over 32K, and not for a multimodal model ("Chunked prefill is currently
 * disabled for multimodal models by default"), an MLA model (0.8 on: "Chunked prefill not
 * supported for Multimodal or MLA in V0"), a sliding window (get_sliding_window() is not None)
 * or LoRA. From 0.8 only on CUDA (`is_gpu = current_platform.is_cuda()`, false on ROCm);
 * before, `device_config.device_type == "cuda"`, which a ROCm build reports too.
 */
static bool v0_chunked_by_default(const mipart_model *m, const mipart_estimate_options *o,
				  unsigned version, unsigned len)
{
	if (len <= V0_CHUNKED_ABOVE || m->vision_layers || m->vision_tiles || o->max_loras)
		return false;
	if (m->sliding_window && m->attention == MIPART_ATTN_HYBRID)
		return false;
	if (version >= V(0, 8) && (m->attention == MIPART_ATTN_MLA || !o->cuda))
		return false;
	return true;
}

static void batch_defaults(const mipart_model *m, const mipart_estimate_options *o, unsigned version,
			   bool v0, unsigned len, unsigned *ret_b, unsigned *ret_s)
{
	const char *name = o->device_name ? o->device_name : "";
	const mipart_device_info *dev = NULL;
	double device_memory = (double)o->device_bytes;
	bool tiled = m->vision_tiles > 0;
	bool large;

	if (v0 && tiled) {
		/* encoder-decoder runs refuse chunked prefill (worker/utils.py
		 * assert_enc_dec_mr_supported_scenario), so B is the whole context at any length */
		*ret_s = SMALL_SEQS;
		*ret_b = len > V0_MIN_BATCHED ? len : V0_MIN_BATCHED;
		return;
	}
	if (v0) {
		*ret_s = SMALL_SEQS;
		*ret_b = v0_chunked_by_default(m, o, version, len) ? SMALL_BATCHED
								   : (len > V0_MIN_BATCHED ? len : V0_MIN_BATCHED);
		return;
	}
	if (mipart_device_lookup(o->device_name, &dev) == 0 && dev->unified)
		device_memory = 0;
	if (version < LARGE_DEFAULTS_BY_MEMORY)
		large = strcasestr(name, "h100") || strcasestr(name, "h200");
	else
		large = device_memory >= LARGE_DEVICE_BYTES && !strcasestr(name, "a100");
	*ret_b = large ? LARGE_BATCHED : SMALL_BATCHED;
	*ret_s = large ? LARGE_SEQS : SMALL_SEQS;
	if (version >= LARGEST_DEFAULTS_FROM && device_memory >= LARGEST_DEVICE_BYTES)
		*ret_b = LARGEST_BATCHED;
}

/* Peak activation of the profile run: forward over B tokens vs the sampler warm-up. */
static void activation(const mipart_model *m, unsigned tp, double batched, double seqs, double elem,
		       bool v0, unsigned version, double units, uint64_t *ret_fwd,
		       uint64_t *ret_sampler)
{
	double ffn, rows = seqs < batched ? seqs : batched, vocab = (double)m->vocab;

	/* the widest MLP of a layer: the routed experts' gate/up (top_k x 2 x I_moe), or a dense
	 * layer's fc1 or gate+up (dense-only models; MoE models with dense layers: DeepSeek's
	 * first_k_dense_replace, Llama 4 Maverick's interleaved ones) */
	ffn = m->experts && moe_layers(m) ? (double)m->experts_per_token * 2.0 * m->moe_intermediate / tp
					  : 0;
	if (!moe_layers(m) || m->dense_layers) {
		double dense = (m->mlp_matrices == 2 ? 1.0 : 2.0) * m->intermediate / tp;

		ffn = dense > ffn ? dense : ffn;
	}
	*ret_fwd = bytes_of(batched * ffn * elem * FORWARD_FACTOR);
	if (!v0 && version >= TRITON_SAMPLER_FROM && rows >= TRITON_SAMPLER_MIN_ROWS) {
		/* in-place Triton top-k/top-p (TRITON_SAMPLER_FROM): the logits in the model's
		 * dtype (and a float32 copy unless that is float32), probabilities, noise */
		double per_entry = SAMPLER_TRITON_BYTES + (elem < 4 ? elem : 0);
		double programs = rows < units ? rows : units;

		*ret_sampler = bytes_of(rows * vocab * per_entry + programs * vocab * 4 +
					(batched + 2 * rows) * m->hidden * elem + SAMPLER_TRITON_FIXED);
		return;
	}
	*ret_sampler = bytes_of(rows * vocab * (v0 ? SAMPLER_BYTES_V0 : SAMPLER_BYTES_V1));
}

/* MoE layers: all but the dense ones (leading first_k_dense_replace, or interleaved:
 * Llama 4 Maverick's interleave_moe_layer_step 2, Qwen's decoder_sparse_step; model.h keeps
 * their count in dense_layers) */
static unsigned moe_layers(const mipart_model *m)
{
	return m->experts && m->layers > m->dense_layers ? m->layers - m->dense_layers : 0;
}

/* The cos_sin_cache buffers of the model's rotary embeddings (ROPE_PER_LAYER_GEMMA2_BEFORE):
 * max_position x rotary_dim elements each, on every rank. */
static double rope_cache_bytes(const mipart_model *m, unsigned version, double elem16)
{
	unsigned hd = m->head_dim ? m->head_dim : m->hidden / (m->heads ? m->heads : 1);
	unsigned dim = m->attention == MIPART_ATTN_MLA ? m->qk_rope_head_dim : hd;
	double n = 1;

	if (!strcmp(m->arch, "gemma3") || !strcmp(m->arch, "gemma3_text"))
		n = 2; /* gemma3.py: rope_theta (global) and rope_local_base_freq (sliding) */
	else if (!strcmp(m->arch, "gemma2") && version < ROPE_PER_LAYER_GEMMA2_BEFORE)
		n = m->layers;
	else if (!strcmp(m->arch, "opt") || !strcmp(m->arch, "gpt2") || !strcmp(m->arch, "gpt_bigcode"))
		n = 0; /* learned position embeddings, counted in the parameters */
	return n * (double)m->max_position * dim * elem16;
}

/*
 * Parameters every tensor-parallel rank holds whole, split into linear layers (quantized with
 * the rest) and 16-bit tensors: MLA's q_a_proj and kv_a_proj_with_mqa (deepseek_v2.py:
 * ReplicatedLinear, or one MergedColumnParallelLinear with disable_tp), the MoE router
 * (ReplicatedLinear gate in deepseek_v2.py, qwen3_moe.py, mixtral.py, llama4.py) and the norms
 * (RMSNorm weights are not sharded).
 */
static void replicated_params(const mipart_model *m, double *ret_linear, double *ret_rest)
{
	double h = m->hidden, lin = 0, rest;

	if (m->attention == MIPART_ATTN_MLA)
		lin = (double)m->layers * h *
		      ((double)m->q_lora_rank + m->kv_lora_rank + m->qk_rope_head_dim);
	rest = (double)moe_layers(m) * h * m->experts + (2.0 * m->layers + 1) * h;
	if (m->attention == MIPART_ATTN_MLA)
		rest += (double)m->layers * ((double)m->q_lora_rank + m->kv_lora_rank);
	*ret_linear = lin;
	*ret_rest = rest;
}

/* The 16-bit copies MLA keeps after loading (MLA_DEQUANT_FROM, MLA_ABSORB_FROM), per GPU. */
static double mla_copies(const mipart_model *m, mipart_precision p, unsigned version, unsigned tp,
			 double elem16)
{
	double heads = (double)m->heads / tp, rank = m->kv_lora_rank;
	bool quantized = p != MIPART_PREC_BF16 && p != MIPART_PREC_FP16 && p != MIPART_PREC_FP32;

	if (m->attention != MIPART_ATTN_MLA)
		return 0;
	if (version >= MLA_DEQUANT_FROM)
		return quantized ? m->layers * rank * heads *
					   ((double)m->qk_nope_head_dim + m->v_head_dim) * elem16
				 : 0;
	if (version >= MLA_ABSORB_FROM) {
		double q_in = m->q_lora_rank ? m->q_lora_rank : m->hidden;

		return m->layers * heads * rank * (q_in + m->hidden) * elem16;
	}
	return 0;
}

/*
 * The multimodal encoder's share of the profile run (vllm/v1/worker/gpu_model_runner.py:
 * profile_run, vllm/multimodal budget code: MultiModalBudget.get_max_items,
 * vllm/v1/core/encoder_cache_manager.py: compute_mm_encoder_budget). vLLM runs the encoder once
 * over a batch of dummy items of the modality with the most tokens per item, as many as
 *   min(encoder budget // T, max_num_seqs x max(1, min(limit, max_model_len // T))), at least 1,
 * where the encoder budget is max(max_num_encoder_input_tokens, T) and that defaults to
 * max_num_batched_tokens; T is the tokens one item becomes. It keeps the outputs
 * (encoder_cache["tmp"]) through the forward and sampler runs. The encoder's peak is taken like
 * the decoder's forward: the widest MLP output (patches x vision intermediate) of the batch, x
 * FORWARD_FACTOR, a tp-th on each rank (vision MLPs are column-parallel). The per-prompt limit
 * (limit_mm_per_prompt, 999 by default in V1) never binds before max_model_len // T does.
 */
static void encoder_activation(const mipart_model *m, unsigned tp, unsigned batched, unsigned seqs,
			       unsigned len, double elem, uint64_t *ret_enc, uint64_t *ret_cache)
{
	uint64_t t = m->vision_tokens, p = m->vision_patches ? m->vision_patches : t;
	uint64_t budget, items, per_prompt, dec;

	*ret_enc = *ret_cache = 0;
	if (!t || !m->vision_intermediate)
		return;
	budget = batched > t ? batched : t;
	items = budget / t;
	per_prompt = len / t ? len / t : 1;
	dec = (uint64_t)seqs * per_prompt;
	items = items < dec ? items : dec;
	items = items ? items : 1;
	*ret_enc = bytes_of((double)items * p * m->vision_intermediate / tp * elem * FORWARD_FACTOR);
	*ret_cache = bytes_of((double)items * t * m->hidden * elem);
}

/*
 * mllama (Llama 3.2 Vision, MllamaForConditionalGeneration) in vLLM: added in 0.6.2, an
 * encoder-decoder model that only V0 runs (the V1 oracle, engine/arg_utils.py
 * _is_v1_supported_oracle, falls back to V0 for encoder-decoder models, 0.8 to 0.10), removed
 * with V0 after 0.10.2 (model_executor/models/registry.py _PREVIOUSLY_SUPPORTED_MODELS:
 * "MllamaForConditionalGeneration": "0.10.2"; PR #26475 "Since Llama-3.2-vision has been
 * removed"). The version granularity here is the minor release: 0.6 and 0.10 are accepted.
 */
#define MLLAMA_FROM V(0, 6)
#define MLLAMA_LAST V(0, 10)
/* MllamaVisionModel.forward: F.pad to a multiple of 8 positions per tile */
#define MLLAMA_POSITION_PAD 8
/* pixel_values are float32: the HF image processor's tensors, moved to the GPU as they are
 * (MultiModalKwargs.as_kwargs), and the float32 out_images that
 * _parse_and_validate_image_input copies them into */
#define MLLAMA_PIXEL_BYTES 4.0
#define MLLAMA_CHANNELS 3.0

/*
 * V0's encoder-decoder profile run for mllama, from vLLM's code as of the PR #12126 build
 * (January 2025; the same code in the stored versions of December 2024 to mid 2025:
 * vllm/worker/enc_dec_model_runner.py EncoderDecoderModelRunner.profile_run,
 * vllm/model_executor/models/mllama.py). profile_run builds max_num_seqs S dummy sequences
 * and runs them in ONE forward (unlike the decoder-only runner, it does not cap S by
 * max_num_batched_tokens // max_mm_tokens): each has B / S decoder tokens starting with one
 * <|image|> and, from dummy_encoder_data_for_mllama, one 1024 x 1024 image, which
 * get_optimal_tiled_canvas cuts into a 2 x 2 canvas: max_num_tiles (4) tiles, and the HF
 * processor pads every image to max_num_tiles tiles anyway. So the vision tower runs on
 * T = S x tiles tiles of P = (image / patch)^2 + 1 positions (the class token), padded to
 * P' = 8 * ceil(P / 8) (1601 -> 1608). One hidden state is s = T x P' x D x 2 bytes.
 *
 * What is alive, counted as torch's caching allocator counts allocated bytes: a tensor lives
 * while a Python reference does (CPython frees at the last reference; a local variable keeps
 * its tensor until it is rebound or its function returns; a caller's argument stays
 * referenced during the call). The peak of the tower is in the global transformer's MLP:
 *   - the pixels: two float32 copies, 2 x T x 3 x image^2 x 4 (the batched
 *     multi_modal_kwargs moved to the GPU, held by execute_model's call; out_images, held in
 *     image_inputs by forward);
 *   - patch_embeds (T x (P - 1) x D), a local of MllamaVisionModel.forward to the end;
 *   - the attention mask of _prepare_aspect_ratio_attention_mask, S x (tiles x P')^2 x 2
 *     bytes (128 x 6432^2 x 2 = 9.86 GiB for row 2), a local to the end; SDPA with a float
 *     mask runs the memory-efficient kernel (flash takes no mask; the math kernel would need
 *     S x heads x (tiles x P')^2 more and could not run), which only adds its output, and
 *     preprocess_mask neither pads (6432 is a multiple of 8) nor copies (expand);
 *   - the local transformer's result: the tuple `output` = (final state, the kept states of
 *     intermediate_layers_indices), held to the end: (K + 1) s; torch.stack of the kept
 *     states: K s;
 *   - the global transformer's input (the caller's argument) and, in a layer, its input X,
 *     the residual h1 and the layer norm's output: 3 s; fc1's output and GELU's output
 *     (nn.GELU, not in place; fc1's output is freed only when the activation returns):
 *     2 x T x P' x I / tp x 2.
 * The local transformer's last layers hold less (the model input, K kept states, X, h1, the
 * norm, fc1 and GELU), the torch.cat of the vision output less again at row 2's shape
 * ((K + 1) s + (2K + 2) unpadded states). After the tower: the projector's input
 * (vision_output_dim wide) and output, flat_encoder_result's copy, then in each
 * cross-attention layer the cross_attention_states (E = T x P tokens x text hidden), qkv_proj
 * over them (E x (q + 2 kv) / tp) and k_norm's float32 copy and square (MllamaTextRMSNorm:
 * .to(float32), pow(2)); the text layers' MLP over the B decoder tokens is the forward term,
 * with the cross-attention states and pixels alive. The sampler runs after the forward has
 * returned. This returns the largest of these phases.
 */
static uint64_t mllama_v0_activation(const mipart_model *m, unsigned tp, unsigned seqs, double elem,
				     double forward)
{
	double tiles = (double)seqs * m->vision_tiles, d = m->vision_hidden, k = m->vision_kept_layers;
	double raw = (double)(m->vision_patches / m->vision_tiles);
	double pad = (double)ceil_div(m->vision_patches / m->vision_tiles, MLLAMA_POSITION_PAD) *
		     MLLAMA_POSITION_PAD;
	double side = m->vision_tiles * pad, img = m->vision_image_size;
	double st = tiles * pad * d * elem, sr = tiles * raw * d * elem;
	double fc = tiles * pad * ((double)m->vision_intermediate / tp) * elem;
	double px = 2 * tiles * MLLAMA_CHANNELS * img * img * MLLAMA_PIXEL_BYTES;
	double base = px + tiles * (raw - 1) * d * elem + (double)seqs * side * side * elem;
	double enc = tiles * raw, cross = enc * m->hidden * elem, peak;
	unsigned hd = m->head_dim ? m->head_dim : m->hidden / (m->heads ? m->heads : 1);
	unsigned kvh = m->kv_heads ? m->kv_heads : m->heads;
	double q = (double)m->heads / tp * hd, kv = (kvh < tp ? 1.0 : (double)kvh / tp) * hd;
	double phase[7];

	phase[0] = base + (1 + k + 3) * st + 2 * fc;				/* local layers */
	phase[1] = m->vision_global_layers ? base + (2 * k + 5) * st + 2 * fc : 0; /* global */
	phase[2] = base + (k + 1) * st + (2 * k + 2) * sr;			/* torch.cat */
	phase[3] = px + (k + 1) * sr + cross;					/* projector */
	phase[4] = px + 2 * cross;						/* flat copy */
	phase[5] = px + cross + enc * (q + 2 * kv) * elem + 2 * enc * kv * 4;	/* cross-attn */
	phase[6] = px + cross + forward;					/* text MLP */
	peak = 0;
	for (size_t i = 0; i < ARRAY_SIZE(phase); i++)
		peak = phase[i] > peak ? phase[i] : peak;
	return bytes_of(peak);
}

/*
 * LoRA: vLLM allocates the stacked adapter buffers of every LoRA slot while it loads the model,
 * inside the "Model loading took" figure (V0: vllm/worker/model_runner.py
 * GPUModelRunnerBase.load_model wraps the model with LRUCacheWorkerLoRAManager
 * .create_lora_manager under its DeviceMemoryProfiler; V1: gpu_model_runner.py load_model,
 * load_lora_model). Each wrapped linear layer holds, per TP rank
 * (vllm/lora/layers/base_linear.py: BaseLinearLayerWithLoRA.create_lora_weights), for each of
 * its n_slices packed sub-layers, lora_a (max_loras, 1, max_lora_rank, input_size) and
 * lora_b (max_loras, 1, output_size, max_lora_rank) in lora_dtype (auto: the model dtype),
 * where input_size and output_size are the rank's (a column-parallel layer's output and a
 * row-parallel layer's input divided by tp; fully_sharded_loras off, vLLM's default).
 * Modelled: the decoder's attention (qkv_proj, 3 slices; o_proj) and dense MLP (gate_up_proj,
 * 2 slices, or fc1; down_proj/fc2) layers. Not modelled: the MoE experts' LoRA
 * (lora/layers/fused_moe.py), MLA's projections, the embedding and lm_head wrappers (r x
 * vocab each: about 0.01 GiB on Phi-4), and Punica's index tensors (a few MiB).
 */
#define LORA_DEFAULT_SLOTS 1  /* LoRAConfig.max_loras */
#define LORA_DEFAULT_RANK 16  /* LoRAConfig.max_lora_rank */

static double lora_bytes(const mipart_model *m, unsigned tp, unsigned slots, unsigned rank,
			 double elem16)
{
	unsigned hd = m->head_dim ? m->head_dim : m->hidden / (m->heads ? m->heads : 1);
	unsigned kvh = m->kv_heads ? m->kv_heads : m->heads;
	double h = m->hidden, q = (double)m->heads / tp * hd, per_layer, mlp_layers;
	double kv = (kvh < tp ? 1.0 : (double)kvh / tp) * hd, inter = (double)m->intermediate / tp;
	unsigned gate = m->mlp_matrices == 2 ? 1 : 2;

	if (!slots && !rank)
		return 0;
	if (!slots)
		slots = LORA_DEFAULT_SLOTS;
	if (!rank)
		rank = LORA_DEFAULT_RANK;
	if (m->attention == MIPART_ATTN_MLA)
		return 0;
	/* qkv_proj: 3 x a (r x h) + b (r x (q + 2 kv)); o_proj: a (r x q/tp) + b (r x h) */
	per_layer = 3 * h + (q + 2 * kv) + q + h;
	/* gate_up_proj: gate x a (r x h) + b (r x gate x I/tp); down_proj: a (r x I/tp) + b (r x h) */
	mlp_layers = m->experts ? m->dense_layers : m->layers;
	return ((double)m->layers * per_layer + mlp_layers * (gate * h + gate * inter + inter + h)) *
	       rank * slots * elem16;
}

/* Weights on one GPU: what vLLM logs as "Model loading took". */
static double weights_per_gpu(const mipart_model *m, mipart_precision p, bool from_checkpoint,
			      uint64_t params, uint64_t linear, uint64_t total, unsigned tp,
			      unsigned version, unsigned cc)
{
	double w, elem16 = p == MIPART_PREC_FP32 ? 4 : 2, rep_lin, rep_rest;
	unsigned kvh = m->kv_heads ? m->kv_heads : m->heads;
	unsigned hd = m->head_dim ? m->head_dim : m->hidden / (m->heads ? m->heads : 1);
	uint64_t padded = ceil_div(m->vocab, VOCAB_PADDING) * VOCAB_PADDING;

	if (from_checkpoint) {
		w = (double)m->weight_bytes;
		/* the MTP layers are in the checkpoint but not loaded (DeepSeek-V3: 14B of 685B):
		 * each is one more decoder layer (the last layer's shape) plus its 2h x h eh_proj,
		 * in the checkpoint's bytes per parameter */
		if (m->mtp_layers && params) {
			mipart_model one = *m;
			uint64_t lin1 = 0, p1;
			double one_layer, none;

			one.layers = m->layers + 1;
			one.mtp_layers = 0;
			p1 = mipart_model_params(&one, &lin1);
			one_layer = p1 > params ? (double)(p1 - params) : 0;
			none = (double)m->mtp_layers * (one_layer + 2.0 * m->hidden * m->hidden);
			w -= w * none / ((double)params + none);
		}
	} else {
		/* scale the shape's split to the published total; MXFP4 checkpoints quantize the
		 * experts only (gpt-oss: attention stays bf16) */
		double scale = params ? (double)total / params : 1;
		double lin = linear * scale, rest = (double)total - lin;

		if (p == MIPART_PREC_MXFP4) {
			/* the experts are part of the linear layers (a shape whose count saturated
			 * could say otherwise) */
			double ex = fmin(expert_params(m) * scale, lin);

			w = ex * linear_bytes(p, 0) + (lin - ex) * 2 + rest * elem16;
		} else {
			w = lin * linear_bytes(p, m->quant_group) + rest * elem16;
		}
	}
	if (p == MIPART_PREC_MXFP4 && m->experts && m->moe_intermediate) {
		/* the experts' dimensions padded by backend (MXFP4_*_ALIGN) */
		unsigned ia = MXFP4_INTERMEDIATE_ALIGN, ha = 1;
		double padded_i, padded_h, scale = params ? (double)total / params : 1;

		if (cc && (cc < 90 || cc >= 120)) {
			ia = MXFP4_MARLIN_INTERMEDIATE_ALIGN;
			ha = MXFP4_MARLIN_HIDDEN_ALIGN;
		} else if (cc >= 100 && cc < 110) {
			ia = ha = MXFP4_SM100_ALIGN;
		}
		padded_i = (double)ceil_div(m->moe_intermediate, ia) * ia;
		padded_h = (double)ceil_div(m->hidden, ha) * ha;
		w += expert_params(m) * scale * linear_bytes(p, 0) *
		     (padded_i * padded_h / ((double)m->moe_intermediate * m->hidden) - 1);
	}
	/* VocabParallelEmbedding / ParallelLMHead pad the vocabulary to a multiple of 64 */
	w += (double)(padded - m->vocab) * m->hidden * elem16 * (m->tied_embeddings ? 1 : 2);
	w /= tp;
	/* QKVParallelLinear replicates the KV heads when there are fewer than ranks: each rank
	 * holds one whole head instead of kv_heads / tp of them */
	if (m->attention != MIPART_ATTN_MLA && kvh < tp) {
		double per_head = 2.0 * m->layers * (double)m->hidden * hd *
				  (p == MIPART_PREC_FP8 || p == MIPART_PREC_INT8 ? 1 : elem16);

		w += per_head * (1.0 - (double)kvh / tp);
	}
	/* replicated layers: whole on every rank, not a tp-th (replicated_params) */
	replicated_params(m, &rep_lin, &rep_rest);
	w += (rep_lin * linear_bytes(p, m->quant_group) + rep_rest * elem16) * (1.0 - 1.0 / tp);
	w += mla_copies(m, p, version, tp, elem16);
	/* the vision tower and projector, in 16 bits (quantization configs leave them out:
	 * compressed-tensors "ignore", AWQ modules_to_not_convert), sharded like the decoder */
	if (!from_checkpoint)
		w += (double)m->vision_params * elem16 / tp;
	w += rope_cache_bytes(m, version, elem16);
	return w;
}

int mipart_estimate_model(const mipart_model *m, const mipart_estimate_options *o,
			  mipart_estimate *ret)
{
	mipart_estimate e = { 0 };
	mipart_precision p = o->precision == MIPART_PREC_AUTO ? auto_precision(m) : o->precision;
	unsigned tp = o->tensor_parallel ? o->tensor_parallel : 1;
	unsigned version = o->vllm_version ? o->vllm_version : MIPART_VLLM_NEWEST;
	unsigned block = o->block_size ? o->block_size : DEFAULT_BLOCK_SIZE;
	double util = mipart_estimate_utilization(o);
	double kv_elem = o->kv_fp8 ? 1 : (p == MIPART_PREC_FP32 ? 4 : 2);
	double act_elem = p == MIPART_PREC_FP32 ? 4 : 2;
	uint64_t linear = 0, params;
	double weights, need_len, fixed;
	const mipart_device_info *dev = NULL;
	bool v0, fast_link = true;
	struct kv_plan kp;
	unsigned len, b, s;

	if (!m->layers || !m->hidden || !m->heads || !m->vocab)
		return -EINVAL;
	if (util <= 0 || util > 1 || tp > 64 || (m->attention != MIPART_ATTN_MLA && m->heads % tp))
		return -EINVAL;
	if (version < MIPART_VLLM_OLDEST || version > MIPART_VLLM_NEWEST || block > 1024 || !block)
		return -EINVAL;
	if (o->engine == MIPART_ENGINE_V0 && version >= V1_ONLY_FROM)
		return -EINVAL;
	/* config/lora.py: max_lora_rank is one of 1, 8, 16, 32, 64, 128, 256, 320, 512 */
	if (o->max_lora_rank > 512 || o->max_loras > 1024)
		return -EINVAL;
	if (o->engine == MIPART_ENGINE_V1 && version < V(0, 7)) /* VLLM_USE_V1 came in 0.7 */
		return -EINVAL;
	len = o->max_model_len ? o->max_model_len : m->max_position;
	if (!len || (m->max_position && len > m->max_position))
		return -E2BIG;
	v0 = o->engine == MIPART_ENGINE_V0 || (o->engine == MIPART_ENGINE_AUTO && version < V1_DEFAULT_FROM);
	if (m->vision_tiles) {
		/* mllama: only in 0.6 to 0.10, and only on V0 (MLLAMA_FROM, MLLAMA_LAST) */
		if (version < MLLAMA_FROM || version > MLLAMA_LAST || o->engine == MIPART_ENGINE_V1)
			return -EOPNOTSUPP;
		v0 = true;
	}
	if (mipart_device_lookup(o->device_name, &dev) == 0)
		fast_link = dev->fast_link;

	batch_defaults(m, o, version, v0, len, &b, &s);
	if (o->max_num_batched_tokens)
		b = o->max_num_batched_tokens;
	if (o->max_num_seqs)
		s = o->max_num_seqs;

	params = mipart_model_params(m, &linear);
	e.params = m->params ? m->params : params;
	weights = weights_per_gpu(m, p, o->precision == MIPART_PREC_AUTO && m->weight_bytes, params,
				  linear, e.params, tp, version, dev && o->cuda ? dev->compute_capability : 0);

	e.precision_name = mipart_precision_name(p);
	e.max_model_len = len;
	e.max_num_seqs = s;
	e.max_num_batched_tokens = b;
	e.vllm_version = version;
	e.engine = v0 ? MIPART_ENGINE_V0 : MIPART_ENGINE_V1;
	e.lora_bytes = bytes_of(lora_bytes(m, tp, o->max_loras, o->max_lora_rank,
					   p == MIPART_PREC_FP32 ? 4 : 2));
	weights += (double)e.lora_bytes;
	e.weights_bytes = bytes_of(weights);
	/* the Triton sampler's programs (SAMPLER_TRITON_PROGRAMS) */
	e.compute_units = o->compute_units		  ? o->compute_units
			  : dev && dev->compute_units ? dev->compute_units
						      : SAMPLER_TRITON_PROGRAMS;
	activation(m, tp, b, s, act_elem, v0, version, e.compute_units, &e.forward_bytes,
		   &e.sampler_bytes);
	if (!v0) {
		/* V0 profiled multimodal models with dummy sequences of its own; not modelled */
		encoder_activation(m, tp, b, s, len, act_elem, &e.encoder_bytes, &e.encoder_cache_bytes);
		e.forward_bytes = sat_add(e.forward_bytes, e.encoder_cache_bytes);
		e.sampler_bytes = sat_add(e.sampler_bytes, e.encoder_cache_bytes);
	} else if (m->vision_tiles) {
		/* mllama's encoder-decoder profile: the vision tower, projector and text model in
		 * one forward (the text MLP included); the sampler after it */
		e.encoder_bytes = mllama_v0_activation(m, tp, s, act_elem, (double)e.forward_bytes);
	}
	e.activation_bytes = e.forward_bytes > e.sampler_bytes ? e.forward_bytes : e.sampler_bytes;
	if (e.encoder_bytes > e.activation_bytes)
		e.activation_bytes = e.encoder_bytes;
	if (o->cuda && !v0 && version >= NON_TORCH_STEP_FROM)
		/* graph capture inside the profiling window (NON_TORCH_STEP_FROM) */
		e.non_torch_bytes = (uint64_t)(NON_TORCH_CUDA_V018 +
					       (tp > 1 ? (fast_link ? NON_TORCH_TP_FAST_V018
								    : NON_TORCH_TP_PCIE)
						       : 0));
	else
		e.non_torch_bytes = (uint64_t)((o->cuda ? NON_TORCH_CUDA : NON_TORCH_ROCM) +
					       (tp > 1 ? (fast_link ? NON_TORCH_TP_FAST
								    : NON_TORCH_TP_PCIE)
						       : 0));
	if (!v0 && version >= CUDA_GRAPH_FROM && !o->enforce_eager &&
	    (o->cuda || version >= ROCM_GRAPH_PROFILE_FROM))
		e.cuda_graph_bytes = (uint64_t)CUDA_GRAPH_BYTES;

	plan_kv(m, tp, kv_elem, version, v0, block, b, &kp);
	if (!kp.page)
		return -EINVAL; /* no KV bytes: a head_dim of 0 (hidden < heads), an empty latent */
	e.kv_page_bytes = kp.page;
	e.kv_groups = kp.n_groups;
	e.kv_group_layers = kp.group_layers;
	e.kv_layer_slots = kp.n_groups * kp.group_layers;
	e.hybrid_groups = kp.n_kinds > 1;
	need_len = request_bytes(&kp, len);
	e.kv_bytes_per_token = bytes_of(ceil(need_len / len));
	fixed = weights + (double)e.activation_bytes + (double)e.non_torch_bytes +
		(double)e.cuda_graph_bytes;
	e.min_device_bytes = bytes_of(ceil((fixed + need_len) / util));
	if (o->device_bytes || o->kv_cache_memory_bytes) {
		double avail;
		uint64_t per_req;

		e.usable_bytes = bytes_of((double)o->device_bytes * util);
		/* gpu_worker.py: kv_cache_memory_bytes replaces the profiled budget */
		avail = o->kv_cache_memory_bytes ? (double)o->kv_cache_memory_bytes
						 : (double)e.usable_bytes - fixed;
		e.kv_cache_bytes = sbytes_of(avail);
		e.other_rank_kv_cache_bytes = e.kv_cache_bytes;
		/* V0: only the driver samples; the others keep the forward's peak (see
		 * SAMPLER_BYTES_V0) and the cache takes the smallest rank's blocks */
		if (v0 && tp > 1 && !o->kv_cache_memory_bytes && e.sampler_bytes > e.forward_bytes &&
		    e.encoder_bytes < e.sampler_bytes)
			e.other_rank_kv_cache_bytes =
				sbytes_of((double)e.kv_cache_bytes +
					  (double)(e.activation_bytes - (e.forward_bytes > e.encoder_bytes
										 ? e.forward_bytes
										 : e.encoder_bytes)));
		if (avail > 0) {
			uint64_t lo = 0, hi = m->max_position ? m->max_position : (1u << 24);

			/* get_num_blocks: available // page // group layers */
			e.kv_blocks = bytes_of(avail / (double)kp.page) / kp.group_layers;
			e.kv_cache_tokens_full = bytes_of(avail / ((double)kp.layer_token * m->layers));
			per_req = request_blocks(&kp, len);
			if (v0) {
				/* V0: "# GPU blocks: N"; N x block tokens; concurrency = tokens / L */
				e.kv_cache_tokens = sat_mul(e.kv_blocks, block);
				e.max_concurrency = (double)e.kv_cache_tokens / len;
				e.max_model_len_fit = e.kv_cache_tokens < hi ? e.kv_cache_tokens : hi;
				e.fits = e.kv_cache_tokens >= len;
			} else {
				e.max_concurrency = (double)e.kv_blocks / (double)per_req;
				/* _report_kv_cache_config: num_blocks // groups x block up to 0.19;
				 * after, the tokens that max_concurrency requests hold */
				if (version < TOKENS_FROM_CONCURRENCY)
					e.kv_cache_tokens = e.kv_blocks / kp.n_groups * block;
				else
					e.kv_cache_tokens = bytes_of(e.max_concurrency * len);
				/* estimate_max_model_len: the longest request whose bytes fit */
				while (lo < hi) {
					uint64_t mid = lo + (hi - lo + 1) / 2;

					if (request_bytes(&kp, mid) <= avail)
						lo = mid;
					else
						hi = mid - 1;
				}
				e.max_model_len_fit = lo;
				e.fits = need_len <= avail;
			}
		}
		/* a fixed cache size skips the profiling but not the memory: the weights, the
		 * activation peak and the cache are on the device together (gpu_worker.py: "reserved
		 * ... for KV Cache as specified by kv_cache_memory_bytes config and skipped memory
		 * profiling. This does not respect the gpu_memory_utilization config ... If OOM'ed,
		 * ..."); without a device size, a saturated term still fits nowhere */
		if (o->kv_cache_memory_bytes &&
		    (fixed + (double)o->kv_cache_memory_bytes >= 0x1p64 ||
		     (o->device_bytes &&
		      fixed + (double)o->kv_cache_memory_bytes > (double)o->device_bytes)))
			e.fits = false;
	}
	*ret = e;
	return 0;
}
