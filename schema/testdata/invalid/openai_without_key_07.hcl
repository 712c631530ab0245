cluster {
  name          = "t"
  dbgpt_version = "0.7.5"
}

server "s1" {
  address = "10.0.0.1"
}

model "gpt-4o" {
  type     = "llm"
  provider = "proxy/openai"
}

controller "c1" {
  server = server.s1
}

worker "w" {
  server = server.s1
  model  = model.gpt-4o
}

# want: 10:1 Proxy model without an API key: Model "gpt-4o" (proxy/openai) has no api_key, and worker.w's environment has no OPENAI_API_KEY
