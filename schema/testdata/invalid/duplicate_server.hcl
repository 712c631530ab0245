cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

server "s1" {
  address = "10.0.0.2"
}

controller "c1" {
  server = server.s1
}

# want: 9:8 Duplicate server name: A server named "s1" is already declared at 
