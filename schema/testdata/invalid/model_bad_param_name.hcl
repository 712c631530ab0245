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
  type   = "llm"
  path   = "/m"
  params = { "max-len" = "10" }
}

# want: 16:12 Invalid parameter name: Parameter name "max-len" must be an identifier
