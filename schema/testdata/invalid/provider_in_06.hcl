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
  provider = "hf"
}

worker "w" {
  server = server.s1
  model  = model.m
}

# want: 16:14 Setting not available in DB-GPT 0.6.3: provider is a setting of the TOML generation
