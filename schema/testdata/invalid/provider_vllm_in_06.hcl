cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

model "m" {
  type     = "llm"
  path     = "/m"
  provider = "vllm"
}

worker "w" {
  server = server.s1
  model  = model.m
}

# want: 16:14 Provider not available in DB-GPT 0.6.3: DB-GPT 0.6.3 cannot serve a llm model with provider "vllm"
