cluster {
  name = "t"
}

server "s1" {
  user = "root"
}

controller "c1" {
  server = server.s1
}

# want: 5:1 Missing server address: Server "s1" needs an address
