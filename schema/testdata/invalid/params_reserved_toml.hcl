cluster {
  name          = "t"
  dbgpt_version = "0.7.0"
}

server "s1" {
  address = "10.0.0.1"
}

model "m" {
  type = "llm"
  path = "/models/m"
  params = {
    temperature          = "0.5"
    worker_register_host = "10.9.9.9"
    "path"               = "/other"
  }
}

controller "c1" {
  server = server.s1
}

worker "w" {
  server = server.s1
  model  = model.m
}

# want: 15:5 Reserved parameter name: hactl sets "worker_register_host" itself for DB-GPT 0.7, from the server's address
# want: 16:5 Reserved parameter name: hactl sets "path" itself for DB-GPT 0.7, from the model's path
