cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

service "x" {
}

# want: 13:1 Unsupported block type: Blocks of type "service" are not expected here.
