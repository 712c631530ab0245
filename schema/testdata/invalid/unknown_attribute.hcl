cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
  prot   = 8000
}

# want: 11:3 Unsupported argument: An argument named "prot" is not expected here
