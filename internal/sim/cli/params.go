package cli

import (
	"path/filepath"
	"strings"
)

// The sim's own copy of DB-GPT's model parameter classes, kept apart from
// hactl's tables on purpose: the sim must be able to disagree with hactl.

// Flags generation (v0.6.3, dbgpt/model/parameter.py). A worker's click
// options are ModelWorkerParameters plus the class its model selects
// (dbgpt/model/adapter/model_adapter.py _dynamic_model_parser).

func boolOpt(name, def, help string) Option { return Option{Name: name, Help: help, Default: def} }

var workerParams = []Option{
	{Name: "model_name", Kind: "TEXT", Help: "Model name", Required: true},
	{Name: "model_path", Kind: "TEXT", Help: "Model path", Required: true},
	text("worker_type", "", "Worker type"),
	text("model_alias", "", "Model alias"),
	text("worker_class", "", "Model worker class, dbgpt.model.cluster.DefaultModelWorker"),
	text("model_type", "huggingface", "Model type: huggingface, llama.cpp, proxy and vllm"),
	text("host", "0.0.0.0", "Model worker deploy host"),
	integer("port", "8001", "Model worker deploy port"),
	flag("daemon", "Run Model Worker in background"),
	integer("limit_model_concurrency", "5", "Model concurrency limit"),
	flag("standalone", "Standalone mode. If True, embedded Run ModelController"),
	boolOpt("register", "True", "Register current worker to model controller"),
	text("worker_register_host", "", "The ip address of current worker to register to ModelController. If None, the address is automatically determined"),
	text("controller_addr", "", "The Model controller address to register"),
	boolOpt("send_heartbeat", "True", "Send heartbeat to model controller"),
	integer("heartbeat_interval", "20", "The interval for sending heartbeats (seconds)"),
	logLevelOpt,
	text("log_file", "dbgpt_model_worker_manager.log", "The filename to store log"),
	text("tracer_file", "dbgpt_model_worker_manager_tracer.jsonl", "The filename to store tracer span records"),
	text("tracer_storage_cls", "", "The storage class to storage tracer span records"),
}

// ModelParameters: a local (Hugging Face) LLM.
var modelParameters = []Option{
	text("device", "", "Device to run model. If None, the device is automatically determined"),
	text("prompt_template", "", "Prompt template. If None, the prompt template is automatically determined from model path"),
	integer("max_context_size", "4096", "Maximum context size"),
	integer("num_gpus", "", "The number of gpus you expect to use, if it is empty, use all of them as much as possible"),
	text("max_gpu_memory", "", "The maximum memory limit of each GPU, only valid in multi-GPU configuration"),
	flag("cpu_offloading", "CPU offloading"),
	flag("load_8bit", "8-bit quantization"),
	flag("load_4bit", "4-bit quantization"),
	text("quant_type", "nf4", "Quantization datatypes, `fp4` (four bit float) and `nf4` (normal four bit float), only valid when load_4bit=True"),
	boolOpt("use_double_quant", "True", "Nested quantization, only valid when load_4bit=True"),
	text("compute_dtype", "", "Model compute type"),
	boolOpt("trust_remote_code", "True", "Trust remote code"),
	flag("verbose", "Show verbose output."),
}

// LlamaCppModelParameters: ModelParameters plus llama.cpp's.
var llamaCppParameters = append(append([]Option{}, modelParameters...),
	integer("seed", "-1", "Random seed for llama-cpp models. -1 for random"),
	integer("n_threads", "", "Number of threads to use. If None, the number of threads is automatically determined"),
	integer("n_batch", "512", "Maximum number of prompt tokens to batch together when calling llama_eval"),
	integer("n_gpu_layers", "1000000000", "Number of layers to offload to the GPU, Set this to 1000000000 to offload all layers to the GPU."),
	integer("n_gqa", "", "Grouped-query attention. Must be 8 for llama-2 70b."),
	Option{Name: "rms_norm_eps", Kind: "FLOAT", Default: "5e-06", Help: "5e-6 is a good value for llama-2 models."},
	text("cache_capacity", "", "Maximum cache capacity. Examples: 2000MiB, 2GiB. When provided without units, bytes will be assumed. "),
	flag("prefer_cpu", "If a GPU is available, it will be preferred by default, unless prefer_cpu=False is configured."),
)

