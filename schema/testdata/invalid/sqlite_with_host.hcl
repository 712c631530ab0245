cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

registry "sqlite" {
  path = "/r.db"
  host = "10.0.0.9"
}

controller "c1" {
  server = server.s1
}

# want: 11:3 Unsupported argument: An argument named "host" is not expected here in a sqlite registry
