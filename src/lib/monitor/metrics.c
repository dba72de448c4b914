// SPDX-License-Identifier: MIT
/*
 * The amdgpu metrics tables of MI300-class GPUs, read and written: gpu_metrics (one per GPU)
 * and xcp_metrics (one per compute partition). Two kinds of layout exist. The fixed ones are
 * plain C structs of kgd_pp_interface.h (gpu_metrics_v1_4 .. v1_8,
 * amdgpu_partition_metrics_v1_0), mirrored here with their offsets checked at compile time; the
 * self-describing ones (gpu_metrics v1.9, partition metrics v1.1) are a header, an attribute
 * count and a packed run of "u64 ftype; values" (smu_cmn.h: DECLARE_SMU_METRICS_CLASS). Both
 * are decoded through one table per layout that maps a table field to a field of the decoded
 * struct, and the same tables drive the encoder the simulator uses. Nothing here trusts a
 * length from the table: every read is checked against the bytes actually given.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "metrics.h"
#include "util.h"
#include "banned.h"

/* ---- kernel ABI: drivers/gpu/drm/amd/include/kgd_pp_interface.h ---------------------- */

#define NUM_XGMI_LINKS 8
#define MAX_GFX_CLKS 8
#define MAX_CLKS 4
#define NUM_VCN 4
#define NUM_JPEG_ENG 32
#define NUM_JPEG_ENG_V1 40
#define MAX_XCC 8
#define NUM_XCP 8

struct metrics_table_header {
	uint16_t structure_size;
	uint8_t format_revision;
	uint8_t content_revision;
};

struct gpu_metrics_v1_4 {
	struct metrics_table_header common_header;
	uint16_t temperature_hotspot;
	uint16_t temperature_mem;
	uint16_t temperature_vrsoc;
	uint16_t curr_socket_power;
	uint16_t average_gfx_activity;
	uint16_t average_umc_activity;
	uint16_t vcn_activity[NUM_VCN];
	uint64_t energy_accumulator;
	uint64_t system_clock_counter;
	uint32_t throttle_status;
	uint32_t gfxclk_lock_status;
	uint16_t pcie_link_width;
	uint16_t pcie_link_speed;
	uint16_t xgmi_link_width;
	uint16_t xgmi_link_speed;
	uint32_t gfx_activity_acc;
	uint32_t mem_activity_acc;
	uint64_t pcie_bandwidth_acc;
	uint64_t pcie_bandwidth_inst;
	uint64_t pcie_l0_to_recov_count_acc;
	uint64_t pcie_replay_count_acc;
	uint64_t pcie_replay_rover_count_acc;
	uint64_t xgmi_read_data_acc[NUM_XGMI_LINKS];
	uint64_t xgmi_write_data_acc[NUM_XGMI_LINKS];
	uint64_t firmware_timestamp;
	uint16_t current_gfxclk[MAX_GFX_CLKS];
	uint16_t current_socclk[MAX_CLKS];
	uint16_t current_vclk0[MAX_CLKS];
	uint16_t current_dclk0[MAX_CLKS];
	uint16_t current_uclk;
	uint16_t padding;
};

struct gpu_metrics_v1_5 {
	struct metrics_table_header common_header;
	uint16_t temperature_hotspot;
	uint16_t temperature_mem;
	uint16_t temperature_vrsoc;
	uint16_t curr_socket_power;
	uint16_t average_gfx_activity;
	uint16_t average_umc_activity;
	uint16_t vcn_activity[NUM_VCN];
	uint16_t jpeg_activity[NUM_JPEG_ENG];
	uint64_t energy_accumulator;
	uint64_t system_clock_counter;
	uint32_t throttle_status;
	uint32_t gfxclk_lock_status;
	uint16_t pcie_link_width;
	uint16_t pcie_link_speed;
	uint16_t xgmi_link_width;
	uint16_t xgmi_link_speed;
	uint32_t gfx_activity_acc;
	uint32_t mem_activity_acc;
	uint64_t pcie_bandwidth_acc;
	uint64_t pcie_bandwidth_inst;
	uint64_t pcie_l0_to_recov_count_acc;
	uint64_t pcie_replay_count_acc;
	uint64_t pcie_replay_rover_count_acc;
	uint32_t pcie_nak_sent_count_acc;
	uint32_t pcie_nak_rcvd_count_acc;
	uint64_t xgmi_read_data_acc[NUM_XGMI_LINKS];
	uint64_t xgmi_write_data_acc[NUM_XGMI_LINKS];
	uint64_t firmware_timestamp;
	uint16_t current_gfxclk[MAX_GFX_CLKS];
	uint16_t current_socclk[MAX_CLKS];
	uint16_t current_vclk0[MAX_CLKS];
	uint16_t current_dclk0[MAX_CLKS];
	uint16_t current_uclk;
	uint16_t padding;
};

/*
 * The first gpu_metrics_v1_6 (v1_5 plus accumulation counter and throttler residencies, no
 * partition data), as in torvalds/linux kgd_pp_interface.h before the xcp_stats rework
 * changed v1_6 in place; told apart from the later v1_6 by its size.
 */
struct gpu_metrics_v1_6_early {
	struct metrics_table_header common_header;
	uint16_t temperature_hotspot;
	uint16_t temperature_mem;
	uint16_t temperature_vrsoc;
	uint16_t curr_socket_power;
	uint16_t average_gfx_activity;
	uint16_t average_umc_activity;
	uint16_t vcn_activity[NUM_VCN];
	uint16_t jpeg_activity[NUM_JPEG_ENG];
	uint64_t energy_accumulator;
	uint64_t system_clock_counter;
	uint32_t accumulation_counter;
	uint32_t prochot_residency_acc;
	uint32_t ppt_residency_acc;
	uint32_t socket_thm_residency_acc;
	uint32_t vr_thm_residency_acc;
	uint32_t hbm_thm_residency_acc;
	uint32_t throttle_status;
	uint32_t gfxclk_lock_status;
	uint16_t pcie_link_width;
	uint16_t pcie_link_speed;
	uint16_t xgmi_link_width;
	uint16_t xgmi_link_speed;
	uint32_t gfx_activity_acc;
	uint32_t mem_activity_acc;
	uint64_t pcie_bandwidth_acc;
	uint64_t pcie_bandwidth_inst;
	uint64_t pcie_l0_to_recov_count_acc;
	uint64_t pcie_replay_count_acc;
	uint64_t pcie_replay_rover_count_acc;
	uint32_t pcie_nak_sent_count_acc;
	uint32_t pcie_nak_rcvd_count_acc;
	uint64_t xgmi_read_data_acc[NUM_XGMI_LINKS];
	uint64_t xgmi_write_data_acc[NUM_XGMI_LINKS];
	uint64_t firmware_timestamp;
	uint16_t current_gfxclk[MAX_GFX_CLKS];
	uint16_t current_socclk[MAX_CLKS];
	uint16_t current_vclk0[MAX_CLKS];
	uint16_t current_dclk0[MAX_CLKS];
	uint16_t current_uclk;
	uint16_t padding;
};

