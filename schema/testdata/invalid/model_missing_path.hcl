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
}

# want: 13:1 Missing model path: Model "m" needs a path
