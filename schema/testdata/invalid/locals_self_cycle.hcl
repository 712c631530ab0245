locals {
  a = local.a
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

# want: 2:7 Cycle in locals: These locals refer to each other in a cycle: local.a → local.a.
