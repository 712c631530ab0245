cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
  port   = 0
}

# want: 11:12 Port out of range: "port" is 0; a port must be between 1 and 65535.
