cluster {
  name          = "t"
  dbgpt_version = "0.7.0"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

model "m" {
  type = "llm"
  path = "/m"
}

worker "w" {
  server     = server.s1
  model      = model.m
  extra_args = ["--max_gpu_memory", "20Gib"]
}

# want: 22:16 Setting not available in DB-GPT 0.7.0: extra_args exists only in the flags generation
