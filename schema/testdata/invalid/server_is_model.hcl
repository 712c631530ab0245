cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

model "m" {
  type = "llm"
  path = "/m"
}

controller "c1" {
  server = model.m
}

# want: 15:12 Invalid server reference: "server" must refer to a server block, like server.server1.
