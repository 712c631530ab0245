cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
  port   = 80.5
}

# want: 11:12 Invalid number: "port" must be a whole number, not 80.5.
