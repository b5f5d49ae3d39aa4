/* feasibility.c - does a deployment fit in GPU memory?
 *
 * Memory per GPU of a configuration (tp x pp GPUs, batch sequences holding
 * `tokens` tokens each on average; select uses s_in + s_out / 2: with
 * continuous batching each running sequence is on average half-way through
 * its output):
 *
 *   weights = weight_bytes / (tp * pp)
 *   kv      = batch * tokens * (kv_layers / pp) * kv_values * kv_dtype_bytes
 *             * max(1 / tp, 1 / kv_heads)
 *
 * where kv_values = 2 * kv_heads * head_dim (K and V) unless the model
 * states it (multi-head latent attention caches one compressed vector), and
 * KV heads are split across TP ranks until there are fewer heads than ranks
 * (vLLM then replicates them). It must fit in util * memory of one GPU
 * (vLLM's gpu_memory_utilization, default 0.9; activations and CUDA graphs
 * come out of the rest). weight_bytes is the model's stated checkpoint size,
 * or parameters x bytes per parameter of its quantization.
 *
 * Two reasons a configuration does not fit: the weights alone exceed the
 * budget (the server cannot start), or the KV cache of `batch` sequences of
 * the workload's length does not fit (the engine would run at a smaller
 * batch than configured, so a prediction at that batch describes a
 * configuration that does not exist).
 *
 * Data parallelism (dp replicas) and expert parallelism (the routed
 * experts split over ep GPUs) are el_memory_estimate_dp.
 *
 * Check on the shipped ML.ENERGY v3 data (838 measured configurations, 16
 * of them data-parallel runs of a 480B model with its experts spread over 4
 * or 8 GPUs; s_in = 1 as the files carry no input lengths;
 * test_memory_agrees_with_measurements): all hold their weights and 831 fit
 * with their KV cache; of the 7 that do not, 3 ran with a mean batch below
 * 90% of the configured one (the KV cache was full). */
#include "model_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "../core/banned.h"

#define GIB                  1073741824.0
#define MODEL_INFO_MAX_BYTES (1u << 20)

/* ---- GPUs -------------------------------------------------------------------
 * Memory per device as the vendor's datasheet states it, in GiB: HBM is
 * built from stacks of 8, 16 or 24 GiB (80 GB = 5 x 16 GiB), and drivers
 * report about this much (nvidia-smi shows 81559 MiB on an H100 80GB, the
 * rest reserved). MI250 is two dies that ROCm shows as two 64 GB devices:
 * one vLLM GPU is one of them. */
struct gpu_entry {
    const char *name;    /* canonical */
    const char *aliases; /* '|'-separated, compared after normalising */
    double gib;
    const char *source;
};