struct amdgpu_xcp_metrics {
	uint32_t gfx_busy_inst[MAX_XCC];
	uint16_t jpeg_busy[NUM_JPEG_ENG];
	uint16_t vcn_busy[NUM_VCN];
	uint64_t gfx_busy_acc[MAX_XCC];
};

struct amdgpu_xcp_metrics_v1_1 {
	uint32_t gfx_busy_inst[MAX_XCC];
	uint16_t jpeg_busy[NUM_JPEG_ENG];
	uint16_t vcn_busy[NUM_VCN];
	uint64_t gfx_busy_acc[MAX_XCC];
	uint64_t gfx_below_host_limit_acc[MAX_XCC];
};

struct amdgpu_xcp_metrics_v1_2 {
	uint32_t gfx_busy_inst[MAX_XCC];
	uint16_t jpeg_busy[NUM_JPEG_ENG_V1];
	uint16_t vcn_busy[NUM_VCN];
	uint64_t gfx_busy_acc[MAX_XCC];
	uint64_t gfx_below_host_limit_ppt_acc[MAX_XCC];
	uint64_t gfx_below_host_limit_thm_acc[MAX_XCC];
	uint64_t gfx_low_utilization_acc[MAX_XCC];
	uint64_t gfx_below_host_limit_total_acc[MAX_XCC];
};

struct gpu_metrics_v1_6 {
	struct metrics_table_header common_header;
	uint16_t temperature_hotspot;
	uint16_t temperature_mem;
	uint16_t temperature_vrsoc;
	uint16_t curr_socket_power;
	uint16_t average_gfx_activity;
	uint16_t average_umc_activity;
	uint64_t energy_accumulator;
	uint64_t system_clock_counter;
	uint32_t accumulation_counter;
	uint32_t prochot_residency_acc;
	uint32_t ppt_residency_acc;
	uint32_t socket_thm_residency_acc;
	uint32_t vr_thm_residency_acc;
	uint32_t hbm_thm_residency_acc;
	uint32_t gfxclk_lock_status;
	uint16_t pcie_link_width;
	uint16_t pcie_link_speed;
	uint16_t xgmi_link_width;
	uint16_t xgmi_link_speed;
	uint32_t gfx_activity_acc;
	uint32_t mem_activity_acc;
	uint64_t pcie_bandwidth_acc;
	uint64_t pcie_bandwidth_inst;
	uint64_t pcie_l0_to_recov_count_acc;
	uint64_t pcie_replay_count_acc;
	uint64_t pcie_replay_rover_count_acc;
	uint32_t pcie_nak_sent_count_acc;
	uint32_t pcie_nak_rcvd_count_acc;
	uint64_t xgmi_read_data_acc[NUM_XGMI_LINKS];
	uint64_t xgmi_write_data_acc[NUM_XGMI_LINKS];
	uint64_t firmware_timestamp;
	uint16_t current_gfxclk[MAX_GFX_CLKS];
	uint16_t current_socclk[MAX_CLKS];
	uint16_t current_vclk0[MAX_CLKS];
	uint16_t current_dclk0[MAX_CLKS];
	uint16_t current_uclk;
	uint16_t num_partition;
	struct amdgpu_xcp_metrics xcp_stats[NUM_XCP];
	uint32_t pcie_lc_perf_other_end_recovery;
};

/* v1_7 and v1_8 differ only in the type of xcp_stats[] */
#define GPU_METRICS_V1_7_BODY(XCP_TYPE)                                                            \
	struct metrics_table_header common_header;                                                 \
	uint16_t temperature_hotspot;                                                              \
	uint16_t temperature_mem;                                                                  \
	uint16_t temperature_vrsoc;                                                                \
	uint16_t curr_socket_power;                                                                \
	uint16_t average_gfx_activity;                                                             \
	uint16_t average_umc_activity;                                                             \
	uint64_t mem_max_bandwidth;                                                                \
	uint64_t energy_accumulator;                                                               \
	uint64_t system_clock_counter;                                                             \
	uint32_t accumulation_counter;                                                             \
	uint32_t prochot_residency_acc;                                                            \
	uint32_t ppt_residency_acc;                                                                \
	uint32_t socket_thm_residency_acc;                                                         \
	uint32_t vr_thm_residency_acc;                                                             \
	uint32_t hbm_thm_residency_acc;                                                            \
	uint32_t gfxclk_lock_status;                                                               \
	uint16_t pcie_link_width;                                                                  \
	uint16_t pcie_link_speed;                                                                  \
	uint16_t xgmi_link_width;                                                                  \
	uint16_t xgmi_link_speed;                                                                  \
	uint32_t gfx_activity_acc;                                                                 \
	uint32_t mem_activity_acc;                                                                 \
	uint64_t pcie_bandwidth_acc;                                                               \
	uint64_t pcie_bandwidth_inst;                                                              \
	uint64_t pcie_l0_to_recov_count_acc;                                                       \
	uint64_t pcie_replay_count_acc;                                                            \
	uint64_t pcie_replay_rover_count_acc;                                                      \
	uint32_t pcie_nak_sent_count_acc;                                                          \
	uint32_t pcie_nak_rcvd_count_acc;                                                          \
	uint64_t xgmi_read_data_acc[NUM_XGMI_LINKS];                                               \
	uint64_t xgmi_write_data_acc[NUM_XGMI_LINKS];                                              \
	uint16_t xgmi_link_status[NUM_XGMI_LINKS];                                                 \
	uint16_t padding;                                                                          \
	uint64_t firmware_timestamp;                                                               \
	uint16_t current_gfxclk[MAX_GFX_CLKS];                                                     \
	uint16_t current_socclk[MAX_CLKS];                                                         \
	uint16_t current_vclk0[MAX_CLKS];                                                          \
	uint16_t current_dclk0[MAX_CLKS];                                                          \
	uint16_t current_uclk;                                                                     \
	uint16_t num_partition;                                                                    \
	XCP_TYPE xcp_stats[NUM_XCP];                                                               \
	uint32_t pcie_lc_perf_other_end_recovery

struct gpu_metrics_v1_7 {
	GPU_METRICS_V1_7_BODY(struct amdgpu_xcp_metrics_v1_1);
};

