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
  type = "llm"
  path = "models/m"
}

# want: 15:10 Model path not absolute: The path of model "m" must be absolute on the worker's server, not "models/m".
