name = "t"

cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

# want: 1:1 Unsupported argument: An argument named "name" is not expected here.