struct gpu_metrics_v1_8 {
	GPU_METRICS_V1_7_BODY(struct amdgpu_xcp_metrics_v1_2);
};

/* xcp_metrics, format 1 content 0 */
struct amdgpu_partition_metrics_v1_0 {
	struct metrics_table_header common_header;
	uint16_t current_gfxclk[MAX_XCC];
	uint16_t current_socclk[MAX_CLKS];
	uint16_t current_vclk0[MAX_CLKS];
	uint16_t current_dclk0[MAX_CLKS];
	uint16_t current_uclk;
	uint16_t padding;
	uint32_t gfx_busy_inst[MAX_XCC];
	uint16_t jpeg_busy[NUM_JPEG_ENG_V1];
	uint16_t vcn_busy[NUM_VCN];
	uint64_t gfx_busy_acc[MAX_XCC];
	uint64_t gfx_below_host_limit_ppt_acc[MAX_XCC];
	uint64_t gfx_below_host_limit_thm_acc[MAX_XCC];
	uint64_t gfx_low_utilization_acc[MAX_XCC];
	uint64_t gfx_below_host_limit_total_acc[MAX_XCC];
};

/* The x86-64 layout of these structs is the ABI: check it against the numbers of the header. */
#define OFFSET_IS(T, m, n) _Static_assert(offsetof(T, m) == (n), #T "." #m " at " #n)
#define SIZE_IS(T, n) _Static_assert(sizeof(T) == (n), #T " is " #n " bytes")

SIZE_IS(struct metrics_table_header, 4);
OFFSET_IS(struct gpu_metrics_v1_4, temperature_hotspot, 4);
OFFSET_IS(struct gpu_metrics_v1_4, temperature_mem, 6);
OFFSET_IS(struct gpu_metrics_v1_4, temperature_vrsoc, 8);
OFFSET_IS(struct gpu_metrics_v1_4, curr_socket_power, 10);
OFFSET_IS(struct gpu_metrics_v1_4, average_gfx_activity, 12);
OFFSET_IS(struct gpu_metrics_v1_4, average_umc_activity, 14);
OFFSET_IS(struct gpu_metrics_v1_4, energy_accumulator, 24);
OFFSET_IS(struct gpu_metrics_v1_4, system_clock_counter, 32);
OFFSET_IS(struct gpu_metrics_v1_4, firmware_timestamp, 232);
OFFSET_IS(struct gpu_metrics_v1_4, current_gfxclk, 240);
OFFSET_IS(struct gpu_metrics_v1_4, current_uclk, 280);
SIZE_IS(struct gpu_metrics_v1_4, 288);
OFFSET_IS(struct gpu_metrics_v1_5, average_umc_activity, 14);
OFFSET_IS(struct gpu_metrics_v1_5, jpeg_activity, 24);
OFFSET_IS(struct gpu_metrics_v1_5, energy_accumulator, 88);
OFFSET_IS(struct gpu_metrics_v1_5, system_clock_counter, 96);
OFFSET_IS(struct gpu_metrics_v1_5, current_gfxclk, 312);
OFFSET_IS(struct gpu_metrics_v1_5, current_uclk, 352);
SIZE_IS(struct gpu_metrics_v1_5, 360);
OFFSET_IS(struct gpu_metrics_v1_6_early, energy_accumulator, 88);
OFFSET_IS(struct gpu_metrics_v1_6_early, current_gfxclk, 336);
OFFSET_IS(struct gpu_metrics_v1_6_early, current_uclk, 376);
SIZE_IS(struct gpu_metrics_v1_6_early, 384);
SIZE_IS(struct amdgpu_xcp_metrics, 168);
OFFSET_IS(struct amdgpu_xcp_metrics, jpeg_busy, 32);
OFFSET_IS(struct amdgpu_xcp_metrics, vcn_busy, 96);
OFFSET_IS(struct amdgpu_xcp_metrics, gfx_busy_acc, 104);
SIZE_IS(struct amdgpu_xcp_metrics_v1_1, 232);
OFFSET_IS(struct amdgpu_xcp_metrics_v1_1, gfx_below_host_limit_acc, 168);
SIZE_IS(struct amdgpu_xcp_metrics_v1_2, 440);
OFFSET_IS(struct amdgpu_xcp_metrics_v1_2, vcn_busy, 112);
OFFSET_IS(struct amdgpu_xcp_metrics_v1_2, gfx_busy_acc, 120);
OFFSET_IS(struct amdgpu_xcp_metrics_v1_2, gfx_below_host_limit_ppt_acc, 184);
OFFSET_IS(struct amdgpu_xcp_metrics_v1_2, gfx_below_host_limit_thm_acc, 248);
OFFSET_IS(struct amdgpu_xcp_metrics_v1_2, gfx_low_utilization_acc, 312);
OFFSET_IS(struct amdgpu_xcp_metrics_v1_2, gfx_below_host_limit_total_acc, 376);
OFFSET_IS(struct gpu_metrics_v1_6, energy_accumulator, 16);
OFFSET_IS(struct gpu_metrics_v1_6, system_clock_counter, 24);
OFFSET_IS(struct gpu_metrics_v1_6, current_gfxclk, 264);
OFFSET_IS(struct gpu_metrics_v1_6, current_uclk, 304);
OFFSET_IS(struct gpu_metrics_v1_6, num_partition, 306);
OFFSET_IS(struct gpu_metrics_v1_6, xcp_stats, 312);
OFFSET_IS(struct gpu_metrics_v1_6, pcie_lc_perf_other_end_recovery, 1656);
SIZE_IS(struct gpu_metrics_v1_6, METRICS_GPU_V1_6_SIZE);
OFFSET_IS(struct gpu_metrics_v1_7, mem_max_bandwidth, 16);
OFFSET_IS(struct gpu_metrics_v1_7, energy_accumulator, 24);
OFFSET_IS(struct gpu_metrics_v1_7, system_clock_counter, 32);
OFFSET_IS(struct gpu_metrics_v1_7, xgmi_link_status, 264);
OFFSET_IS(struct gpu_metrics_v1_7, firmware_timestamp, 288);
OFFSET_IS(struct gpu_metrics_v1_7, current_gfxclk, 296);
OFFSET_IS(struct gpu_metrics_v1_7, current_socclk, 312);
OFFSET_IS(struct gpu_metrics_v1_7, current_vclk0, 320);
OFFSET_IS(struct gpu_metrics_v1_7, current_dclk0, 328);
OFFSET_IS(struct gpu_metrics_v1_7, current_uclk, 336);
OFFSET_IS(struct gpu_metrics_v1_7, num_partition, 338);
OFFSET_IS(struct gpu_metrics_v1_7, xcp_stats, 344);
OFFSET_IS(struct gpu_metrics_v1_7, pcie_lc_perf_other_end_recovery, 2200);
SIZE_IS(struct gpu_metrics_v1_7, METRICS_GPU_V1_7_SIZE);
OFFSET_IS(struct gpu_metrics_v1_8, num_partition, 338);
OFFSET_IS(struct gpu_metrics_v1_8, xcp_stats, 344);
OFFSET_IS(struct gpu_metrics_v1_8, pcie_lc_perf_other_end_recovery, 3864);
SIZE_IS(struct gpu_metrics_v1_8, METRICS_GPU_V1_8_SIZE);
OFFSET_IS(struct amdgpu_partition_metrics_v1_0, current_uclk, 44);
OFFSET_IS(struct amdgpu_partition_metrics_v1_0, gfx_busy_inst, 48);
OFFSET_IS(struct amdgpu_partition_metrics_v1_0, jpeg_busy, 80);
OFFSET_IS(struct amdgpu_partition_metrics_v1_0, gfx_busy_acc, 168);
SIZE_IS(struct amdgpu_partition_metrics_v1_0, METRICS_XCP_V1_0_SIZE);

