cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

registry "sqlite" {
  path = "/r.db"
}

controller "c1" {
  server = server.s1
}

compose {
  dbgpt_image = "x"
}

# want: 17:1 Managed database needs a mysql registry: managed_database runs a MySQL service for the registry, but the registry is "sqlite"
