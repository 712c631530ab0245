locals {
  s = server.s1
}

cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

# want: 2:7 Reference not allowed here: A local value cannot refer to server.*; it may refer to var.*, local.*.
