# The TOML generation's own arguments, and the other registry types.
cluster {
  name          = "full7"
  dbgpt_version = "0.7.0"
}

variable "key" {
  default   = "sk-test"
  sensitive = true
}

server "s1" {
  transport = "local"
}

registry "sqlite" {
  path = "/tmp/full7/registry.db"
}

model "proxy" {
  type     = "llm"
  provider = "proxy/openai"
  api_key  = var.key
  params   = { api_type = "azure" }
}

controller "c1" {
  server = server.s1
}

worker "w1" {
  server = server.s1
  model  = model.proxy
}