/*
 * Self-describing tables (gpu_metrics v1.9, partition metrics v1.1): kgd_pp_interface.h enum
 * amdgpu_metrics_attr_id / _type / _unit and AMDGPU_METRICS_ENC_ATTR(unit, type, id, inst) =
 * unit << 24 | type << 20 | id << 10 | inst, inst being the number of values.
 */
enum attr_id {
	ID_TEMPERATURE_HOTSPOT,
	ID_TEMPERATURE_MEM,
	ID_TEMPERATURE_VRSOC,
	ID_CURR_SOCKET_POWER,
	ID_AVERAGE_GFX_ACTIVITY,
	ID_AVERAGE_UMC_ACTIVITY,
	ID_MEM_MAX_BANDWIDTH,
	ID_ENERGY_ACCUMULATOR,
	ID_SYSTEM_CLOCK_COUNTER,
	ID_ACCUMULATION_COUNTER,
	ID_PROCHOT_RESIDENCY_ACC,
	ID_PPT_RESIDENCY_ACC,
	ID_SOCKET_THM_RESIDENCY_ACC,
	ID_VR_THM_RESIDENCY_ACC,
	ID_HBM_THM_RESIDENCY_ACC,
	ID_GFXCLK_LOCK_STATUS,
	ID_PCIE_LINK_WIDTH,
	ID_PCIE_LINK_SPEED,
	ID_XGMI_LINK_WIDTH,
	ID_XGMI_LINK_SPEED,
	ID_GFX_ACTIVITY_ACC,
	ID_MEM_ACTIVITY_ACC,
	ID_PCIE_BANDWIDTH_ACC,
	ID_PCIE_BANDWIDTH_INST,
	ID_PCIE_L0_TO_RECOV_COUNT_ACC,
	ID_PCIE_REPLAY_COUNT_ACC,
	ID_PCIE_REPLAY_ROVER_COUNT_ACC,
	ID_PCIE_NAK_SENT_COUNT_ACC,
	ID_PCIE_NAK_RCVD_COUNT_ACC,
	ID_XGMI_READ_DATA_ACC,
	ID_XGMI_WRITE_DATA_ACC,
	ID_XGMI_LINK_STATUS,
	ID_FIRMWARE_TIMESTAMP,
	ID_CURRENT_GFXCLK,
	ID_CURRENT_SOCCLK,
	ID_CURRENT_VCLK0,
	ID_CURRENT_DCLK0,
	ID_CURRENT_UCLK,
	ID_NUM_PARTITION,
	ID_PCIE_LC_PERF_OTHER_END_RECOVERY,
	ID_GFX_BUSY_INST,
	ID_JPEG_BUSY,
	ID_VCN_BUSY,
	ID_GFX_BUSY_ACC,
	ID_GFX_BELOW_HOST_LIMIT_PPT_ACC,
	ID_GFX_BELOW_HOST_LIMIT_THM_ACC,
	ID_GFX_LOW_UTILIZATION_ACC,
	ID_GFX_BELOW_HOST_LIMIT_TOTAL_ACC,
};

enum attr_type { T_U8, T_S8, T_U16, T_S16, T_U32, T_S32, T_U64, T_S64 };

enum attr_unit {
	U_NONE,
	U_CLOCK_1, /* MHz */
	U_TEMP_1,  /* degree Celsius */
	U_POWER_1, /* W */
	U_TIME_1,  /* ns */
	U_TIME_2,  /* 10 ns */
	U_SPEED_1, /* GT/s */
	U_SPEED_2, /* 0.1 GT/s */
	U_BW_1,	   /* GB/s */
	U_DATA_1,  /* KB */
	U_PERCENT,
};

#define ATTR_UNIT_SHIFT 24
#define ATTR_TYPE_SHIFT 20
#define ATTR_TYPE_MASK 0xfu
#define ATTR_ID_SHIFT 10
#define ATTR_ID_MASK 0x3ffu
#define ATTR_INST_MASK 0x3ffu

/* structure_size is a uint16_t: no table is longer */
#define METRICS_LEN_MAX 0xffff
/* the longest table this file writes (v1_8) */
#define METRICS_ENCODE_MAX 4096

/* ---- mapping tables ---------------------------------------------------------------------- */

/* A field of the decoded struct (mipart_gpu_metrics or mipart_xcp_metrics): int or int64_t. */
struct dst {
	uint16_t off;
	uint8_t width; /* sizeof(int) or sizeof(int64_t); 0: not decoded */
	uint8_t count;
};

/* A field of a fixed layout: count values of width bytes at byte offset src. */
struct fixed_field {
	uint16_t src;
	uint8_t width;
	uint8_t count;
	struct dst dst;
};

/* An attribute of a self-describing table, as the kernel writes it. */
struct attr {
	uint8_t id, unit, type, count;
	struct dst dst;
};

struct layout {
	uint8_t format, content;
	uint16_t size;			  /* fixed layouts; 0 for self-describing ones */
	const struct fixed_field *fields; /* fixed layouts */
	const struct attr *attrs;	  /* self-describing: the kernel's emission order */
	size_t n;
};

/* clang-format off */
#define MEMBER(T, m) (((T *)0)->m)
#define DST_NONE { 0, 0, 0 }
#define DST_S(D, m) { offsetof(D, m), sizeof(MEMBER(D, m)), 1 }
#define DST_A(D, m) { offsetof(D, m), sizeof(MEMBER(D, m)[0]), ARRAY_SIZE(MEMBER(D, m)) }
#define FIX_S(T, m, D, dm) { offsetof(T, m), sizeof(MEMBER(T, m)), 1, DST_S(D, dm) }
#define FIX_A(T, m, D, dm)                                                                         \
	{ offsetof(T, m), sizeof(MEMBER(T, m)[0]), ARRAY_SIZE(MEMBER(T, m)), DST_A(D, dm) }
