cluster {
  name = "t"
}

server "s1" {
  address   = "10.0.0.1"
  transport = "telnet"
}

controller "c1" {
  server = server.s1
}

# want: 7:15 Invalid transport: transport must be "ssh" or "local", not "telnet".