// ProxyModelParameters: a proxy LLM (OpenAI and the other *_proxyllm).
var proxyModelParameters = []Option{
	text("proxy_server_url", "", "Proxy server url, such as: https://api.openai.com/v1/chat/completions"),
	text("proxy_api_key", "", "The api key of current proxy LLM"),
	text("proxy_api_base", "", "The base api address, such as: https://api.openai.com/v1. If None, we will use proxy_api_base first"),
	text("proxy_api_app_id", "", "The app id for current proxy LLM(Just for spark proxy LLM now)."),
	text("proxy_api_secret", "", "The app secret for current proxy LLM(Just for spark proxy LLM now)."),
	text("proxy_api_type", "", "The api type of current proxy the current proxy model, if you use Azure, it can be: azure"),
	text("proxy_api_version", "", "The api version of current proxy the current model"),
	text("http_proxy", "", "The http or https proxy to use openai"),
	text("proxyllm_backend", "", "The model name actually pass to current proxy server url, such as gpt-3.5-turbo, gpt-4, chatglm_pro, chatglm_std and so on"),
	text("device", "", "Device to run model. If None, the device is automatically determined"),
	text("prompt_template", "", "Prompt template. If None, the prompt template is automatically determined from model path"),
	integer("max_context_size", "4096", "Maximum context size"),
	text("llm_client_class", "", "The class name of llm client, such as dbgpt.model.proxy.llms.proxy_model.ProxyModel"),
}

// EmbeddingModelParameters: a local embedding (or rerank) model.
var embeddingParameters = []Option{
	text("device", "", "Device to run model. If None, the device is automatically determined"),
	flag("normalize_embeddings", "Determines whether the model's embeddings should be normalized."),
	flag("rerank", "Whether the model is a rerank model"),
	integer("max_length", "", "Max length for input sequences. Longer sequences will be truncated."),
}

// ProxyEmbeddingParameters: proxy_openai, proxy_http_openapi, ...
var proxyEmbeddingParameters = []Option{
	text("proxy_server_url", "", "Proxy base url(OPENAI_API_BASE), such as https://api.openai.com/v1"),
	text("proxy_api_key", "", "The api key of the current embedding model(OPENAI_API_KEY)"),
	text("device", "", "Device to run model. Not working for proxy embedding model"),
	text("proxy_api_type", "", "The api type of current proxy the current embedding model(OPENAI_API_TYPE), if you use Azure, it can be: azure"),
	text("proxy_api_secret", "", "The api secret of the current embedding model(OPENAI_API_SECRET)"),
	text("proxy_api_version", "", "The api version of current proxy the current embedding model(OPENAI_API_VERSION)"),
	text("proxy_backend", "text-embedding-ada-002", "The model name actually pass to current proxy server url, such as text-embedding-ada-002"),
	text("proxy_deployment", "text-embedding-ada-002", "Tto support Azure OpenAI Service custom deployment names"),
}

// proxyLLMAdapters are the names the proxy LLM adapters match, against the
// lower-cased model name or model path (dbgpt/model/adapter/proxy_adapter.py).
var proxyLLMAdapters = map[string]bool{
	"chatgpt_proxyllm": true, "proxyllm": true, "tongyi_proxyllm": true, "zhipu_proxyllm": true,
	"wenxin_proxyllm": true, "gemini_proxyllm": true, "spark_proxyllm": true, "bard_proxyllm": true,
	"bc_proxyllm": true, "yi_proxyllm": true, "moonshot_proxyllm": true, "deepseek_proxyllm": true,
	"ollama_proxyllm": true, "siliconflow_proxyllm": true, "gitee_proxyllm": true, "claude_proxyllm": true,
}

// proxyEmbeddingNames select ProxyEmbeddingParameters by model NAME only
// (EMBEDDING_NAME_TO_PARAMETER_CLASS_CONFIG.get(model_name, ...)); the
// embedding loader likewise picks the proxy by model name, never by path.
var proxyEmbeddingNames = map[string]bool{
	"proxy_openai": true, "proxy_azure": true, "proxy_http_openapi": true, "proxy_ollama": true,
	"proxy_tongyi": true, "proxy_qianfan": true, "rerank_proxy_http_openapi": true,
}

// embeddingModelConfig is v0.6.3's EMBEDDING_MODEL_CONFIG (its keys): the
// webserver indexes it with EMBEDDING_MODEL.
var embeddingModelConfig = map[string]bool{
	"text2vec": true, "text2vec-base": true, "m3e-base": true, "m3e-large": true,
	"bge-large-en": true, "bge-base-en": true, "bge-large-zh": true, "bge-base-zh": true, "bge-m3": true,
	"gte-large-zh": true, "gte-base-zh": true, "sentence-transforms": true,
	"proxy_openai": true, "proxy_azure": true, "proxy_http_openapi": true, "proxy_ollama": true,
	"proxy_tongyi": true, "proxy_qianfan": true,
	"bge-reranker-base": true, "bge-reranker-large": true, "rerank_proxy_http_openapi": true,
}

// modelClass is the parameter class a 0.6 worker's model selects.
type modelClass struct {
	Name    string // Python class name
	Options []Option
	Proxy   bool
}

// isProxyLLM reports whether the proxy adapter matches name or path.
func isProxyLLM(name, path string) bool {
	return proxyLLMAdapters[strings.ToLower(name)] || proxyLLMAdapters[strings.ToLower(path)]
}

