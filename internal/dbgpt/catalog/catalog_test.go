package catalog

import (
	"slices"
	"testing"
)

func TestEnvKey06(t *testing.T) {
	for in, want := range map[string]string{
		"gpt-4o":        "GPT_4O_PROXY_API_KEY",
		"proxy_openai":  "PROXY_OPENAI_PROXY_API_KEY",
		"qwen2.5-72b":   "PROXY_API_KEY", // no portable variable name: the bare one DB-GPT reads last
		"4o-mini":       "PROXY_API_KEY",
		"glm-4-9b-chat": "GLM_4_9B_CHAT_PROXY_API_KEY",
	} {
		if got := EnvKey06(in, Flag06APIKey); got != want {
			t.Errorf("EnvKey06(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTables(t *testing.T) {
	if a, ok := Adapter06(OpenAI, LLM); !ok || a != "chatgpt_proxyllm" {
		t.Errorf("openai llm adapter %q", a)
	}
	if a, ok := Adapter06(OpenAI, Embedding); !ok || a != "proxy_openai" || !IsEmbeddingModel06(a) {
		t.Errorf("openai embedding adapter %q", a)
	}
	if _, ok := Adapter06(OpenAI, Reranker); ok {
		t.Error("a 0.6 proxy reranker")
	}
	if p := Providers06(Reranker); !slices.Equal(p, []string{HF}) {
		t.Errorf("0.6 reranker providers %q", p)
	}
	f, ok := Fields07(OpenAI, Embedding)
	if !ok || !slices.Contains(f, "api_url") || slices.Contains(f, "api_base") {
		t.Errorf("0.7 openai embedding fields %q", f)
	}
	if _, ok := Fields07("proxy/zhipu", LLM); ok {
		t.Error("fields of an unverified class")
	}
	if !KnownProvider07("proxy/siliconflow") || KnownProvider07("huggingface") || KnownProvider07("proxy/") {
		t.Error("KnownProvider07")
	}
	if OpenAIEmbeddingURL("https://x/v1/") != "https://x/v1/embeddings" || OpenAIChatURL("") != OpenAIAPIBase+"/chat/completions" {
		t.Error("URLs")
	}
}