#define ATTR(id, unit, type, count, dst) { ID_##id, U_##unit, T_##type, count, dst }

#define G mipart_gpu_metrics
#define X mipart_xcp_metrics

/* Offsets 0-15 are the same in v1_4..v1_8; the rest by name. */
#define GPU_FIXED_COMMON(T)                                                                        \
	FIX_S(T, temperature_hotspot, G, temperature_hotspot_c),                                   \
	FIX_S(T, temperature_mem, G, temperature_mem_c),                                           \
	FIX_S(T, temperature_vrsoc, G, temperature_vrsoc_c),                                       \
	FIX_S(T, curr_socket_power, G, socket_power_w),                                            \
	FIX_S(T, average_gfx_activity, G, gfx_activity_pct),                                       \
	FIX_S(T, average_umc_activity, G, umc_activity_pct),                                       \
	FIX_S(T, energy_accumulator, G, energy_accumulator),                                       \
	FIX_S(T, system_clock_counter, G, system_clock_counter_ns),                                \
	FIX_A(T, current_gfxclk, G, gfxclk_mhz), FIX_S(T, current_uclk, G, uclk_mhz)

#define GPU_FIXED_XCP(T, i)                                                                        \
	FIX_A(T, xcp_stats[i].gfx_busy_inst, G, xcp_busy_pct[i]),                                  \
	FIX_A(T, xcp_stats[i].gfx_busy_acc, G, xcp_busy_acc[i])

#define GPU_FIXED_PARTITIONS(T)                                                                    \
	FIX_S(T, num_partition, G, num_partition), GPU_FIXED_XCP(T, 0), GPU_FIXED_XCP(T, 1),       \
	GPU_FIXED_XCP(T, 2), GPU_FIXED_XCP(T, 3), GPU_FIXED_XCP(T, 4), GPU_FIXED_XCP(T, 5),        \
	GPU_FIXED_XCP(T, 6), GPU_FIXED_XCP(T, 7)

static const struct fixed_field gpu_v1_4[] = { GPU_FIXED_COMMON(struct gpu_metrics_v1_4) };
static const struct fixed_field gpu_v1_5[] = { GPU_FIXED_COMMON(struct gpu_metrics_v1_5) };
static const struct fixed_field gpu_v1_6_early[] = {
	GPU_FIXED_COMMON(struct gpu_metrics_v1_6_early),
};
static const struct fixed_field gpu_v1_6[] = {
	GPU_FIXED_COMMON(struct gpu_metrics_v1_6),
	GPU_FIXED_PARTITIONS(struct gpu_metrics_v1_6),
};
static const struct fixed_field gpu_v1_7[] = {
	GPU_FIXED_COMMON(struct gpu_metrics_v1_7),
	GPU_FIXED_PARTITIONS(struct gpu_metrics_v1_7),
};
static const struct fixed_field gpu_v1_8[] = {
	GPU_FIXED_COMMON(struct gpu_metrics_v1_8),
	GPU_FIXED_PARTITIONS(struct gpu_metrics_v1_8),
};

static const struct fixed_field xcp_v1_0[] = {
	FIX_A(struct amdgpu_partition_metrics_v1_0, current_gfxclk, X, gfxclk_mhz),
	FIX_S(struct amdgpu_partition_metrics_v1_0, current_uclk, X, uclk_mhz),
	FIX_A(struct amdgpu_partition_metrics_v1_0, gfx_busy_inst, X, busy_pct),
	FIX_A(struct amdgpu_partition_metrics_v1_0, gfx_busy_acc, X, busy_acc),
};

/*
 * gpu_metrics v1.9: SMU_13_0_6_METRICS_FIELDS of smu_v13_0_6_ppt.h, in order (filled by
 * smu_v13_0_6_get_gpu_metrics and smu_v13_0_12_get_gpu_metrics). GFX_BUSY_INST and the other
 * per-XCC arrays are indexed by the GPU's XCC (i < NUM_XCC(adev->gfx.xcc_mask)), not by
 * partition; there is no NUM_PARTITION.
 */