// selectClass mirrors _dynamic_model_parser over what _SimpleArgParser
// extracted from the command line.
func selectClass(name, path, workerType, modelType string) modelClass {
	if workerType == "text2vec" {
		if proxyEmbeddingNames[name] {
			return modelClass{"ProxyEmbeddingParameters", proxyEmbeddingParameters, true}
		}
		return modelClass{"EmbeddingModelParameters", embeddingParameters, false}
	}
	if name == "" && modelType != "vllm" {
		return modelClass{"ModelParameters", modelParameters, false}
	}
	if isProxyLLM(name, path) {
		return modelClass{"ProxyModelParameters", proxyModelParameters, true}
	}
	if modelType == "llama.cpp" || strings.Contains(name, "llama-cpp") || strings.HasSuffix(strings.ToLower(filepath.Base(path)), ".gguf") {
		return modelClass{"LlamaCppModelParameters", llamaCppParameters, false}
	}
	return modelClass{"ModelParameters", modelParameters, false}
}

// simpleArgs is _SimpleArgParser: "--key value" pairs only (not --key=value).
func simpleArgs(args []string) map[string]string {
	out := map[string]string{}
	prev := ""
	for _, a := range args {
		if strings.HasPrefix(a, "--") {
			if prev != "" {
				out[prev] = ""
			}
			prev = strings.ReplaceAll(a[2:], "-", "_")
			continue
		}
		if prev != "" {
			out[prev] = a
			prev = ""
		}
	}
	if prev != "" {
		out[prev] = ""
	}
	return out
}

// flagsWorkerFor builds the worker command for a command line: the worker's
// own options plus its model class's, first occurrence of a name winning.
func flagsWorkerFor(args []string) (*Command, modelClass) {
	pre := simpleArgs(args)
	mc := selectClass(pre["model_name"], pre["model_path"], pre["worker_type"], pre["model_type"])
	seen := map[string]bool{}
	var opts []Option
	for _, l := range [][]Option{workerParams, mc.Options} {
		for _, o := range l {
			if !seen[o.Name] {
				seen[o.Name] = true
				opts = append(opts, o)
			}
		}
	}
	return &Command{Path: "dbgpt start worker", Summary: "Start model worker", Options: opts}, mc
}

// TOML generation (v0.7.5, packages/dbgpt-core/.../parameter.py and the
// providers' deploy parameter classes): the keys each provider's class has.
// Keys a class lacks are dropped silently when the file is parsed.
var (
	deployBase   = []string{"name", "provider", "verbose", "concurrency"}
	llmBase      = append(append([]string{}, deployBase...), "backend", "prompt_template", "context_length", "reasoning_model")
	tomlHFLLM    = append(append([]string{}, llmBase...), "path", "device", "trust_remote_code", "quantization", "low_cpu_mem_usage", "num_gpus", "max_gpu_memory", "torch_dtype", "attn_implementation")
	tomlOpenAI   = append(append([]string{}, llmBase...), "api_base", "api_key", "api_type", "api_version", "http_proxy")
	tomlLocalLLM = append(append([]string{}, llmBase...), "path", "device")
	tomlHFEmbed  = append(append([]string{}, deployBase...), "path", "device", "cache_folder", "normalize_embeddings", "multi_process", "model_kwargs", "encode_kwargs", "embed_instruction", "query_instruction")
	// proxy/openai embedding: OpenAPIEmbeddingDeployModelParameters has
	// api_url (the full embeddings URL), not api_base.
	tomlOpenAIEmbed = append(append([]string{}, deployBase...), "api_url", "api_key", "backend", "timeout")
	tomlHFRerank    = append(append([]string{}, deployBase...), "path", "device", "max_length", "model_kwargs")
	tomlProxyRerank = append(append([]string{}, deployBase...), "api_url", "api_key", "backend", "timeout")
)

// tomlProviderKeys returns the keys of the class a provider selects for a
// model section, or nil when no adapter serves it.
func tomlProviderKeys(section, provider string) []string {
	switch section {
	case "llms":
		switch {
		case provider == "hf":
			return tomlHFLLM
		case provider == "vllm" || provider == "llama.cpp" || provider == "llama.cpp.server" || provider == "mlx":
			return tomlLocalLLM
		case strings.HasPrefix(provider, "proxy/") && len(provider) > len("proxy/"):
			return tomlOpenAI
		}
	case "embeddings":
		switch {
		case provider == "hf":
			return tomlHFEmbed
		case strings.HasPrefix(provider, "proxy/") && len(provider) > len("proxy/"):
			return tomlOpenAIEmbed
		}
	case "rerankers":
		switch {
		case provider == "hf":
			return tomlHFRerank
		case strings.HasPrefix(provider, "proxy/") && len(provider) > len("proxy/"):
			return tomlProxyRerank
		}
	}
	return nil
}
