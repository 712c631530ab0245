cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s
}

# want: 10:12 Reference to undeclared server: No server named "s" is declared