static const struct gpu_entry gpus[] = {
    {"A100-40GB", "a100-40|a100 40gb|a100-sxm4-40gb|a100-pcie-40gb|a10040gb", 40,
     "NVIDIA A100 Tensor Core GPU datasheet (2021): 40GB HBM2"},
    {"A100-80GB", "a100|a100-80|a100 80gb|a100-sxm4-80gb|a100-pcie-80gb|a10080gb", 80,
     "NVIDIA A100 Tensor Core GPU datasheet (2021): 80GB HBM2e"},
    {"H100-80GB", "h100|h100-80|h100 sxm|h100-sxm|h100-sxm5-80gb|h100 80gb hbm3|h100-pcie", 80,
     "NVIDIA H100 Tensor Core GPU datasheet (2023): H100 SXM and PCIe 80GB"},
    {"H100-NVL", "h100 nvl|h100-nvl-94gb|h100nvl", 94,
     "NVIDIA H100 Tensor Core GPU datasheet (2023): H100 NVL 94GB"},
    {"H200-141GB", "h200|h200-141|h200 sxm|h200-nvl", 141,
     "NVIDIA H200 Tensor Core GPU product page and datasheet (2024): 141GB HBM3e"},
    {"B200-180GB", "b200|b200-180|dgx b200|hgx b200", 180,
     "NVIDIA DGX B200 datasheet (2024): 1,440GB total GPU memory for 8 GPUs = 180GB each"},
    {"B200-192GB", "b200-192", 192,
     "NVIDIA Blackwell announcement, GTC 2024: B200 with 192GB HBM3e (full part)"},
    {"GH200-96GB", "gh200|gh200-96|gh200 480gb", 96,
     "NVIDIA GH200 Grace Hopper Superchip datasheet (2023): 96GB HBM3 GPU memory"},
    {"GH200-144GB", "gh200-144|gh200 624gb", 144,
     "NVIDIA GH200 Grace Hopper Superchip datasheet (2024): 144GB HBM3e GPU memory"},
    {"MI250", "mi250|mi250x|instinct mi250|amd instinct mi250", 64,
     "AMD Instinct MI250 datasheet: 128GB HBM2e per module, two GCDs of 64GB, each a ROCm device"},
    {"MI300X", "mi300x|instinct mi300x|amd instinct mi300x", 192,
     "AMD Instinct MI300X datasheet (2023): 192GB HBM3"},
    {"Max-1550", "max 1550|max1550|intel max 1550|data center gpu max 1550|pvc", 128,
     "Intel Data Center GPU Max 1550 product brief (2023): 128GB HBM2e"},
    {"Gaudi2", "gaudi 2|gaudi2|hl-225|intel gaudi 2", 96,
     "Intel Gaudi 2 (Habana) white paper (2022): 96GB HBM2e"},
    {"Gaudi3", "gaudi 3|gaudi3|hl-325|intel gaudi 3", 128,
     "Intel Gaudi 3 AI accelerator white paper (2024): 128GB HBM2e"},
    {"L40S", "l40s", 48, "NVIDIA L40S datasheet (2023): 48GB GDDR6"},
};

/* Lower case, '_' and ' ' as '-'; "nvidia " and a trailing " gb" kept as is. */
static void norm(const char *in, char *out, size_t len)
{
    size_t j = 0;
    if (strncasecmp(in, "nvidia ", 7) == 0)
        in += 7;
    for (; *in && j + 1 < len; in++) {
        char c = (char)tolower((unsigned char)*in);
        out[j++] = (char)(c == '_' ? '-' : c);
    }
    out[j] = '\0';
}

static int alias_match(const char *aliases, const char *want)
{
    char a[64];
    for (const char *p = aliases; *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n < sizeof a) {
            memcpy(a, p, n);
            a[n] = '\0';
            if (strcmp(a, want) == 0)
                return 1;
        }
        p += n + (bar ? 1 : 0);
    }
    return 0;
}

size_t el_gpu_count(void)
{
    return sizeof gpus / sizeof gpus[0];
}

el_status el_gpu_info(size_t k, const char **name, double *bytes, const char **source)
{
    if (k >= el_gpu_count())
        return EL_ERR_INVALID_ARG;
    if (name)
        *name = gpus[k].name;
    if (bytes)
        *bytes = gpus[k].gib * GIB;
    if (source)
        *source = gpus[k].source;
    return EL_OK;
}

el_status el_gpu_lookup(const char *name, size_t *k)
{
    if (!name || !k)
        return EL_ERR_INVALID_ARG;
    char want[96], canon[96];
    norm(name, want, sizeof want);
    /* "H100 NVL (inferred from ...)": the part before " (" names the GPU. */
    char *paren = strstr(want, " (");
    if (paren)
        *paren = '\0';
    for (size_t i = 0; i < el_gpu_count(); i++) {
        norm(gpus[i].name, canon, sizeof canon);
        if (strcmp(canon, want) == 0 || alias_match(gpus[i].aliases, want)) {
            *k = i;
            return EL_OK;
        }
    }
    return EL_ERR_MISSING;
}

/* ---- quantizations ---------------------------------------------------------- */

