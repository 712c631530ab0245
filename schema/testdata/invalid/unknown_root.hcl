cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = servers.s1
}

# want: 10:12 Unknown reference: There is nothing called "servers"
