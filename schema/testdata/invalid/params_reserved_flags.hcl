cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

model "m" {
  type   = "llm"
  path   = "/models/m"
  params = { port = "9999", controller_addr = "http://evil:8000", max_length = "10" }
}

controller "c1" {
  server = server.s1
}

worker "w" {
  server = server.s1
  model  = model.m
}

# want: 12:14 Reserved parameter name: hactl sets "port" itself for DB-GPT 0.6, from the worker's port
# want: 12:29 Reserved parameter name: hactl sets "controller_addr" itself for DB-GPT 0.6, from the controller blocks
