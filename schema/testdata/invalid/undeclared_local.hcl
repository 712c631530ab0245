locals {
  port = 8000
}

cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
  port   = local.prot
}

# want: 15:12 Reference to undeclared local value: No local value named "prot" is declared