double el_quant_bytes(const char *quant)
{
    static const struct {
        const char *name;
        double bytes;
    } q[] = {
        {"bfloat16", 2},
        {"bf16", 2},
        {"float16", 2},
        {"fp16", 2},
        {"half", 2},
        {"float32", 4},
        {"fp32", 4},
        {"fp8", 1},
        {"int8", 1},
        {"w8a8", 1},
        {"fp8_e4m3", 1},
        {"nvfp4", 0.5625},
        {"int4", 0.5625},
        {"awq", 0.5625},
        {"gptq", 0.5625},
        /* 4-bit values plus one 8-bit scale per 32: 4.25 bits */
        {"mxfp4", 0.53125},
    };
    if (!quant)
        return 0;
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
        if (strcasecmp(q[i].name, quant) == 0)
            return q[i].bytes;
    return 0;
}

/* ---- built-in model facts -----------------------------------------------------
 * Architecture facts from each model's config.json on Hugging Face
 * (num_hidden_layers, num_key_value_heads, head_dim or hidden_size /
 * num_attention_heads; for MLA kv_lora_rank + qk_rope_head_dim; for hybrid
 * models the number of attention layers). Parameter counts: the ML.ENERGY
 * v3 leaderboard's total_params_billions (data/mlenergy_v3) or the model
 * card. Checkpoint sizes (weight_gb) where the quantization leaves part of
 * the model in 16 bits, from the size of the published safetensors. */
struct model_entry {
    const char *name;
    double params_b, weight_gb;
    const char *quant;
    double kv_layers, kv_heads, head_dim, kv_values;
    const char *source;
};

#define QWEN3_MOE_30    48, 4, 128, 0
#define QWEN3_MOE_235   94, 4, 128, 0
#define QWEN3_CODER_480 62, 8, 128, 0
#define LLAMA_70        80, 8, 128, 0