static const struct attr gpu_v1_9[] = {
	ATTR(TEMPERATURE_HOTSPOT, TEMP_1, U16, 1, DST_S(G, temperature_hotspot_c)),
	ATTR(TEMPERATURE_MEM, TEMP_1, U16, 1, DST_S(G, temperature_mem_c)),
	ATTR(TEMPERATURE_VRSOC, TEMP_1, U16, 1, DST_S(G, temperature_vrsoc_c)),
	ATTR(CURR_SOCKET_POWER, POWER_1, U16, 1, DST_S(G, socket_power_w)),
	ATTR(AVERAGE_GFX_ACTIVITY, PERCENT, U16, 1, DST_S(G, gfx_activity_pct)),
	ATTR(AVERAGE_UMC_ACTIVITY, PERCENT, U16, 1, DST_S(G, umc_activity_pct)),
	ATTR(MEM_MAX_BANDWIDTH, BW_1, U64, 1, DST_NONE),
	ATTR(ENERGY_ACCUMULATOR, NONE, U64, 1, DST_S(G, energy_accumulator)),
	ATTR(SYSTEM_CLOCK_COUNTER, TIME_1, U64, 1, DST_S(G, system_clock_counter_ns)),
	ATTR(ACCUMULATION_COUNTER, NONE, U32, 1, DST_NONE),
	ATTR(PROCHOT_RESIDENCY_ACC, NONE, U32, 1, DST_NONE),
	ATTR(PPT_RESIDENCY_ACC, NONE, U32, 1, DST_NONE),
	ATTR(SOCKET_THM_RESIDENCY_ACC, NONE, U32, 1, DST_NONE),
	ATTR(VR_THM_RESIDENCY_ACC, NONE, U32, 1, DST_NONE),
	ATTR(HBM_THM_RESIDENCY_ACC, NONE, U32, 1, DST_NONE),
	ATTR(GFXCLK_LOCK_STATUS, NONE, U32, 1, DST_NONE),
	ATTR(PCIE_LINK_WIDTH, NONE, U16, 1, DST_NONE),
	ATTR(PCIE_LINK_SPEED, SPEED_2, U16, 1, DST_NONE),
	ATTR(XGMI_LINK_WIDTH, NONE, U16, 1, DST_NONE),
	ATTR(XGMI_LINK_SPEED, SPEED_1, U16, 1, DST_NONE),
	ATTR(GFX_ACTIVITY_ACC, PERCENT, U32, 1, DST_NONE),
	ATTR(MEM_ACTIVITY_ACC, PERCENT, U32, 1, DST_NONE),
	ATTR(PCIE_BANDWIDTH_ACC, PERCENT, U64, 1, DST_NONE), /* PERCENT as in the kernel */
	ATTR(PCIE_BANDWIDTH_INST, BW_1, U64, 1, DST_NONE),
	ATTR(PCIE_L0_TO_RECOV_COUNT_ACC, NONE, U64, 1, DST_NONE),
	ATTR(PCIE_REPLAY_COUNT_ACC, NONE, U64, 1, DST_NONE),
	ATTR(PCIE_REPLAY_ROVER_COUNT_ACC, NONE, U64, 1, DST_NONE),
	ATTR(PCIE_NAK_SENT_COUNT_ACC, NONE, U32, 1, DST_NONE),
	ATTR(PCIE_NAK_RCVD_COUNT_ACC, NONE, U32, 1, DST_NONE),
	ATTR(XGMI_READ_DATA_ACC, DATA_1, U64, NUM_XGMI_LINKS, DST_NONE),
	ATTR(XGMI_WRITE_DATA_ACC, DATA_1, U64, NUM_XGMI_LINKS, DST_NONE),
	ATTR(XGMI_LINK_STATUS, NONE, U16, NUM_XGMI_LINKS, DST_NONE),
	ATTR(FIRMWARE_TIMESTAMP, TIME_2, U64, 1, DST_NONE),
	ATTR(CURRENT_GFXCLK, CLOCK_1, U16, MAX_GFX_CLKS, DST_A(G, gfxclk_mhz)),
	ATTR(CURRENT_SOCCLK, CLOCK_1, U16, MAX_CLKS, DST_NONE),
	ATTR(CURRENT_VCLK0, CLOCK_1, U16, MAX_CLKS, DST_NONE),
	ATTR(CURRENT_DCLK0, CLOCK_1, U16, MAX_CLKS, DST_NONE),
	ATTR(CURRENT_UCLK, CLOCK_1, U16, 1, DST_S(G, uclk_mhz)),
	ATTR(PCIE_LC_PERF_OTHER_END_RECOVERY, NONE, U32, 1, DST_NONE),
	ATTR(GFX_BUSY_INST, PERCENT, U32, MAX_XCC, DST_A(G, gfx_busy_pct)),
	ATTR(JPEG_BUSY, PERCENT, U16, NUM_JPEG_ENG_V1, DST_NONE),
	ATTR(VCN_BUSY, PERCENT, U16, NUM_VCN, DST_NONE),
	ATTR(GFX_BUSY_ACC, PERCENT, U64, MAX_XCC, DST_A(G, gfx_busy_acc)),
	ATTR(GFX_BELOW_HOST_LIMIT_PPT_ACC, NONE, U64, MAX_XCC, DST_NONE),
	ATTR(GFX_BELOW_HOST_LIMIT_THM_ACC, NONE, U64, MAX_XCC, DST_NONE),
	ATTR(GFX_LOW_UTILIZATION_ACC, NONE, U64, MAX_XCC, DST_NONE),
	ATTR(GFX_BELOW_HOST_LIMIT_TOTAL_ACC, NONE, U64, MAX_XCC, DST_NONE),
};

/*
 * Partition metrics v1.1: SMU_13_0_6_PARTITION_METRICS_FIELDS of smu_v13_0_6_ppt.h, in order
 * (filled by smu_v13_0_6_get_xcp_metrics: entry idx of the per-XCC arrays is the partition's
 * idx-th XCC, the others stay all ones).
 */
static const struct attr xcp_v1_1[] = {
	ATTR(CURRENT_GFXCLK, CLOCK_1, U16, MAX_XCC, DST_A(X, gfxclk_mhz)),
	ATTR(CURRENT_SOCCLK, CLOCK_1, U16, MAX_CLKS, DST_NONE),
	ATTR(CURRENT_VCLK0, CLOCK_1, U16, MAX_CLKS, DST_NONE),
	ATTR(CURRENT_DCLK0, CLOCK_1, U16, MAX_CLKS, DST_NONE),
	ATTR(CURRENT_UCLK, CLOCK_1, U16, 1, DST_S(X, uclk_mhz)),
	ATTR(GFX_BUSY_INST, PERCENT, U32, MAX_XCC, DST_A(X, busy_pct)),
	ATTR(JPEG_BUSY, PERCENT, U16, NUM_JPEG_ENG_V1, DST_NONE),
	ATTR(VCN_BUSY, PERCENT, U16, NUM_VCN, DST_NONE),
	ATTR(GFX_BUSY_ACC, PERCENT, U64, MAX_XCC, DST_A(X, busy_acc)),
	ATTR(GFX_BELOW_HOST_LIMIT_PPT_ACC, NONE, U64, MAX_XCC, DST_NONE),
	ATTR(GFX_BELOW_HOST_LIMIT_THM_ACC, NONE, U64, MAX_XCC, DST_NONE),
	ATTR(GFX_LOW_UTILIZATION_ACC, NONE, U64, MAX_XCC, DST_NONE),
	ATTR(GFX_BELOW_HOST_LIMIT_TOTAL_ACC, NONE, U64, MAX_XCC, DST_NONE),
};

#undef G
#undef X

#define FIXED(c, T, f) { 1, c, sizeof(T), f, NULL, ARRAY_SIZE(f) }
#define DYNAMIC(c, a) { 1, c, 0, NULL, a, ARRAY_SIZE(a) }

/* gpu_metrics of SMU 13.0.6/13.0.12/13.0.14 (smu_v13_0_6_ppt.c: smu_v13_0_6_get_gpu_metrics) */
static const struct layout gpu_layouts[] = {
	FIXED(4, struct gpu_metrics_v1_4, gpu_v1_4),
	FIXED(5, struct gpu_metrics_v1_5, gpu_v1_5),
	FIXED(6, struct gpu_metrics_v1_6_early, gpu_v1_6_early),
	FIXED(6, struct gpu_metrics_v1_6, gpu_v1_6),
	FIXED(7, struct gpu_metrics_v1_7, gpu_v1_7),
	FIXED(8, struct gpu_metrics_v1_8, gpu_v1_8),
	DYNAMIC(9, gpu_v1_9),
};

/* xcp_metrics (smu_v13_0_6_ppt.c: smu_v13_0_6_get_xcp_metrics) */
static const struct layout xcp_layouts[] = {
	FIXED(0, struct amdgpu_partition_metrics_v1_0, xcp_v1_0),
	DYNAMIC(1, xcp_v1_1),
};

