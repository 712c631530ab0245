# The TOML generation's own arguments, and the other registry types.
cluster {
  name          = "full7"
  dbgpt_version = "0.7.0"
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
}

controller "c1" {
  server = server.s1
}

worker "w1" {
  server = server.s1
  model  = model.proxy
}