static const struct model_entry models[] = {
    {"Qwen/Qwen3-8B", 8.2, 0, "bfloat16", 36, 8, 128, 0,
     "Qwen/Qwen3-8B config.json: 36 layers, 8 KV heads, head_dim 128; 8.2B parameters"},
    {"Qwen/Qwen3-14B", 14.8, 0, "bfloat16", 40, 8, 128, 0,
     "Qwen/Qwen3-14B config.json: 40 layers, 8 KV heads, head_dim 128; 14.8B parameters"},
    {"Qwen/Qwen3-32B", 32.8, 0, "bfloat16", 64, 8, 128, 0,
     "Qwen/Qwen3-32B config.json: 64 layers, 8 KV heads, head_dim 128; 32.8B parameters"},
    {"Qwen/Qwen3-30B-A3B-Instruct-2507", 30.5, 0, "bfloat16", QWEN3_MOE_30,
     "Qwen3-30B-A3B config.json: 48 layers, 4 KV heads, head_dim 128; 30.5B parameters"},
    {"Qwen/Qwen3-30B-A3B-Thinking-2507", 30.5, 0, "bfloat16", QWEN3_MOE_30,
     "Qwen3-30B-A3B config.json: 48 layers, 4 KV heads, head_dim 128; 30.5B parameters"},
    {"Qwen/Qwen3-Coder-30B-A3B-Instruct", 30.5, 0, "bfloat16", QWEN3_MOE_30,
     "Qwen3-Coder-30B-A3B config.json: 48 layers, 4 KV heads, head_dim 128; 30.5B parameters"},
    {"Qwen/Qwen3-Omni-30B-A3B-Instruct", 35.3, 0, "bfloat16", QWEN3_MOE_30,
     "Qwen3-Omni-30B-A3B config.json (thinker): 48 layers, 4 KV heads, head_dim 128; 35.3B "
     "parameters with the audio and vision encoders and the talker (model card)"},
    {"Qwen/Qwen3-VL-8B-Instruct", 8.8, 0, "bfloat16", 36, 8, 128, 0,
     "Qwen3-VL-8B config.json (text_config): 36 layers, 8 KV heads, head_dim 128; 8.8B"},
    {"Qwen/Qwen3-VL-32B-Instruct", 33.4, 0, "bfloat16", 64, 8, 128, 0,
     "Qwen3-VL-32B config.json (text_config): 64 layers, 8 KV heads, head_dim 128; 33.4B"},
    {"Qwen/Qwen3-VL-30B-A3B-Instruct", 31.1, 0, "bfloat16", QWEN3_MOE_30,
     "Qwen3-VL-30B-A3B config.json (text_config): 48 layers, 4 KV heads, head_dim 128; 31.1B"},
    {"Qwen/Qwen3-235B-A22B-Instruct-2507", 235, 0, "bfloat16", QWEN3_MOE_235,
     "Qwen3-235B-A22B config.json: 94 layers, 4 KV heads, head_dim 128; 235B parameters"},
    {"Qwen/Qwen3-235B-A22B-Thinking-2507", 235, 0, "bfloat16", QWEN3_MOE_235,
     "Qwen3-235B-A22B config.json: 94 layers, 4 KV heads, head_dim 128; 235B parameters"},
    {"Qwen/Qwen3-235B-A22B-Instruct-2507-FP8", 235, 0, "fp8", QWEN3_MOE_235,
     "Qwen3-235B-A22B config.json: 94 layers, 4 KV heads, head_dim 128; 235B, FP8 weights"},
    {"Qwen/Qwen3-235B-A22B-Thinking-2507-FP8", 235, 0, "fp8", QWEN3_MOE_235,
     "Qwen3-235B-A22B config.json: 94 layers, 4 KV heads, head_dim 128; 235B, FP8 weights"},
    {"Qwen/Qwen3-VL-235B-A22B-Instruct", 236, 0, "bfloat16", QWEN3_MOE_235,
     "Qwen3-VL-235B-A22B config.json (text_config): 94 layers, 4 KV heads, head_dim 128; 236B"},
    {"Qwen/Qwen3-VL-235B-A22B-Instruct-FP8", 236, 0, "fp8", QWEN3_MOE_235,
     "Qwen3-VL-235B-A22B config.json (text_config): 94 layers, 4 KV heads, head_dim 128; 236B, "
     "FP8 weights"},
    {"Qwen/Qwen3-Coder-480B-A35B-Instruct", 480, 0, "bfloat16", QWEN3_CODER_480,
     "Qwen3-Coder-480B-A35B config.json: 62 layers, 8 KV heads, head_dim 128; 480B parameters"},
    {"Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8", 480, 0, "fp8", QWEN3_CODER_480,
     "Qwen3-Coder-480B-A35B config.json: 62 layers, 8 KV heads, head_dim 128; 480B, FP8"},
    {"deepseek-ai/DeepSeek-R1-0528", 671, 0, "fp8", 61, 1, 0, 576,
     "DeepSeek-V3 config.json: 61 layers, MLA caches kv_lora_rank 512 + qk_rope_head_dim 64 = "
     "576 values per token per layer; 671B parameters, FP8 weights"},
    {"deepseek-ai/DeepSeek-V3.1", 671, 0, "fp8", 61, 1, 0, 576,
     "DeepSeek-V3.1 config.json: 61 layers, MLA caches kv_lora_rank 512 + qk_rope_head_dim 64 "
     "= 576 values per token per layer; 671B parameters, FP8 weights"},
    {"google/gemma-3-12b-it", 12.2, 0, "bfloat16", 48, 8, 256, 0,
     "gemma-3-12b-it config.json (text_config): 48 layers, 8 KV heads, head_dim 256 (sliding-"
     "window layers counted in full: an upper bound); 12.2B"},
    {"google/gemma-3-27b-it", 27.4, 0, "bfloat16", 62, 16, 128, 0,
     "gemma-3-27b-it config.json (text_config): 62 layers, 16 KV heads, head_dim 128 (sliding-"
     "window layers counted in full: an upper bound); 27.4B"},
    {"meta-llama/Llama-3.1-8B-Instruct", 8.03, 0, "bfloat16", 32, 8, 128, 0,
     "Llama-3.1-8B config.json: 32 layers, 8 KV heads, head_dim 128; 8.03B parameters"},
    {"meta-llama/Llama-3.1-8B", 8.03, 0, "bfloat16", 32, 8, 128, 0,
     "Llama-3.1-8B config.json: 32 layers, 8 KV heads, head_dim 128; 8.03B parameters"},
    {"meta-llama/Llama-3.2-1B", 1.24, 0, "bfloat16", 16, 8, 64, 0,
     "Llama-3.2-1B config.json: 16 layers, 8 KV heads, head_dim 64; 1.24B parameters"},
    {"meta-llama/Llama-3.2-3B", 3.21, 0, "bfloat16", 28, 8, 128, 0,
     "Llama-3.2-3B config.json: 28 layers, 8 KV heads, head_dim 128; 3.21B parameters"},
    {"meta-llama/Llama-3.1-70B-Instruct", 70.6, 0, "bfloat16", LLAMA_70,
     "Llama-3.1-70B config.json: 80 layers, 8 KV heads, head_dim 128; 70.6B parameters"},
    {"meta-llama/Llama-3.3-70B-Instruct", 70.6, 0, "bfloat16", LLAMA_70,
     "Llama-3.3-70B config.json: 80 layers, 8 KV heads, head_dim 128; 70.6B parameters"},
    {"meta-llama/Llama-3.1-405B-Instruct", 405.9, 0, "bfloat16", 126, 8, 128, 0,
     "Llama-3.1-405B config.json: 126 layers, 8 KV heads, head_dim 128; 405.9B parameters"},
    {"meta-llama/Llama-3.1-405B-Instruct-FP8", 405.9, 0, "fp8", 126, 8, 128, 0,
     "Llama-3.1-405B config.json: 126 layers, 8 KV heads, head_dim 128; 405.9B, FP8 weights"},
    {"meta-llama/Llama-4-Scout-17B-16E-Instruct", 109, 0, "bfloat16", 48, 8, 128, 0,
     "Llama-4-Scout config.json (text_config): 48 layers, 8 KV heads, head_dim 128; 109B"},
    {"meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8", 400, 0, "fp8", 48, 8, 128, 0,
     "Llama-4-Maverick config.json (text_config): 48 layers, 8 KV heads, head_dim 128; 400B, "
     "FP8 weights"},
    {"nvidia/NVIDIA-Nemotron-Nano-12B-v2", 12.3, 0, "bfloat16", 6, 8, 128, 0,
     "NVIDIA-Nemotron-Nano-12B-v2 config.json: 62 layers of which 6 attention (the Mamba-2 "
     "state is per sequence and small), 8 KV heads, head_dim 128; 12.3B"},
    {"nvidia/NVIDIA-Nemotron-Nano-12B-v2-VL-BF16", 13.2, 0, "bfloat16", 6, 8, 128, 0,
     "Nemotron-Nano-12B-v2-VL config.json (llm_config): 6 attention layers, 8 KV heads, head_dim "
     "128; 13.2B with the vision encoder"},
    {"nvidia/NVIDIA-Nemotron-Nano-9B-v2", 8.9, 0, "bfloat16", 4, 8, 128, 0,
     "NVIDIA-Nemotron-Nano-9B-v2 config.json: 56 layers of which 4 attention, 8 KV heads, "
     "head_dim 128; 8.9B"},
    {"openai/gpt-oss-120b", 116.8, 65.3, "mxfp4", 18, 8, 64, 0,
     "gpt-oss-120b config.json: 36 layers alternating full and 128-token sliding-window "
     "attention (the 18 full ones counted), 8 KV heads, head_dim 64; 116.8B parameters, MXFP4 "
     "experts, 65.3GB checkpoint (model card)"},
    {"openai/gpt-oss-20b", 20.9, 13.8, "mxfp4", 12, 8, 64, 0,
     "gpt-oss-20b config.json: 24 layers alternating full and 128-token sliding-window "
     "attention (the 12 full ones counted), 8 KV heads, head_dim 64; 20.9B parameters, MXFP4 "
     "experts, 13.8GB checkpoint (model card)"},
};

