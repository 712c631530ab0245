cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

server "s2" {
  address = "10.0.0.2"
}

registry "mysql" {
  host     = "127.0.0.1"
  database = "dbgpt"
  user     = "dbgpt"
  password = "x"
}

controller "c1" {
  server = server.s1
}

controller "c2" {
  server = server.s2
}

# want: 14:14 Registry host is loopback: The registry host "127.0.0.1" is the loopback address, but controllers run on 2 different servers: each would reach its own machine, not one shared database