/* clang-format on */

_Static_assert(sizeof(int) == 4, "int fields are 4 bytes");

/* ---- values -------------------------------------------------------------------------- */

static uint64_t get_le(const uint8_t *p, unsigned width)
{
	uint64_t v = 0;

	for (unsigned i = width; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static void put_le(uint8_t *p, unsigned width, uint64_t v)
{
	for (unsigned i = 0; i < width; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t all_ones(unsigned width)
{
	return width >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * width)) - 1;
}

static unsigned type_width(unsigned type)
{
	return 1u << (type / 2); /* U8 S8 U16 S16 U32 S32 U64 S64 */
}

static bool type_signed(unsigned type)
{
	return type & 1;
}

/* A table value as a number: all ones (not available) and what int64_t cannot hold are -1. */
static int64_t value_of(uint64_t raw, unsigned width, bool is_signed)
{
	if (raw == all_ones(width))
		return -1;
	if (is_signed && width < 8 && (raw >> (8 * width - 1)))
		return (int64_t)(raw | ~all_ones(width)); /* sign-extend */
	if (!is_signed && raw > INT64_MAX)
		return -1;
	return (int64_t)raw;
}

static void dst_set(void *obj, const struct dst *d, unsigned k, int64_t v)
{
	uint8_t *p = (uint8_t *)obj + d->off + (size_t)k * d->width;

	if (d->width == sizeof(int)) {
		int i = v >= INT_MIN && v <= INT_MAX ? (int)v : -1;

		memcpy(p, &i, sizeof(i));
	} else {
		memcpy(p, &v, sizeof(v));
	}
}

static int64_t dst_get(const void *obj, const struct dst *d, unsigned k)
{
	const uint8_t *p = (const uint8_t *)obj + d->off + (size_t)k * d->width;
	int64_t v;
	int i;

	if (d->width == sizeof(int)) {
		memcpy(&i, p, sizeof(i));
		return i;
	}
	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * The bytes of v for a table field of width bytes: -1 is all ones; a value that is negative
 * for an unsigned field, out of range, or all ones itself (it would read back as -1) is -EINVAL.
 */
static int encode_value(int64_t v, unsigned width, bool is_signed, uint64_t *ret)
{
	uint64_t ones = all_ones(width);

	if (v == -1) {
		*ret = ones;
		return 0;
	}
	if (is_signed) {
		int64_t max = width >= 8 ? INT64_MAX : (int64_t)(ones >> 1);

		if (v > max || v < -max - 1)
			return -EINVAL;
		*ret = (uint64_t)v & ones;
		return 0;
	}
	if (v < 0 || (uint64_t)v >= ones)
		return -EINVAL;
	*ret = (uint64_t)v;
	return 0;
}

/* ---- decoding ------------------------------------------------------------------------ */

static int decode_fixed(const struct layout *l, const uint8_t *p, void *obj)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct fixed_field *f = &l->fields[i];
		unsigned n = f->count < f->dst.count ? f->count : f->dst.count;

		for (unsigned k = 0; k < n; k++) {
			uint64_t raw = get_le(p + f->src + (size_t)k * f->width, f->width);

			dst_set(obj, &f->dst, k, value_of(raw, f->width, false));
		}
	}
	return 0;
}

static const struct attr *find_attr(const struct layout *l, unsigned id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->attrs[i].id == id)
			return &l->attrs[i];
	return NULL;
}

/*
 * header, int attr_count, then attr_count times { u64 ftype; values } packed (smu_cmn.h:
 * DECLARE_SMU_METRICS_CLASS, a __packed struct). Fields in any order; an id this file does not
 * know is skipped; a repeated id replaces what the earlier one said.
 */
static int decode_dynamic(const struct layout *l, const uint8_t *p, size_t len, void *obj)
{
	size_t off = sizeof(struct metrics_table_header) + 4;
	uint32_t count;

	if (len < off)
		return -EBADMSG;
	count = (uint32_t)get_le(p + 4, 4);
	/* int attr_count; every field takes at least 9 bytes */
	if (count > INT32_MAX || count > (len - off) / 9)
		return -EBADMSG;
	for (uint32_t i = 0; i < count; i++) {
		uint64_t ftype;
		unsigned type, id, inst, width;
		const struct attr *a;

		if (len - off < 8)
			return -EBADMSG;
		ftype = get_le(p + off, 8);
		off += 8;
		type = (unsigned)(ftype >> ATTR_TYPE_SHIFT) & ATTR_TYPE_MASK;
		id = (unsigned)(ftype >> ATTR_ID_SHIFT) & ATTR_ID_MASK;
		inst = (unsigned)ftype & ATTR_INST_MASK;
		if (type > T_S64 || inst == 0)
			return -EBADMSG;
		width = type_width(type);
		if ((len - off) / width < inst)
			return -EBADMSG;
		a = find_attr(l, id);
		/* a repeated id: the last one wins, also for the values it does not give */
		for (unsigned k = 0; a && a->dst.width && k < a->dst.count; k++) {
			int64_t v = -1;

			if (k < inst)
				v = value_of(get_le(p + off + (size_t)k * width, width), width,
					     type_signed(type));
			dst_set(obj, &a->dst, k, v);
		}
		off += (size_t)inst * width;
	}
	return off == len ? 0 : -EBADMSG;
}

/* Check the header, pick the layout, decode into obj (whose fields are preset to -1). */
static int decode(const struct layout *layouts, size_t n_layouts, const void *buf, size_t len,
		  void *obj)
{
	const uint8_t *p = buf;
	const struct layout *l = NULL;
	unsigned size, format, content;
	bool known = false;

	if (!buf || len < sizeof(struct metrics_table_header) || len > METRICS_LEN_MAX)
		return -EBADMSG;
	size = (unsigned)get_le(p, 2);
	format = p[2];
	content = p[3];
	for (size_t i = 0; i < n_layouts; i++) {
		if (layouts[i].format != format || layouts[i].content != content)
			continue;
		known = true;
		if (!layouts[i].size || layouts[i].size == size)
			l = &layouts[i];
	}
	if (!known)
		return -EPROTO;
	if (!l || size != len)
		return -EBADMSG;
	return l->size ? decode_fixed(l, p, obj) : decode_dynamic(l, p, len, obj);
}

int mipart_gpu_metrics_parse(const void *buf, size_t len, mipart_gpu_metrics *ret)
{
	mipart_gpu_metrics m;
	int r;

	memset(&m, 0xff, sizeof(m)); /* every int and int64_t field -1 */
	r = decode(gpu_layouts, ARRAY_SIZE(gpu_layouts), buf, len, &m);
	if (r < 0)
		return r;
	m.format_revision = ((const uint8_t *)buf)[2];
	m.content_revision = ((const uint8_t *)buf)[3];
	*ret = m;
	return 0;
}