/* Parameters in the routed experts of the mixture-of-experts models above:
 * layers x experts x 3 projections x hidden x expert intermediate size, from
 * each model's config.json (num_hidden_layers, num_experts, hidden_size,
 * moe_intermediate_size; gpt-oss: num_local_experts, intermediate_size). */
static const struct {
    const char *prefix; /* every entry whose name starts with it */
    double expert_b;
} experts[] = {
    /* 48 x 128 x 3 x 2048 x 768 */
    {"Qwen/Qwen3-30B-A3B", 28.99},
    {"Qwen/Qwen3-Coder-30B-A3B", 28.99},
    {"Qwen/Qwen3-Omni-30B-A3B", 28.99}, /* the thinker's experts */
    {"Qwen/Qwen3-VL-30B-A3B", 28.99},
    /* 94 x 128 x 3 x 4096 x 1536 */
    {"Qwen/Qwen3-235B-A22B", 227.1},
    /* 62 x 160 x 3 x 6144 x 2560 */
    {"Qwen/Qwen3-Coder-480B-A35B", 468.1},
    /* 36 x 128 x 3 x 2880 x 2880 and 24 x 32 x 3 x 2880 x 2880 */
    {"openai/gpt-oss-120b", 114.7},
    {"openai/gpt-oss-20b", 19.1},
};

