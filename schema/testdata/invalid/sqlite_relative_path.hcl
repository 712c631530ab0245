cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

registry "sqlite" {
  path = "registry.db"
}

controller "c1" {
  server = server.s1
}

# want: 10:10 Registry path not absolute: The SQLite registry path must be absolute on the controllers' server, not "registry.db".