int mipart_xcp_metrics_parse(const void *buf, size_t len, mipart_xcp_metrics *ret)
{
	mipart_xcp_metrics m;
	int r;

	memset(&m, 0xff, sizeof(m));
	r = decode(xcp_layouts, ARRAY_SIZE(xcp_layouts), buf, len, &m);
	if (r < 0)
		return r;
	m.format_revision = ((const uint8_t *)buf)[2];
	m.content_revision = ((const uint8_t *)buf)[3];
	*ret = m;
	return 0;
}

/* ---- helpers ------------------------------------------------------------------------- */

static int busy_average(const int *pct, unsigned n)
{
	unsigned sum = 0, valid = 0;

	for (unsigned i = 0; i < n; i++) {
		if (pct[i] < 0)
			continue;
		sum += pct[i] > 100 ? 100u : (unsigned)pct[i];
		valid++;
	}
	return valid ? (int)((sum + valid / 2) / valid) : -1;
}

int mipart_gpu_metrics_xcp_busy(const mipart_gpu_metrics *m, unsigned xcp)
{
	if (!m || xcp >= MIPART_METRICS_XCP_MAX)
		return -1;
	if (m->num_partition >= 0 && xcp >= (unsigned)m->num_partition)
		return -1;
	return busy_average(m->xcp_busy_pct[xcp], MIPART_METRICS_XCC_MAX);
}

int mipart_xcp_metrics_busy(const mipart_xcp_metrics *m)
{
	return m ? busy_average(m->busy_pct, MIPART_METRICS_XCC_MAX) : -1;
}

/* ---- encoding ------------------------------------------------------------------------ */

static size_t dynamic_size(const struct layout *l)
{
	size_t size = sizeof(struct metrics_table_header) + 4;

	for (size_t i = 0; i < l->n; i++)
		size += 8 + (size_t)l->attrs[i].count * type_width(l->attrs[i].type);
	return size;
}

static int encode_fixed(const struct layout *l, const void *obj, uint8_t *p)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct fixed_field *f = &l->fields[i];
		unsigned n = f->count < f->dst.count ? f->count : f->dst.count;

		for (unsigned k = 0; k < n; k++) {
			uint64_t raw;

			if (encode_value(dst_get(obj, &f->dst, k), f->width, false, &raw) < 0)
				return -EINVAL;
			put_le(p + f->src + (size_t)k * f->width, f->width, raw);
		}
	}
	return 0;
}

static int encode_dynamic(const struct layout *l, const void *obj, uint8_t *p)
{
	size_t off = sizeof(struct metrics_table_header);

	put_le(p + off, 4, l->n);
	off += 4;
	for (size_t i = 0; i < l->n; i++) {
		const struct attr *a = &l->attrs[i];
		unsigned width = type_width(a->type);

		put_le(p + off, 8,
		       (uint64_t)a->unit << ATTR_UNIT_SHIFT | (uint64_t)a->type << ATTR_TYPE_SHIFT |
			   (uint64_t)a->id << ATTR_ID_SHIFT | a->count);
		off += 8;
		for (unsigned k = 0; k < a->count; k++, off += width) {
			int64_t v =
			    a->dst.width && k < a->dst.count ? dst_get(obj, &a->dst, k) : -1;
			uint64_t raw;

			if (encode_value(v, width, type_signed(a->type), &raw) < 0)
				return -EINVAL;
			put_le(p + off, width, raw);
		}
	}
	return 0;
}

static int encode(const struct layout *layouts, size_t n_layouts, unsigned content, const void *obj,
		  void *ret_buf, size_t size)
{
	const struct layout *l = NULL;
	uint8_t table[METRICS_ENCODE_MAX];
	size_t len;
	int r;

	/* the last layout of a revision is the one the kernel writes today (v1_6: 1664 bytes) */
	for (size_t i = 0; i < n_layouts; i++)
		if (layouts[i].content == content)
			l = &layouts[i];
	if (!l)
		return -EINVAL;
	len = l->size ? l->size : dynamic_size(l);
	if (len > sizeof(table))
		return -EINVAL;
	if (!ret_buf || size < len)
		return -ENOSPC;
	/* smu_cmn_init_soft_gpu_metrics / <class>_init: all 0xFF, then the header */
	memset(table, 0xff, len);
	put_le(table, 2, len);
	table[2] = l->format;
	table[3] = l->content;
	r = l->size ? encode_fixed(l, obj, table) : encode_dynamic(l, obj, table);
	if (r < 0)
		return r;
	memcpy(ret_buf, table, len);
	return (int)len;
}

/*
 * v1.9 has no partition data, only GFX_BUSY_* of the GPU's XCCs: when m gives none, take the
 * valid per-partition entries in partition order (partition x owns XCCs x*n..x*n+n-1:
 * aqua_vanjaram.c, XCP_INST_MASK).
 */
static void busy_from_partitions(mipart_gpu_metrics *t)
{
	bool pct = true, acc = true;
	unsigned np = 0, na = 0;

	for (unsigned k = 0; k < MIPART_METRICS_XCC_MAX; k++) {
		pct &= t->gfx_busy_pct[k] == -1;
		acc &= t->gfx_busy_acc[k] == -1;
	}
	for (unsigned x = 0; x < MIPART_METRICS_XCP_MAX; x++) {
		for (unsigned k = 0; k < MIPART_METRICS_XCC_MAX; k++) {
			if (pct && t->xcp_busy_pct[x][k] != -1 && np < MIPART_METRICS_XCC_MAX)
				t->gfx_busy_pct[np++] = t->xcp_busy_pct[x][k];
			if (acc && t->xcp_busy_acc[x][k] != -1 && na < MIPART_METRICS_XCC_MAX)
				t->gfx_busy_acc[na++] = t->xcp_busy_acc[x][k];
		}
	}
}

int metrics_encode_gpu(const mipart_gpu_metrics *m, unsigned content_revision, void *ret_buf,
		       size_t size)
{
	mipart_gpu_metrics t;

	if (!m)
		return -EINVAL;
	t = *m;
	if (content_revision == 9)
		busy_from_partitions(&t);
	return encode(gpu_layouts, ARRAY_SIZE(gpu_layouts), content_revision, &t, ret_buf, size);
}

int metrics_encode_xcp(const mipart_xcp_metrics *m, unsigned content_revision, void *ret_buf,
		       size_t size)
{
	if (!m)
		return -EINVAL;
	return encode(xcp_layouts, ARRAY_SIZE(xcp_layouts), content_revision, m, ret_buf, size);
}