static void entry_to_facts(const struct model_entry *e, struct el_model_facts *f)
{
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", e->name);
    snprintf(f->quant, sizeof f->quant, "%s", e->quant);
    snprintf(f->source, sizeof f->source, "%s", e->source);
    f->params = e->params_b * 1e9;
    f->weight_bytes = e->weight_gb > 0 ? e->weight_gb * 1e9 : f->params * el_quant_bytes(e->quant);
    f->kv_layers = e->kv_layers;
    f->kv_heads = e->kv_heads;
    f->head_dim = e->head_dim;
    f->kv_values = e->kv_values > 0 ? e->kv_values : 2.0 * e->kv_heads * e->head_dim;
    f->kv_dtype_bytes = 2;
    for (size_t k = 0; k < sizeof experts / sizeof experts[0]; k++)
        if (strncmp(e->name, experts[k].prefix, strlen(experts[k].prefix)) == 0)
            f->expert_params = experts[k].expert_b * 1e9;
}

size_t el_model_facts_count(void)
{
    return sizeof models / sizeof models[0];
}

el_status el_model_facts_builtin(const char *name, size_t k, struct el_model_facts *out)
{
    if (!out)
        return EL_ERR_INVALID_ARG;
    if (!name) {
        if (k >= el_model_facts_count())
            return EL_ERR_INVALID_ARG;
        entry_to_facts(&models[k], out);
        return EL_OK;
    }
    for (size_t i = 0; i < el_model_facts_count(); i++) {
        if (strcasecmp(models[i].name, name) == 0) {
            entry_to_facts(&models[i], out);
            return EL_OK;
        }
    }
    return EL_ERR_MISSING;
}

/* ---- model-info files ------------------------------------------------------- */

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static el_status info_err(struct el_error *err, const char *path, yaml_node_t *at, const char *what,
                          const char *key)
{
    long line = at ? (long)at->start_mark.line + 1 : 0;
    return eli_err_at(err, EL_ERR_DATA, path, line, 0, "%.200s:%ld: key '%.60s': %s", path, line,
                      key, what);
}

