cluster {
  name = "t"
}

server "s1" {
  address  = "10.0.0.1"
  ssh_port = 100000
}

controller "c1" {
  server = server.s1
}

# want: 7:14 Port out of range: "ssh_port" is 100000; a port must be between 1 and 65535.
