package catalog

import (
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Worker types, as DB-GPT names them (schema's constants, repeated here so
// the package stays a leaf).
const (
	LLM       = "llm"
	Embedding = "text2vec"
	Reranker  = "reranker"
)

// Providers in DB-GPT 0.7's words.
const (
	HF          = "hf"
	VLLM        = "vllm"
	LlamaCpp    = "llama.cpp"
	LlamaServer = "llama_cpp_server"
	ProxyPrefix = "proxy/"
	OpenAI      = "proxy/openai"
)

// OpenAIAPIBase is proxy/openai's default server (DB-GPT's own default in
// both generations).
const OpenAIAPIBase = "https://api.openai.com/v1"

// DB-GPT 0.6.3 (flags generation).
//
// A proxy LLM worker picks its adapter, and with it its parameter class
// (ProxyModelParameters), by model name or model path
// (dbgpt/model/adapter/proxy_adapter.py: do_match(name) or do_match(path)),
// so hactl passes the registered name as --model_name and the adapter name
// as --model_path. A text2vec worker picks its parameter class and its
// loader by model name only (embedding_worker.py model_param_class,
// embeddings_loader.py): a proxy embedding must be registered under the
// adapter's name.
var (
	llmAdapters06 = map[string]string{
		"proxy/openai":   "chatgpt_proxyllm",
		"proxy/tongyi":   "tongyi_proxyllm",
		"proxy/zhipu":    "zhipu_proxyllm",
		"proxy/wenxin":   "wenxin_proxyllm",
		"proxy/gemini":   "gemini_proxyllm",
		"proxy/spark":    "spark_proxyllm",
		"proxy/yi":       "yi_proxyllm",
		"proxy/baichuan": "bc_proxyllm",
	}
	embeddingAdapters06 = map[string]string{
		"proxy/openai": "proxy_openai",
		"proxy/ollama": "proxy_ollama",
		"proxy/tongyi": "proxy_tongyi",
	}
)

// Adapter06 returns the DB-GPT 0.6 adapter name of a proxy provider for a
// worker type, and whether 0.6 has one.
func Adapter06(provider, workerType string) (string, bool) {
	var name string
	var ok bool
	switch workerType {
	case LLM:
		name, ok = llmAdapters06[provider]
	case Embedding:
		name, ok = embeddingAdapters06[provider]
	}
	return name, ok
}

// Providers06 lists the providers DB-GPT 0.6 can serve for a worker type,
// sorted: hf (weights at a path) and the proxies with a 0.6 adapter.
func Providers06(workerType string) []string {
	out := []string{HF}
	m := llmAdapters06
	switch workerType {
	case Embedding:
		m = embeddingAdapters06
	case Reranker:
		m = nil
	}
	for p := range m {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Proxy flag names of DB-GPT 0.6 (ProxyModelParameters for an LLM,
// ProxyEmbeddingParameters for an embedding model).
const (
	Flag06ServerURL  = "proxy_server_url" // both: LLM: the chat completions URL; embedding: the API base
	Flag06APIBase    = "proxy_api_base"   // LLM only
	Flag06APIKey     = "proxy_api_key"    // both; hactl passes it by environment only
	Flag06LLMBackend = "proxyllm_backend" // LLM
	Flag06EmbBackend = "proxy_backend"    // embedding
)

// ProxyFlags06 are every proxy flag hactl may write for a 0.6 worker.
var ProxyFlags06 = []string{Flag06ServerURL, Flag06APIBase, Flag06APIKey, Flag06LLMBackend, Flag06EmbBackend}

// embeddingModels06 are the keys of DB-GPT 0.6.3's EMBEDDING_MODEL_CONFIG
// (dbgpt/configs/model_config.py). The light webserver looks its
// EMBEDDING_MODEL up there at start, remote embedding or not, and dies with
// a KeyError on any other name.
var embeddingModels06 = []string{
	"text2vec", "text2vec-base", "m3e-base", "m3e-large",
	"bge-large-en", "bge-base-en", "bge-large-zh", "bge-base-zh", "bge-m3",
	"gte-large-zh", "gte-base-zh", "sentence-transforms",
	"proxy_openai", "proxy_azure", "proxy_http_openapi", "proxy_ollama", "proxy_tongyi", "proxy_qianfan",
	"bge-reranker-base", "bge-reranker-large", "rerank_proxy_http_openapi",
}

// EmbeddingModels06 returns the embedding model names the DB-GPT 0.6
// webserver knows, sorted.
func EmbeddingModels06() []string {
	out := slices.Clone(embeddingModels06)
	sort.Strings(out)
	return out
}

// IsEmbeddingModel06 reports whether name is one of EmbeddingModels06.
func IsEmbeddingModel06(name string) bool { return slices.Contains(embeddingModels06, name) }

// DB-GPT 0.7.5 (TOML generation).

var proxyNameRe = regexp.MustCompile(`^proxy/[a-z0-9][a-z0-9_-]*$`)

// Providers07 are the local providers DB-GPT 0.7 knows; every
// "proxy/<name>" is accepted besides (DB-GPT registers its proxies by name
// and so can an installed extension).
var Providers07 = []string{HF, LlamaCpp, LlamaServer, VLLM}

// KnownProvider07 reports whether DB-GPT 0.7 can have a provider of that name.
func KnownProvider07(provider string) bool {
	return slices.Contains(Providers07, provider) || proxyNameRe.MatchString(provider)
}

// Keys of the parameter classes, by the class they are declared in
// (packages/dbgpt-core/src/dbgpt/core/interface/parameter.py and each
// provider's module). A key missing here is dropped by DB-GPT without a word.
var (
	base07 = []string{"name", "provider", "verbose", "concurrency"}
	llm07  = append(slices.Clone(base07), "backend", "prompt_template", "context_length", "reasoning_model")

	fields07 = map[string][]string{
		// HFLLMDeployModelParameters (model/adapter/hf_adapter.py)
		LLM + " " + HF: append(slices.Clone(llm07), "path", "device", "trust_remote_code", "quantization",
			"low_cpu_mem_usage", "num_gpus", "max_gpu_memory", "torch_dtype", "attn_implementation"),
		// OpenAICompatibleDeployModelParameters (model/proxy/llms/chatgpt.py)
		LLM + " " + OpenAI: append(slices.Clone(llm07), "api_base", "api_key", "api_type", "api_version", "http_proxy"),
		// HFEmbeddingDeployModelParameters (rag/embedding/embeddings.py)
		Embedding + " " + HF: append(slices.Clone(base07), "path", "device", "cache_folder", "normalize_embeddings",
			"multi_process", "model_kwargs", "encode_kwargs", "embed_instruction", "query_instruction"),
		// OpenAPIEmbeddingDeployModelParameters (rag/embedding/embeddings.py)
		Embedding + " " + OpenAI: append(slices.Clone(base07), "api_url", "api_key", "backend", "timeout"),
	}
)

// Fields07 returns the keys DB-GPT 0.7's parameter class for a provider and
// worker type has, sorted, and whether hactl knows the class. For an
// unknown class nothing can be said about a key.
func Fields07(provider, workerType string) ([]string, bool) {
	f, ok := fields07[workerType+" "+provider]
	if !ok {
		return nil, false
	}
	out := slices.Clone(f)
	sort.Strings(out)
	return slices.Compact(out), true
}

// OpenAIEmbeddingURL is the api_url of a 0.7 proxy/openai embedding model
// served at apiBase: its class takes the full embeddings URL, not a base.
func OpenAIEmbeddingURL(apiBase string) string {
	if apiBase == "" {
		apiBase = OpenAIAPIBase
	}
	return strings.TrimRight(apiBase, "/") + "/embeddings"
}

// OpenAIChatURL is DB-GPT 0.6's proxy_server_url of a proxy/openai LLM
// served at apiBase: the chat completions URL.
func OpenAIChatURL(apiBase string) string {
	if apiBase == "" {
		apiBase = OpenAIAPIBase
	}
	return strings.TrimRight(apiBase, "/") + "/chat/completions"
}

// EnvKey06 returns the environment variable DB-GPT 0.6 reads a worker's
// parameter from when it is not a flag: the model name with '-' as '_',
// then '_' and the parameter, as is or upper-cased
// (dbgpt/util/parameter_utils.py: get_env_prefix,
// _genenv_ignoring_key_case). When that is no portable variable name (a
// name with a '.', or starting with a digit) it is the bare parameter name,
// which DB-GPT reads last: a worker process serves one model, so it is
// unambiguous.
func EnvKey06(modelName, param string) string {
	k := strings.ToUpper(strings.ReplaceAll(modelName, "-", "_") + "_" + param)
	if envNameRe.MatchString(k) {
		return k
	}
	return strings.ToUpper(param)
}

var envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