/* One mapping of facts into f. */
static el_status info_entry(yaml_document_t *doc, yaml_node_t *map, const char *path,
                            struct el_model_facts *f, struct el_error *err)
{
    memset(f, 0, sizeof *f);
    double params_b = 0, params = 0, weight_gb = 0, bpp = 0, kv_bytes = 2, expert_b = 0;
    int have_layers = 0, have_heads = 0, have_dim = 0, have_values = 0;
    snprintf(f->source, sizeof f->source, "%.200s", path);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = yaml_document_get_node(doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(doc, p->value);
        const char *key = scalar(kn), *val = scalar(vn);
        if (!key)
            return info_err(err, path, kn, "keys must be strings", "?");
        if (!val)
            return info_err(err, path, vn, "expected a single value", key);
        double x = 0;
        int isnum = eli_parse_double(val, &x);
        if (strcmp(key, "name") == 0) {
            snprintf(f->name, sizeof f->name, "%s", val);
            continue;
        }
        if (strcmp(key, "quant") == 0 || strcmp(key, "quantization") == 0) {
            snprintf(f->quant, sizeof f->quant, "%s", val);
            continue;
        }
        if (strcmp(key, "source") == 0) {
            snprintf(f->source, sizeof f->source, "%s", val);
            continue;
        }
        if (strcmp(key, "kv_cache_dtype") == 0) {
            kv_bytes = el_quant_bytes(val);
            if (!(kv_bytes > 0))
                return info_err(err, path, vn, "unknown dtype (bfloat16, float16, fp8, ...)", key);
            continue;
        }
        if (!isnum || !(x > 0))
            return info_err(err, path, vn, "expected a number > 0", key);
        if (strcmp(key, "params_b") == 0)
            params_b = x;
        else if (strcmp(key, "params") == 0)
            params = x;
        else if (strcmp(key, "weight_gb") == 0)
            weight_gb = x;
        else if (strcmp(key, "bytes_per_param") == 0)
            bpp = x;
        else if (strcmp(key, "layers") == 0 || strcmp(key, "num_hidden_layers") == 0 ||
                 strcmp(key, "kv_layers") == 0)
            f->kv_layers = x, have_layers = 1;
        else if (strcmp(key, "kv_heads") == 0 || strcmp(key, "num_key_value_heads") == 0)
            f->kv_heads = x, have_heads = 1;
        else if (strcmp(key, "head_dim") == 0)
            f->head_dim = x, have_dim = 1;
        else if (strcmp(key, "kv_values_per_token_layer") == 0)
            f->kv_values = x, have_values = 1;
        else if (strcmp(key, "expert_params_b") == 0)
            expert_b = x;
        else if (strcmp(key, "expert_params") == 0)
            expert_b = x / 1e9;
        else
            return info_err(err, path, kn,
                            "unknown key (name, params_b, params, weight_gb, quant, "
                            "bytes_per_param, layers, kv_heads, head_dim, "
                            "kv_values_per_token_layer, kv_cache_dtype, expert_params_b, "
                            "source)",
                            key);
    }
    if (params_b > 0)
        params = params_b * 1e9;
    f->params = params;
    if (expert_b > 0 && !(params > 0 && expert_b * 1e9 < params))
        return eli_err_at(err, EL_ERR_DATA, path, (long)map->start_mark.line + 1, 0,
                          "%.200s:%ld: model '%.100s': expert_params_b %g needs params_b (or "
                          "params) larger than it",
                          path, (long)map->start_mark.line + 1, f->name, expert_b);
    f->expert_params = expert_b * 1e9;
    if (!*f->quant)
        snprintf(f->quant, sizeof f->quant, "bfloat16");
    if (!(bpp > 0))
        bpp = el_quant_bytes(f->quant);
    if (weight_gb > 0)
        f->weight_bytes = weight_gb * 1e9;
    else if (params > 0 && bpp > 0)
        f->weight_bytes = params * bpp;
    long line = (long)map->start_mark.line + 1;
    if (!(f->weight_bytes > 0))
        return eli_err_at(err, EL_ERR_DATA, path, line, 0,
                          "%.200s:%ld: model '%.100s': give params_b (or params, or weight_gb) and "
                          "a known quant (or bytes_per_param)",
                          path, line, f->name);
    if (!have_layers || !(have_values || (have_heads && have_dim)))
        return eli_err_at(err, EL_ERR_DATA, path, line, 0,
                          "%.200s:%ld: model '%.100s': give layers and kv_heads and head_dim (or "
                          "kv_values_per_token_layer)",
                          path, line, f->name);
    if (!have_values)
        f->kv_values = 2.0 * f->kv_heads * f->head_dim;
    if (!have_heads)
        f->kv_heads = 1;
    f->kv_dtype_bytes = kv_bytes;
    return EL_OK;
}

el_status el_model_facts_load(const char *path, const char *name, struct el_model_facts *out,
                              struct el_error *err)
{
    if (!path || !out)
        return eli_err(err, EL_ERR_INVALID_ARG, "el_model_facts_load: NULL argument");
    char *text = NULL;
    size_t len = 0;
    ELI_TRY(eli_read_file(path, MODEL_INFO_MAX_BYTES, &text, &len, err));
    yaml_parser_t parser;
    yaml_document_t doc;
    int doc_ok = 0;
    el_status st = EL_OK;
    if (!yaml_parser_initialize(&parser)) {
        eli_free(text);
        return eli_err(err, EL_ERR_NOMEM, "out of memory");
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        st = eli_err_at(err, EL_ERR_PARSE, path, (long)parser.problem_mark.line + 1, 0,
                        "%.200s:%ld: %s", path, (long)parser.problem_mark.line + 1,
                        parser.problem ? parser.problem : "YAML/JSON syntax error");
        goto done;
    }
    doc_ok = 1;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        st = eli_err_at(err, EL_ERR_PARSE, path, 0, 0,
                        "%.200s: expected a mapping of model facts, or one with a 'models' list",
                        path);
        goto done;
    }
    /* {models: [...]} or one model. */
    yaml_node_t *list = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        const char *key = scalar(yaml_document_get_node(&doc, p->key));
        if (key && strcmp(key, "models") == 0)
            list = yaml_document_get_node(&doc, p->value);
    }
    if (!list) {
        st = info_entry(&doc, root, path, out, err);
        if (st == EL_OK && name && *out->name && strcasecmp(out->name, name) != 0)
            st = eli_err(err, EL_ERR_MISSING, "%.200s describes '%.100s', not '%.100s'", path,
                         out->name, name);
        goto done;
    }
    if (list->type != YAML_SEQUENCE_NODE) {
        st = info_err(err, path, list, "expected a list of models", "models");
        goto done;
    }
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    if (n != 1 && !name) {
        st = eli_err(err, EL_ERR_INVALID_ARG, "%.200s lists %zu models: name the one to use", path,
                     n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = yaml_document_get_node(&doc, list->data.sequence.items.start[i]);
        if (!it || it->type != YAML_MAPPING_NODE) {
            st = info_err(err, path, it, "list items must be mappings", "models");
            goto done;
        }
        struct el_model_facts f;
        if ((st = info_entry(&doc, it, path, &f, err)) != EL_OK)
            goto done;
        if (!name || strcasecmp(f.name, name) == 0) {
            *out = f;
            goto done;
        }
    }
    st = eli_err(err, EL_ERR_MISSING, "%.200s has no model named '%.100s'", path, name);
done:
    if (doc_ok)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    eli_free(text);
    return st;
}

/* ---- the estimate ------------------------------------------------------------ */

el_status el_memory_estimate(const struct el_model_facts *f, double gpu_bytes, double util,
                             double tp, double pp, double batch, double tokens,
                             struct el_memory *out)
{
    return el_memory_estimate_dp(f, gpu_bytes, util, tp, pp, 1, tp, batch, tokens, out);
}

el_status el_memory_estimate_dp(const struct el_model_facts *f, double gpu_bytes, double util,
                                double tp, double pp, double dp, double ep, double batch,
                                double tokens, struct el_memory *out)
{
    if (ep == 0)
        ep = tp;
    if (!f || !out || !(gpu_bytes > 0) || !(util > 0 && util <= 1) || !(tp >= 1) || !(pp >= 1) ||
        !(dp >= 1) || !(ep >= 1) || !(batch >= 0) || !(tokens >= 0))
        return EL_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    double share = f->kv_heads > 0 && f->kv_heads < tp ? 1.0 / f->kv_heads : 1.0 / tp;
    double per_token = f->kv_layers / pp * f->kv_values * f->kv_dtype_bytes * share;
    double xfrac =
        f->expert_params > 0 && f->params > f->expert_params ? f->expert_params / f->params : 0.0;
    double xbytes = f->weight_bytes * xfrac;
    out->budget = util * gpu_bytes;
    out->weights = (f->weight_bytes - xbytes) / (tp * pp) + xbytes / (ep * pp);
    out->kv = batch * tokens * per_token;
    out->total = out->weights + out->kv;
    out->kv_tokens_fit =
        out->budget > out->weights && per_token > 0 ? (out->budget - out->weights) / per_token : 0;
    out->fits_weights = out->weights <= out->budget;
    out->fits = out->total <= out->budget;
    return EL_OK;
}
